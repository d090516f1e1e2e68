"""Voter rolls (docs/manifest.md §3): the one CSV parser and validator, without a database.

The officials' import (``app/services/roll_import.py``) and the credential authority
(``python -m ca issue``) read the same files with :func:`parse_roll`.  A roll is all or nothing:
every line is checked and every problem is reported with its line number (manifest.md §3.3)
in :class:`RollInvalid`; what is already on the roll and who is on the other roll are passed
in as sets by the caller.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, AbstractSet, Callable, Optional, TextIO

if TYPE_CHECKING:
    from .manifest import Manifest

MAX_PROBLEMS = 1000
MAX_NAME = 300
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# --- identifiers (manifest.md §3, §3.1) ------------------------------------------------------


def national_id_is_valid(value: str) -> bool:
    """True if ``value`` is 13 ASCII digits whose last digit is the mod-11 check digit.

    The check digit is (11 − Σ dᵢ·(14−i) mod 11) mod 10 over the first twelve digits dᵢ.
    """
    if len(value) != 13 or not value.isascii() or not value.isdigit():
        return False
    total = sum(int(value[i]) * (13 - i) for i in range(12))
    return (11 - total % 11) % 10 == int(value[12])


def national_id_check_digit(first_twelve: str) -> str:
    """The check digit that completes a 12-digit prefix (used by the demo roll generators)."""
    total = sum(int(first_twelve[i]) * (13 - i) for i in range(12))
    return str((11 - total % 11) % 10)


def employer_account_is_valid(value: str) -> bool:
    """Employer account numbers of the Social Security Office are 10 ASCII digits."""
    return len(value) == 10 and value.isascii() and value.isdigit()


# --- layouts (manifest.md §3: the header decides the electorate) ------------------------------


@dataclass(frozen=True)
class RollLayout:
    electorate: str
    key_column: str
    attribute_column: str
    name_column: str

    @property
    def required(self) -> set[str]:
        return {self.key_column, self.attribute_column}

    @property
    def allowed(self) -> set[str]:
        return self.required | {self.name_column}


LAYOUTS = {
    "insured": RollLayout("insured", "national_id", "date_of_birth", "name"),
    "employer": RollLayout("employer", "employer_account", "authorised_national_id", "employer_name"),
}


class RollInvalid(ValueError):
    """A roll breaks docs/manifest.md §3; ``problems`` names each problem by its line."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source}: " + "; ".join(problems[:20])
                         + (f"; … and {len(problems) - 20} more" if len(problems) > 20 else ""))
        self.source = source
        self.problems = problems


@dataclass(frozen=True)
class Roll:
    """A valid roll: ``rows`` are (voter key, attribute, name) in file order; ``values`` the
    manifest's attribute columns of each row (manifest.md §4.3), in the order of
    ``attribute_names`` (the manifest's declarations; empty without attributes)."""

    electorate: str
    rows: list[tuple[str, str, str]]
    attribute_names: tuple[str, ...] = ()
    values: list[tuple[str, ...]] = field(default_factory=list)

    @property
    def layout(self) -> RollLayout:
        return LAYOUTS[self.electorate]

    def attributes(self, index: int) -> dict[str, str]:
        """Row ``index``'s attribute values by name."""
        if not self.attribute_names:
            return {}
        return dict(zip(self.attribute_names, self.values[index]))

    def routes(self, manifest: "Manifest") -> list[str]:
        """The contest id of every row (manifest.md §4.2, :meth:`Manifest.route`), in row
        order.  ValueError if the manifest has no contest for a row."""
        cache: dict[tuple[str, ...], str] = {}
        out: list[str] = []
        for index in range(len(self.rows)):
            combo = self.values[index] if self.attribute_names else ()
            contest = cache.get(combo)
            if contest is None:
                contest = cache[combo] = manifest.route(self.electorate, self.attributes(index)).id
            out.append(contest)
        return out


def layout_for(header: list[str], electorate: Optional[str] = None,
               source: str = "roll") -> RollLayout:
    """The layout named by ``electorate`` or, if None, by the header's key column."""
    if electorate is not None:
        if electorate not in LAYOUTS:
            raise ValueError("electorate must be 'insured' or 'employer'")
        return LAYOUTS[electorate]
    for layout in LAYOUTS.values():
        if layout.key_column in header:
            return layout
    raise RollInvalid(
        source,
        ["line 1: header must name national_id,date_of_birth[,name] (insured) or "
         "employer_account,authorised_national_id[,employer_name] (employers)"],
    )


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


#: Called with the electorate once the header is read; returns (voter keys already on that
#: electorate's roll, national IDs on the other roll).
Known = Callable[[str], tuple[AbstractSet[str], AbstractSet[str]]]


def nothing_known(electorate: str) -> tuple[AbstractSet[str], AbstractSet[str]]:
    return frozenset(), frozenset()


def parse_roll(handle: TextIO, source: str = "roll", electorate: Optional[str] = None, *,
               known: Known = nothing_known,
               progress: Optional[Callable[[int], None]] = None,
               manifest: Optional["Manifest"] = None) -> Roll:
    """Read and check the whole CSV in ``handle`` (manifest.md §3); :class:`RollInvalid`
    listing every problem by line if anything is wrong.

    With ``manifest``, the roll must carry exactly the attribute columns the manifest declares
    for its electorate, each value one of the declared values (manifest.md §4.3); without it
    (or with none declared) it has only the columns of §3.

    ``known(electorate)`` gives the voter keys already on this electorate's roll and the
    national IDs on the other roll (for an insured roll the employers' authorised persons, for
    an employer roll the insured national IDs): a person may be on one roll only (manifest.md §3.3).
    ``progress`` is called with the number of rows read every 100,000 rows.
    """
    reader = csv.reader(handle)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise RollInvalid(source, ["line 1: the file is empty"]) from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise RollInvalid(source, [f"line 1: unreadable ({exc})"]) from None
    layout = layout_for(header, electorate, source)
    declarations = manifest.attributes_of(layout.electorate) if manifest is not None else ()
    attribute_names = tuple(a.name for a in declarations)
    declared_values = [frozenset(a.values) for a in declarations]
    shown_values = [", ".join(a.values) for a in declarations]
    existing_keys, other_ids = known(layout.electorate)
    problems: list[str] = []

    def problem(line: int, message: str) -> None:
        if len(problems) < MAX_PROBLEMS:
            problems.append(f"line {line}: {message}")
        elif len(problems) == MAX_PROBLEMS:
            problems.append("(more problems not listed)")

    allowed = layout.allowed | set(attribute_names)
    unknown = [h for h in header if h not in allowed]
    missing = sorted((layout.required | set(attribute_names)) - set(header))
    if unknown:
        problem(1, f"unknown column(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    if missing:
        problem(1, f"missing column(s) {', '.join(missing)}")
    if len(set(header)) != len(header):
        problem(1, "a column is named twice")
    if problems:
        raise RollInvalid(source, problems)

    key_at = header.index(layout.key_column)
    attr_at = header.index(layout.attribute_column)
    name_at = header.index(layout.name_column) if layout.name_column in header else None
    value_at = [header.index(n) for n in attribute_names]
    values: list[tuple[str, ...]] = []
    width = len(header)
    insured = layout.electorate == "insured"
    key_valid = national_id_is_valid if insured else employer_account_is_valid
    key_label = "national ID" if insured else "employer account number"
    seen: dict[str, int] = {}
    rows: list[tuple[str, str, str]] = []
    try:
        for record in reader:
            line = reader.line_num
            if not record or (len(record) == 1 and not record[0].strip()):
                continue
            if len(record) != width:
                problem(line, f"expected {width} fields, found {len(record)}")
                continue
            key = record[key_at].strip()
            attribute = record[attr_at].strip()
            name = record[name_at].strip() if name_at is not None else ""
            if not key_valid(key):
                problem(line, f"{key_label} {key!r} is not valid"
                        + (" (13 digits with a correct check digit)" if insured else " (10 digits)"))
                continue
            if key in seen:
                problem(line, f"{key_label} {key} appears again (first on line {seen[key]})")
                continue
            seen[key] = line
            if key in existing_keys:
                problem(line, f"{key_label} {key} is already on the roll")
            if insured:
                if not _DATE.match(attribute) or not _is_date(attribute):
                    problem(line, f"date_of_birth {attribute!r} is not a date (YYYY-MM-DD)")
                if key in other_ids:
                    problem(line, f"national ID {key} is also an employer's authorised person: "
                                  "a voter may be on one roll only")
            else:
                if not national_id_is_valid(attribute):
                    problem(line, f"authorised_national_id {attribute!r} is not a valid national ID")
                elif attribute in other_ids:
                    problem(line, f"authorised person {attribute} is also on the insured roll: "
                                  "a voter may be on one roll only")
            if len(name) > MAX_NAME:
                problem(line, f"name longer than {MAX_NAME} characters")
            if value_at:
                row_values = tuple(record[at] for at in value_at)  # exact: manifest.md §4.3
                for n, value in enumerate(row_values):
                    if value not in declared_values[n]:
                        problem(line, f"{attribute_names[n]}: {value!r} is not one of "
                                      f"{shown_values[n]}")
                values.append(row_values)
            rows.append((key, attribute, name))
            if progress and len(rows) % 100_000 == 0:
                progress(len(rows))
    except (csv.Error, UnicodeDecodeError) as exc:
        problem(reader.line_num, f"unreadable ({exc})")
    if problems:
        raise RollInvalid(source, problems)
    if not rows:
        raise RollInvalid(source, ["the file has a header but no voters"])
    return Roll(layout.electorate, rows, attribute_names, values)


def read_roll(path: str | Path, electorate: Optional[str] = None, *,
              known: Known = nothing_known,
              progress: Optional[Callable[[int], None]] = None,
              manifest: Optional["Manifest"] = None) -> Roll:
    """:func:`parse_roll` of the file at ``path`` (UTF-8, an Excel byte-order mark accepted)."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return parse_roll(handle, str(path), electorate, known=known, progress=progress,
                          manifest=manifest)


def person_ids(roll: Roll) -> set[str]:
    """The national IDs of the persons on ``roll``: the voter keys of an insured roll, the
    authorised persons of an employer roll (for the one-roll-only check, manifest.md §3.3)."""
    return {key if roll.electorate == "insured" else attribute for key, attribute, _ in roll.rows}

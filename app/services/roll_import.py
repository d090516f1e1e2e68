"""Importing voter rolls from CSV (docs/manifest.md §3).

An import is all or nothing: every line is checked first, every problem is reported with its
line number, and rows are written only when the whole file is valid, in one transaction.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable, Iterable, TextIO

from flask import current_app
from sqlalchemy import insert, select

from app.extensions import db
from app.models import Election, RollEntry
from app.services import audit
from app.services.errors import InputFileError, ServiceError
from app.services.identifiers import (
    employer_account_is_valid,
    national_id_is_valid,
    pseudonym,
)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CHUNK = 20_000
_MAX_PROBLEMS = 1000


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


@dataclass(frozen=True)
class ImportResult:
    electorate: str
    imported: int


def _layout_for(header: list[str], electorate: str | None) -> RollLayout:
    if electorate is not None:
        if electorate not in LAYOUTS:
            raise ServiceError("electorate must be 'insured' or 'employer'")
        return LAYOUTS[electorate]
    for layout in LAYOUTS.values():
        if layout.key_column in header:
            return layout
    raise InputFileError(
        "roll",
        ["line 1: header must name national_id,date_of_birth[,name] (insured) or "
         "employer_account,authorised_national_id[,employer_name] (employers)"],
    )


def import_roll_file(slug_or_election: str | Election, path: str | Path, electorate: str | None = None,
                     actor: str = "cli", progress: Callable[[int], None] | None = None) -> ImportResult:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return import_roll(slug_or_election, handle, electorate, actor, str(path), progress)


def import_roll(election: str | Election, handle: TextIO, electorate: str | None = None,
                actor: str = "cli", source: str = "roll",
                progress: Callable[[int], None] | None = None) -> ImportResult:
    """Validate the whole CSV in ``handle``, then insert it in one transaction."""
    if isinstance(election, str):
        from app.services.manifest import get_election

        election = get_election(election)
    if election.status != "draft":
        raise ServiceError("the roll cannot change once polls have opened")
    reader = csv.reader(handle)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise InputFileError(source, ["line 1: the file is empty"])
    except (csv.Error, UnicodeDecodeError) as exc:
        raise InputFileError(source, [f"line 1: unreadable ({exc})"])
    layout = _layout_for(header, electorate)
    problems: list[str] = []

    def problem(line: int, message: str) -> None:
        if len(problems) < _MAX_PROBLEMS:
            problems.append(f"line {line}: {message}")
        elif len(problems) == _MAX_PROBLEMS:
            problems.append("(more problems not listed)")

    unknown = [h for h in header if h not in layout.allowed]
    missing = sorted(layout.required - set(header))
    if unknown:
        problem(1, f"unknown column(s) {', '.join(unknown)}; allowed: {', '.join(sorted(layout.allowed))}")
    if missing:
        problem(1, f"missing column(s) {', '.join(missing)}")
    if len(set(header)) != len(header):
        problem(1, "a column is named twice")
    if problems:
        raise InputFileError(source, problems)

    key_at = header.index(layout.key_column)
    attr_at = header.index(layout.attribute_column)
    name_at = header.index(layout.name_column) if layout.name_column in header else None
    width = len(header)
    key_valid = national_id_is_valid if layout.electorate == "insured" else employer_account_is_valid
    key_label = "national ID" if layout.electorate == "insured" else "employer account number"

    existing_keys = set(
        db.session.scalars(
            select(RollEntry.voter_key).where(
                RollEntry.election_pk == election.id, RollEntry.electorate == layout.electorate
            )
        )
    )
    # A person may vote in one electorate only (docs/manifest.md §3.3): an insured national
    # ID must not also be an employer's authorised person, and vice versa.
    other = "employer" if layout.electorate == "insured" else "insured"
    other_column = RollEntry.attribute if other == "employer" else RollEntry.voter_key
    other_ids = set(
        db.session.scalars(
            select(other_column).where(RollEntry.election_pk == election.id, RollEntry.electorate == other)
        )
    )
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
                        + (" (13 digits with a correct check digit)" if layout.electorate == "insured" else " (10 digits)"))
                continue
            if key in seen:
                problem(line, f"{key_label} {key} appears again (first on line {seen[key]})")
                continue
            seen[key] = line
            if key in existing_keys:
                problem(line, f"{key_label} {key} is already on the roll")
            if layout.electorate == "insured":
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
            if len(name) > 300:
                problem(line, "name longer than 300 characters")
            rows.append((key, attribute, name))
            if progress and len(rows) % 100_000 == 0:
                progress(len(rows))
    except (csv.Error, UnicodeDecodeError) as exc:
        problem(reader.line_num, f"unreadable ({exc})")
    if problems:
        raise InputFileError(source, problems)
    if not rows:
        raise InputFileError(source, ["the file has a header but no voters"])

    hmac_key = current_app.config["SSBVOTE"].pseudonym_key
    try:
        for chunk in _chunks(rows, _CHUNK):
            db.session.execute(
                insert(RollEntry),
                [
                    {
                        "election_pk": election.id,
                        "electorate": layout.electorate,
                        "voter_key": k,
                        "attribute": a,
                        "display_name": n,
                        "pseudonym": pseudonym(hmac_key, election.election_id, layout.electorate, k),
                    }
                    for k, a, n in chunk
                ],
            )
        audit.record(actor, "roll.import", election.slug,
                     {"electorate": layout.electorate, "rows": len(rows), "source": source})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return ImportResult(layout.electorate, len(rows))


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _chunks(rows: list[tuple[str, str, str]], size: int) -> Iterable[list[tuple[str, str, str]]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def import_roll_text(election: str | Election, text: str, electorate: str | None = None,
                     actor: str = "cli") -> ImportResult:
    """Convenience for tests and the web upload: import CSV given as text."""
    return import_roll(election, io.StringIO(text), electorate, actor)

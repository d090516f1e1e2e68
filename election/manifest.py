"""The election manifest (docs/manifest.md): the one validator and parser.

:func:`validate` names every problem by its field path (manifest.md §2); :class:`Manifest` is
the typed, validated view.  The manifest is published exactly as its canonical JSON
(docs/protocol.md §2.1) and the SHA-256 of those bytes is the election id (manifest.md §1.1).
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
import itertools
from typing import Any, Iterable, Mapping, Optional

from crypto.encoding import canonical_json, parse_json, strict_loads
from crypto.errors import InvalidInput

from .errors import ManifestInvalid

MANIFEST_FORMAT = "ssbvote-manifest/1"
MANIFEST_FORMAT_2 = "ssbvote-manifest/2"  # manifest.md §4 (issue 21: rules as data)
MANIFEST_FORMATS = (MANIFEST_FORMAT, MANIFEST_FORMAT_2)
ELECTORATES = ("insured", "employer")
MAX_CANDIDATES = 1000
MAX_CONTESTS = 50  # manifest.md §4.1
MAX_VALUES = 100  # values per attribute declaration (§4.1)
MAX_COMBINATIONS = 10_000  # combinations of declared values per electorate (§4.2)
#: The columns of manifest.md §3, which an attribute may not be named as (§4.1).
ROLL_COLUMNS = frozenset({"national_id", "date_of_birth", "name", "employer_account",
                          "authorised_national_id", "employer_name"})
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_ATTRIBUTE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_VALUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


# --- types -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """A bilingual text (manifest.md §1: ``{"th": …, "en": …}``)."""

    th: str
    en: str

    def to_dict(self) -> dict[str, str]:
        return {"th": self.th, "en": self.en}


@dataclass(frozen=True)
class Team:
    id: str
    name: Text


@dataclass(frozen=True)
class Candidate:
    id: str
    number: int  # the ballot number
    name: Text
    team: Optional[str]


@dataclass(frozen=True)
class Attribute:
    """A roll attribute declaration (manifest.md §4.1): a column of the electorate's roll."""

    name: str
    title: Text
    values: tuple[str, ...]


#: A contest's eligibility filter: (attribute name, allowed values), sorted by name
#: (manifest.md §4.1; empty = every voter of the electorate).
Eligibility = tuple[tuple[str, frozenset[str]], ...]


def is_eligible(eligibility: Eligibility, values: Mapping[str, str]) -> bool:
    """Is a roll entry with attribute ``values`` eligible for a contest with ``eligibility``
    (manifest.md §4.2): for every key of the filter, the entry's value is in its list."""
    return all(values.get(name) in allowed for name, allowed in eligibility)


@dataclass(frozen=True)
class Contest:
    """A contest; ``candidates`` in ballot order (the i-th is the ballot's i-th ciphertext).

    ``seats`` is how many candidates are elected (manifest.md §4.1; format 1:
    ``max_selections``) — the one seat count that results, the tie rule and the lot use."""

    id: str
    electorate: str
    max_selections: int
    title: Text
    teams: tuple[Team, ...]
    candidates: tuple[Candidate, ...]
    seats: int = 0  # 0: as max_selections (a format-1 contest built by hand)
    eligibility: Eligibility = ()

    def __post_init__(self) -> None:
        if self.seats == 0:
            object.__setattr__(self, "seats", self.max_selections)

    def admits(self, values: Mapping[str, str]) -> bool:
        """Is a roll entry with attribute ``values`` eligible for this contest (§4.2)?"""
        return is_eligible(self.eligibility, values)


@dataclass(frozen=True)
class PollWindow:
    """When ballots may be cast: ``opens <= now < closes`` (manifest.md §1)."""

    opens: datetime
    closes: datetime

    def contains(self, now: datetime) -> bool:
        return self.opens <= now < self.closes


@dataclass(frozen=True)
class Manifest:
    """A valid manifest; ``election_id`` is the hash of its canonical bytes (manifest.md §1.1)."""

    election_id: str
    slug: str
    title: Text
    poll_window: PollWindow
    contests: tuple[Contest, ...]
    #: electorate → its attribute declarations (manifest.md §4.1; format 1: none)
    roll_attributes: Mapping[str, tuple[Attribute, ...]] = field(default_factory=dict)
    format: int = 1

    def contest(self, contest_id: str) -> Contest:
        for c in self.contests:
            if c.id == contest_id:
                return c
        raise KeyError(contest_id)

    def contests_of(self, electorate: str) -> tuple[Contest, ...]:
        """The contests of ``electorate``, in manifest order."""
        return tuple(c for c in self.contests if c.electorate == electorate)

    def attributes_of(self, electorate: str) -> tuple[Attribute, ...]:
        """The attribute declarations of ``electorate`` (its roll's extra columns, §4.3)."""
        return tuple(self.roll_attributes.get(electorate, ()))

    def route(self, electorate: str, values: Mapping[str, str]) -> Contest:
        """The one contest a roll entry of ``electorate`` with attribute ``values`` is routed to
        (manifest.md §4.2).  ValueError if there is none (an electorate without a contest, or
        values that are not declared — a valid manifest routes every declared combination)."""
        found = route_of(self.contests_of(electorate), values)
        if found is None:
            shown = " ".join(f"{k}={v}" for k, v in sorted(values.items()))
            raise ValueError(f"no {electorate} contest for {shown or 'this voter'}")
        return found

    def contest_for(self, electorate: str) -> Optional[Contest]:
        """The contest of ``electorate`` when it has exactly one and no attributes (format 1's
        rule); None otherwise — voters are routed by :meth:`route`."""
        contests = self.contests_of(electorate)
        if len(contests) == 1 and not self.attributes_of(electorate):
            return contests[0]
        return None

    @property
    def contest_ids(self) -> list[str]:
        return sorted(c.id for c in self.contests)

    @classmethod
    def from_dict(cls, data: Any) -> Manifest:
        """The typed view of ``data``, or :class:`ManifestInvalid` listing every problem."""
        problems = validate(data)
        if problems:
            raise ManifestInvalid(problems)
        window = data["poll_window"]
        return cls(
            election_id=election_id_of(data),
            slug=data["election"],
            title=_to_text(data["title"]),
            poll_window=PollWindow(datetime.fromisoformat(window["opens"]),
                                   datetime.fromisoformat(window["closes"])),
            contests=tuple(_to_contest(c) for c in data["contests"]),
            roll_attributes={e: tuple(Attribute(a["name"], _to_text(a["title"]), tuple(a["values"]))
                                      for a in decls)
                             for e, decls in sorted(data.get("roll_attributes", {}).items())},
            format=MANIFEST_FORMATS.index(data["format"]) + 1,
        )

    @classmethod
    def from_bytes(cls, raw: bytes) -> Manifest:
        """A published manifest (``manifest.json``): strict JSON that must be exactly the
        canonical bytes (manifest.md §1.1), then :meth:`from_dict`.  ValueError (with the
        crypto layer's message, or :class:`ManifestInvalid`) if not."""
        data = parse_json(raw, "manifest")
        if canonical_json(data) != raw:
            raise ManifestInvalid(["manifest.json is not the canonical manifest bytes"])
        return cls.from_dict(data)


def _to_text(obj: Mapping[str, str]) -> Text:
    return Text(obj["th"], obj["en"])


def _eligibility(c: Mapping[str, Any]) -> Eligibility:
    return tuple((name, frozenset(values)) for name, values in sorted(c.get("eligibility", {}).items()))


def _to_contest(c: Mapping[str, Any]) -> Contest:
    return Contest(
        id=c["id"], electorate=c["electorate"], max_selections=c["max_selections"],
        title=_to_text(c["title"]),
        teams=tuple(Team(t["id"], _to_text(t["name"])) for t in c["teams"]),
        candidates=tuple(Candidate(x["id"], x["number"], _to_text(x["name"]), x["team"])
                         for x in c["candidates"]),
        seats=c.get("seats", c["max_selections"]),
        eligibility=_eligibility(c),
    )


def route_of(contests: Iterable[Contest], values: Mapping[str, str]) -> Optional[Contest]:
    """The routing rule (manifest.md §4.2), the one implementation: the contest among
    ``contests`` (one electorate's) that ``values`` is eligible for, if exactly one is."""
    eligible = [c for c in contests if c.admits(values)]
    return eligible[0] if len(eligible) == 1 else None


def election_id_of(manifest: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical manifest: the election id (manifest.md §1.1)."""
    return hashlib.sha256(canonical_json(manifest)).hexdigest()


def parse_text(text: str) -> dict[str, Any]:
    """Parse and validate manifest JSON text (as an official uploads it); the manifest as a
    dict, or :class:`ManifestInvalid` (malformed JSON: its line and column, manifest.md §2)."""
    try:
        manifest = strict_loads(text, "manifest")  # duplicate keys, huge numbers: §2.3
    except json.JSONDecodeError as exc:
        raise ManifestInvalid([f"line {exc.lineno}, column {exc.colno}: {exc.msg}"]) from None
    except InvalidInput as exc:
        raise ManifestInvalid([str(exc)]) from None
    problems = validate(manifest)
    if problems:
        raise ManifestInvalid(problems)
    return manifest  # type: ignore[no-any-return]


# --- validation (manifest.md §1, every problem named by its field path, §2) -----------------


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(f"{path}: {message}")


def _expect_keys(obj: Any, path: str, required: set[str], optional: set[str], p: _Problems) -> bool:
    if not isinstance(obj, dict):
        p.add(path, "must be a JSON object")
        return False
    unknown = set(obj) - required - optional
    missing = required - set(obj)
    for key in sorted(unknown):
        p.add(f"{path}.{key}" if path else key, "unknown field")
    for key in sorted(missing):
        p.add(f"{path}.{key}" if path else key, "missing field")
    return not missing


def _text(obj: Any, path: str, p: _Problems) -> None:
    if _expect_keys(obj, path, {"th", "en"}, set(), p):
        for lang in ("th", "en"):
            value = obj[lang]
            if not isinstance(value, str) or not value.strip() or len(value) > 300:
                p.add(f"{path}.{lang}", "must be non-empty text of at most 300 characters")


def _timestamp(value: Any, path: str, p: _Problems) -> Optional[datetime]:
    if not isinstance(value, str):
        p.add(path, "must be an ISO 8601 timestamp with a time zone")
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        p.add(path, f"{value!r} is not an ISO 8601 timestamp")
        return None
    if parsed.tzinfo is None:
        p.add(path, f"{value!r} has no time zone (write e.g. +07:00)")
        return None
    return parsed


def validate(manifest: Any) -> list[str]:
    """Every problem found in ``manifest`` (manifest.md §1–§2, format 2: §4); empty if valid."""
    p = _Problems()
    fmt = manifest.get("format") if isinstance(manifest, dict) else None
    v2 = fmt != MANIFEST_FORMAT  # an unknown format is checked as the newest
    if not _expect_keys(
        manifest, "", {"format", "election", "title", "poll_window", "contests"},
        {"roll_attributes"} if v2 else set(), p
    ):
        return p.items
    if fmt not in MANIFEST_FORMATS:
        p.add("format", f"must be {MANIFEST_FORMAT_2!r} (or {MANIFEST_FORMAT!r})")
    if not isinstance(manifest["election"], str) or not _SLUG.match(manifest["election"]):
        p.add("election", "must be a short id of lowercase letters, digits and '-'")
    _text(manifest["title"], "title", p)
    window = manifest["poll_window"]
    if _expect_keys(window, "poll_window", {"opens", "closes"}, set(), p):
        opens = _timestamp(window["opens"], "poll_window.opens", p)
        closes = _timestamp(window["closes"], "poll_window.closes", p)
        if opens and closes and closes <= opens:
            p.add("poll_window", "closes must be after opens")
    declared = _validate_attributes(manifest.get("roll_attributes", {}), p) if v2 else {}
    attributes_ok = not any(i.startswith("roll_attributes") for i in p.items)
    contests = manifest["contests"]
    if not isinstance(contests, list) or not contests:
        p.add("contests", "must be a non-empty list")
        return p.items
    if v2 and len(contests) > MAX_CONTESTS:
        p.add("contests", f"at most {MAX_CONTESTS} contests")
    seen_codes: set[str] = set()
    seen_electorates: set[str] = set()
    before = len(p.items)
    for i, contest in enumerate(contests):
        _validate_contest(contest, f"contests[{i}]", seen_codes, seen_electorates, p,
                          declared if v2 else None)
    if v2 and attributes_ok and len(p.items) == before:
        _validate_routing(declared, [_to_contest(c) for c in contests], p)
    return p.items


def _validate_attributes(obj: Any, p: _Problems) -> dict[str, dict[str, tuple[str, ...]]]:
    """``roll_attributes`` (manifest.md §4.1): electorate → attribute name → declared values."""
    declared: dict[str, dict[str, tuple[str, ...]]] = {}
    if not isinstance(obj, dict):
        p.add("roll_attributes", "must be a JSON object")
        return declared
    for electorate, decls in obj.items():
        path = f"roll_attributes.{electorate}"
        if electorate not in ELECTORATES:
            p.add(path, "unknown electorate (must be 'insured' or 'employer')")
            continue
        if not isinstance(decls, list) or not decls:
            p.add(path, "must be a non-empty list of attribute declarations")
            continue
        names: dict[str, tuple[str, ...]] = {}
        for j, decl in enumerate(decls):
            dpath = f"{path}[{j}]"
            if not _expect_keys(decl, dpath, {"name", "title", "values"}, set(), p):
                continue
            name = decl["name"]
            good_name = False
            if not isinstance(name, str) or not _ATTRIBUTE.match(name):
                p.add(f"{dpath}.name", "must match [a-z][a-z0-9_]{0,31}")
            elif name in ROLL_COLUMNS:
                p.add(f"{dpath}.name", f"{name!r} is a column of the roll itself (manifest.md §3)")
            elif name in names:
                p.add(f"{dpath}.name", f"duplicate attribute {name!r}")
            else:
                good_name = True
            _text(decl["title"], f"{dpath}.title", p)
            values = decl["values"]
            if not isinstance(values, list) or not values:
                p.add(f"{dpath}.values", "must be a non-empty list")
                continue
            if len(values) > MAX_VALUES:
                p.add(f"{dpath}.values", f"at most {MAX_VALUES} values")
            ok = True
            for k, value in enumerate(values):
                if not isinstance(value, str) or not _VALUE.match(value):
                    p.add(f"{dpath}.values[{k}]", "must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
                    ok = False
                elif value in values[:k]:
                    p.add(f"{dpath}.values[{k}]", f"duplicate value {value!r}")
                    ok = False
            if good_name and ok:
                names[name] = tuple(values)
        declared[electorate] = names
    return declared


def _combination(values: Mapping[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in values.items()) or "every voter"


def _validate_routing(declared: Mapping[str, Mapping[str, tuple[str, ...]]],
                      contests: list[Contest], p: _Problems) -> None:
    """The static routing rule (manifest.md §4.2): every combination of an electorate's declared
    values is eligible for exactly one of its contests."""
    for electorate in ELECTORATES:
        mine = [c for c in contests if c.electorate == electorate]
        attributes = dict(declared.get(electorate, {}))
        if not mine:
            if electorate in declared:
                p.add(f"roll_attributes.{electorate}",
                      f"declared, but there is no {electorate} contest to route to")
            continue
        count = 1
        for declared_values in attributes.values():
            count *= len(declared_values)
        if count > MAX_COMBINATIONS:
            p.add(f"roll_attributes.{electorate}",
                  f"{count} combinations of values (at most {MAX_COMBINATIONS})")
            continue
        names = list(attributes)
        bad = 0
        for combo in itertools.product(*(attributes[n] for n in names)):
            entry = dict(zip(names, combo))
            eligible = [c.id for c in mine if c.admits(entry)]
            if len(eligible) == 1:
                continue
            bad += 1
            if bad > 20:
                continue
            if not eligible:
                p.add("contests", f"{electorate} {_combination(entry)} is in no contest")
            else:
                p.add("contests", f"{electorate} {_combination(entry)} is in {len(eligible)} "
                                  f"contests ({', '.join(eligible)})")
        if bad > 20:
            p.add("contests", f"{electorate}: … and {bad - 20} more combinations not routed to "
                              "exactly one contest")


def _validate_contest(
    contest: Any, path: str, codes: set[str], electorates: set[str], p: _Problems,
    declared: Optional[Mapping[str, Mapping[str, tuple[str, ...]]]] = None,
) -> None:
    """One contest; ``declared`` is None for format 1, else format 2's attributes (§4.1)."""
    v2 = declared is not None
    if not _expect_keys(
        contest,
        path,
        {"id", "electorate", "max_selections", "title", "teams", "candidates"}
        | ({"seats"} if v2 else set()),
        {"eligibility"} if v2 else set(),
        p,
    ):
        return
    code = contest["id"]
    if not isinstance(code, str) or not _CODE.match(code):
        p.add(f"{path}.id", "must be a short id of letters, digits, '_' and '-'")
    elif code in codes:
        p.add(f"{path}.id", f"duplicate contest id {code!r}")
    else:
        codes.add(code)
    electorate = contest["electorate"]
    if electorate not in ELECTORATES:
        p.add(f"{path}.electorate", "must be 'insured' or 'employer'")
    elif electorate in electorates and not v2:
        p.add(f"{path}.electorate", f"a second contest for the {electorate} electorate "
                                    f"(format 1; format 2 routes voters by attributes)")
    else:
        electorates.add(electorate)
    if declared is not None and "eligibility" in contest:
        _validate_eligibility(contest["eligibility"], f"{path}.eligibility",
                              declared.get(electorate, {}) if isinstance(electorate, str) else {},
                              electorate, p)
    _text(contest["title"], f"{path}.title", p)
    teams = contest["teams"]
    team_codes: set[str] = set()
    if not isinstance(teams, list):
        p.add(f"{path}.teams", "must be a list (it may be empty)")
        teams = []
    for j, team in enumerate(teams):
        tpath = f"{path}.teams[{j}]"
        if _expect_keys(team, tpath, {"id", "name"}, set(), p):
            if not isinstance(team["id"], str) or not _CODE.match(team["id"]):
                p.add(f"{tpath}.id", "must be a short id")
            elif team["id"] in team_codes:
                p.add(f"{tpath}.id", f"duplicate team id {team['id']!r}")
            else:
                team_codes.add(team["id"])
            _text(team["name"], f"{tpath}.name", p)
    candidates = contest["candidates"]
    if not isinstance(candidates, list) or not candidates:
        p.add(f"{path}.candidates", "must be a non-empty list")
        candidates = []
    if len(candidates) > MAX_CANDIDATES:
        p.add(f"{path}.candidates", f"at most {MAX_CANDIDATES} candidates")
    ids: set[str] = set()
    numbers: set[int] = set()
    for j, cand in enumerate(candidates):
        cpath = f"{path}.candidates[{j}]"
        if not _expect_keys(cand, cpath, {"id", "number", "name", "team"}, set(), p):
            continue
        if not isinstance(cand["id"], str) or not _CODE.match(cand["id"]):
            p.add(f"{cpath}.id", "must be a short id")
        elif cand["id"] in ids:
            p.add(f"{cpath}.id", f"duplicate candidate id {cand['id']!r}")
        else:
            ids.add(cand["id"])
        number = cand["number"]
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            p.add(f"{cpath}.number", "must be a positive whole number")
        elif number in numbers:
            p.add(f"{cpath}.number", f"duplicate ballot number {number}")
        else:
            numbers.add(number)
        _text(cand["name"], f"{cpath}.name", p)
        if cand["team"] is not None and (not isinstance(cand["team"], str)
                                         or cand["team"] not in team_codes):
            p.add(f"{cpath}.team", f"unknown team {cand['team']!r}")
    k = contest["max_selections"]
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        p.add(f"{path}.max_selections", "must be a whole number of at least 1")
    elif candidates and k > len(candidates):
        p.add(f"{path}.max_selections", f"{k} is more than the {len(candidates)} candidates")
    if v2:
        seats = contest["seats"]
        if not isinstance(seats, int) or isinstance(seats, bool) or seats < 1:
            p.add(f"{path}.seats", "must be a whole number of at least 1")
        elif candidates and seats > len(candidates):
            p.add(f"{path}.seats", f"{seats} is more than the {len(candidates)} candidates")


def _validate_eligibility(obj: Any, path: str, declared: Mapping[str, tuple[str, ...]],
                          electorate: Any, p: _Problems) -> None:
    if not isinstance(obj, dict):
        p.add(path, "must be a JSON object {attribute: [values]}")
        return
    for name, values in obj.items():
        if name not in declared:
            p.add(f"{path}.{name}", f"not an attribute declared for the {electorate} electorate")
            continue
        if not isinstance(values, list) or not values:
            p.add(f"{path}.{name}", "must be a non-empty list of declared values")
            continue
        for k, value in enumerate(values):
            if not isinstance(value, str) or value not in declared[name]:
                p.add(f"{path}.{name}[{k}]", f"{value!r} is not one of "
                                              f"{', '.join(declared[name])}")
            elif value in values[:k]:
                p.add(f"{path}.{name}[{k}]", f"duplicate value {value!r}")

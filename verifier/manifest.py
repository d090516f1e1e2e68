"""The election manifest as the verifier reads it — docs/manifest.md §1 (format 1) and §4
(format 2: roll attributes, contests with eligibility filters, seats).

Two levels:

* :func:`parse_manifest` / :func:`parse_contests` read what the checks need (contest ids, their
  electorate, k, seats, candidates in ballot order, filters), raising :class:`InvalidInput` at
  the first thing that makes the contests unusable (check 3 reports it);
* :func:`manifest_problems` validates the whole manifest against §1 / §4.1 and
  :func:`routing_problems` applies the routing rule of §4.2 — every combination of an
  electorate's declared attribute values eligible for exactly one of its contests (check 37).

A format-1 manifest is read as format 2 with no roll attributes, no ``eligibility`` and
``seats`` = ``max_selections`` (§4.4).
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterator

from verifier.encoding import expect_list, expect_str, parse_count
from verifier.errors import InvalidInput

FORMAT_1 = "ssbvote-manifest/1"
FORMAT_2 = "ssbvote-manifest/2"
MANIFEST_FORMATS = (FORMAT_1, FORMAT_2)
MANIFEST_FORMAT = FORMAT_1  # the format of §1 (kept for callers naming it)
ELECTORATES = ("insured", "employer")
MAX_CONTESTS = 50  # format 2 (§4.1); format 1 has one or two
MAX_CANDIDATES = 1000
MAX_SELECTIONS_LIMIT = 64  # the ballot proofs' bound on k (docs/protocol.md)
MAX_COMBINATIONS = 10_000  # §4.2: the Cartesian product of an electorate's declared values
MAX_VALUES = 100  # per attribute (§4.1)
#: the columns of the rolls of §3 (an attribute may not be named as one)
ROLL_COLUMNS = ("national_id", "date_of_birth", "name", "employer_account",
                "authorised_national_id", "employer_name")

ELECTION_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}\Z")
CONTEST_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\Z")
ATTRIBUTE_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}\Z")
VALUE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")
TEXT_MAX = 300

MANIFEST_KEYS = {FORMAT_1: ("format", "election", "title", "poll_window", "contests"),
                 FORMAT_2: ("format", "election", "title", "poll_window", "roll_attributes",
                            "contests")}
MANIFEST_REQUIRED = ("format", "election", "title", "poll_window", "contests")
CONTEST_KEYS = ("id", "electorate", "max_selections", "title", "teams", "candidates")
CONTEST_KEYS_2 = CONTEST_KEYS + ("eligibility", "seats")
CONTEST_REQUIRED_2 = CONTEST_KEYS + ("seats",)


@dataclass(frozen=True)
class Candidate:
    id: str
    number: int
    raw: Any  # the manifest's candidate object (id, number, name, team)


@dataclass(frozen=True)
class Contest:
    id: str
    max_selections: int
    candidates: tuple[Candidate, ...]
    electorate: str = "insured"
    #: how many are elected (§4.1; format 1: ``max_selections``); 0: take ``max_selections``
    seats: int = 0
    #: attribute → the values eligible (§4.1); empty: every voter of the electorate
    eligibility: tuple[tuple[str, frozenset[str]], ...] = ()

    def __post_init__(self) -> None:
        if self.seats == 0:
            object.__setattr__(self, "seats", self.max_selections)

    @property
    def size(self) -> int:
        return len(self.candidates)


@dataclass(frozen=True)
class Attribute:
    name: str
    values: tuple[str, ...]


@dataclass
class Manifest:
    format: str
    contests: dict[str, Contest]
    #: electorate → its declared attributes, in declaration order (format 1: none)
    attributes: dict[str, tuple[Attribute, ...]] = field(default_factory=dict)


# --- reading what the checks need -------------------------------------------------------------

def _attributes(manifest: dict[str, Any]) -> dict[str, tuple[Attribute, ...]]:
    declared = manifest.get("roll_attributes", {})
    if not isinstance(declared, dict):
        raise InvalidInput("manifest.roll_attributes: not an object")
    out: dict[str, tuple[Attribute, ...]] = {}
    for electorate, decls in declared.items():
        where = f"roll_attributes.{electorate}"
        attrs = []
        for i, d in enumerate(expect_list(decls, where)):
            if not isinstance(d, dict):
                raise InvalidInput(f"{where}[{i}]: not an object")
            name = expect_str(d.get("name"), f"{where}[{i}].name")
            values = expect_list(d.get("values"), f"{where}[{i}].values")
            attrs.append(Attribute(name, tuple(expect_str(v, f"{where}[{i}].values[]")
                                               for v in values)))
        out[electorate] = tuple(attrs)
    return out


def _eligibility(c: dict[str, Any], where: str) -> tuple[tuple[str, frozenset[str]], ...]:
    if "eligibility" not in c:
        return ()
    el = c["eligibility"]
    if not isinstance(el, dict):
        raise InvalidInput(f"{where}.eligibility: not an object")
    return tuple((name, frozenset(expect_str(v, f"{where}.eligibility.{name}[]")
                                  for v in expect_list(values, f"{where}.eligibility.{name}")))
                 for name, values in el.items())


def parse_manifest(manifest: Any) -> Manifest:
    """The contests (ids, electorate, k, seats, candidates in ballot order, filters) and the
    declared attributes; raises InvalidInput naming the field at the first thing that makes
    them unusable.  The rules that do not (the routing rule, texts, teams, …) are
    :func:`manifest_problems`'."""
    if not isinstance(manifest, dict):
        raise InvalidInput("manifest: not an object")
    fmt = manifest.get("format")
    if fmt not in MANIFEST_FORMATS:
        raise InvalidInput(f"manifest.format: not {FORMAT_1} or {FORMAT_2}")
    out: dict[str, Contest] = {}
    contests = expect_list(manifest.get("contests"), "manifest.contests")
    if not contests:
        raise InvalidInput("manifest.contests: no contest")
    for ci, c in enumerate(contests):
        where = f"contests[{ci}]"
        if not isinstance(c, dict):
            raise InvalidInput(f"{where}: not an object")
        cid = expect_str(c.get("id"), f"{where}.id")
        if cid in out:
            raise InvalidInput(f"{where}.id: duplicate contest id {cid}")
        electorate = expect_str(c.get("electorate"), f"{where}.electorate")
        if electorate not in ELECTORATES:
            raise InvalidInput(f"{where}.electorate: not one of {', '.join(ELECTORATES)}")
        cands = expect_list(c.get("candidates"), f"{where}.candidates")
        if not 1 <= len(cands) <= MAX_CANDIDATES:
            raise InvalidInput(f"{where}.candidates: 1 to {MAX_CANDIDATES} candidates expected")
        k = parse_count(c.get("max_selections"), f"{where}.max_selections", 1,
                        min(len(cands), MAX_SELECTIONS_LIMIT))
        seats = k if fmt == FORMAT_1 else parse_count(c.get("seats"), f"{where}.seats", 1,
                                                      len(cands))
        parsed = []
        ids, numbers = set(), set()
        for ki, cand in enumerate(cands):
            w = f"{where}.candidates[{ki}]"
            if not isinstance(cand, dict):
                raise InvalidInput(f"{w}: not an object")
            cand_id = expect_str(cand.get("id"), f"{w}.id")
            number = parse_count(cand.get("number"), f"{w}.number", 1)
            if cand_id in ids:
                raise InvalidInput(f"{w}.id: duplicate candidate id {cand_id}")
            if number in numbers:
                raise InvalidInput(f"{w}.number: duplicate ballot number {number}")
            ids.add(cand_id)
            numbers.add(number)
            parsed.append(Candidate(cand_id, number, cand))
        eligibility = _eligibility(c, where) if fmt == FORMAT_2 else ()
        out[cid] = Contest(cid, k, tuple(parsed), electorate, seats, eligibility)
    attributes = _attributes(manifest) if fmt == FORMAT_2 else {}
    return Manifest(str(fmt), out, attributes)


def parse_contests(manifest: Any) -> dict[str, Contest]:
    """Contest ids, k, seats and candidates in ballot order (:func:`parse_manifest`)."""
    return parse_manifest(manifest).contests


# --- the whole manifest (check 37) -----------------------------------------------------------

def _exact(obj: Any, allowed: tuple[str, ...], required: tuple[str, ...], where: str,
           out: list[str]) -> bool:
    if not isinstance(obj, dict):
        out.append(f"{where}: not an object")
        return False
    for k in required:
        if k not in obj:
            out.append(f"{where}.{k}: missing")
    for k in obj:
        if k not in allowed:
            out.append(f"{where}.{k}: unknown field")
    return True


def _text(value: Any, where: str, out: list[str]) -> None:
    if not isinstance(value, dict) or set(value) != {"th", "en"}:
        out.append(f"{where}: not a text {{\"th\", \"en\"}}")
        return
    for lang in ("th", "en"):
        v = value[lang]
        if not isinstance(v, str) or not v.strip() or len(v) > TEXT_MAX:
            out.append(f"{where}.{lang}: not a non-empty string of at most {TEXT_MAX} characters")


def _count(value: Any, lo: int, hi: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


def _timestamp(value: Any, what: str) -> datetime:
    text = expect_str(value, what)
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{what}: not an ISO 8601 timestamp") from None
    if t.tzinfo is None:
        raise InvalidInput(f"{what}: no time zone")
    return t


def _declarations(manifest: dict[str, Any], out: list[str]) -> dict[str, list[Attribute]]:
    """The valid attribute declarations (§4.1) by electorate; the problems into ``out``."""
    declared: dict[str, list[Attribute]] = {}
    roll = manifest.get("roll_attributes", {})
    if not isinstance(roll, dict):
        out.append("roll_attributes: not an object")
        return declared
    for electorate, decls in roll.items():
        where = f"roll_attributes.{electorate}"
        if electorate not in ELECTORATES:
            out.append(f"{where}: not an electorate ({', '.join(ELECTORATES)})")
            continue
        if not isinstance(decls, list) or not decls:
            out.append(f"{where}: not a non-empty list")
            continue
        names: set[str] = set()
        attrs = declared.setdefault(electorate, [])
        for i, d in enumerate(decls):
            w = f"{where}[{i}]"
            if not _exact(d, ("name", "title", "values"), ("name", "title", "values"), w, out):
                continue
            ok = True
            name = d.get("name")
            if not isinstance(name, str) or not ATTRIBUTE_RE.match(name):
                out.append(f"{w}.name: not of the form [a-z][a-z0-9_]{{0,31}}")
                ok = False
            elif name in ROLL_COLUMNS:
                out.append(f"{w}.name: {name} is a roll column (manifest.md §3)")
                ok = False
            elif name in names:
                out.append(f"{w}.name: {name} declared twice")
                ok = False
            if "title" in d:
                _text(d["title"], f"{w}.title", out)
            values = d.get("values")
            if not isinstance(values, list) or not 1 <= len(values) <= MAX_VALUES:
                out.append(f"{w}.values: not a list of 1 to {MAX_VALUES} values")
                ok = False
            else:
                for v in values:
                    if not isinstance(v, str) or not VALUE_RE.match(v):
                        out.append(f"{w}.values: {v!r:.70} is not of the form "
                                   "[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
                        ok = False
                if ok and len(set(values)) != len(values):
                    out.append(f"{w}.values: a value twice")
                    ok = False
            if ok and isinstance(name, str):
                names.add(name)
                attrs.append(Attribute(name, tuple(values)))
    return declared


def _candidates(c: dict[str, Any], where: str, team_ids: set[str], out: list[str]) -> int:
    cands = c.get("candidates")
    if not isinstance(cands, list) or not 1 <= len(cands) <= MAX_CANDIDATES:
        out.append(f"{where}.candidates: not a list of 1 to {MAX_CANDIDATES} candidates")
        return 0
    ids: set[Any] = set()
    numbers: set[Any] = set()
    for i, cand in enumerate(cands):
        w = f"{where}.candidates[{i}]"
        if not _exact(cand, ("id", "number", "name", "team"), ("id", "number", "name", "team"),
                      w, out):
            continue
        if not isinstance(cand.get("id"), str) or not cand["id"]:
            out.append(f"{w}.id: not a non-empty string")
        elif cand["id"] in ids:
            out.append(f"{w}.id: duplicate candidate id {cand['id']}")
        ids.add(cand.get("id") if isinstance(cand.get("id"), str) else None)
        number = cand.get("number")
        if not _count(number, 1, 1 << 31):
            out.append(f"{w}.number: not a positive integer")
        elif number in numbers:
            out.append(f"{w}.number: duplicate ballot number {number}")
        else:
            numbers.add(number)
        if "name" in cand:
            _text(cand["name"], f"{w}.name", out)
        team = cand.get("team")
        if team is not None and team not in team_ids:
            out.append(f"{w}.team: {team!r:.70} is not a team of the contest")
    return len(cands)


def _teams(c: dict[str, Any], where: str, out: list[str]) -> set[str]:
    teams = c.get("teams")
    ids: set[str] = set()
    if not isinstance(teams, list):
        out.append(f"{where}.teams: not a list")
        return ids
    for i, t in enumerate(teams):
        w = f"{where}.teams[{i}]"
        if not _exact(t, ("id", "name"), ("id", "name"), w, out):
            continue
        if not isinstance(t.get("id"), str) or not t["id"]:
            out.append(f"{w}.id: not a non-empty string")
        elif t["id"] in ids:
            out.append(f"{w}.id: duplicate team id {t['id']}")
        else:
            ids.add(t["id"])
        if "name" in t:
            _text(t["name"], f"{w}.name", out)
    return ids


def _contest(c: Any, where: str, fmt: str, declared: dict[str, list[Attribute]],
             out: list[str]) -> None:
    keys = CONTEST_KEYS_2 if fmt == FORMAT_2 else CONTEST_KEYS
    required = CONTEST_REQUIRED_2 if fmt == FORMAT_2 else CONTEST_KEYS
    if not _exact(c, keys, required, where, out):
        return
    if "title" in c:
        _text(c["title"], f"{where}.title", out)
    team_ids = _teams(c, where, out)
    size = _candidates(c, where, team_ids, out)
    if size and not _count(c.get("max_selections"), 1, min(size, MAX_SELECTIONS_LIMIT)):
        out.append(f"{where}.max_selections: not an integer from 1 to "
                   f"{min(size, MAX_SELECTIONS_LIMIT)}")
    if fmt == FORMAT_2 and size and "seats" in c and not _count(c["seats"], 1, size):
        out.append(f"{where}.seats: not an integer from 1 to {size} (its candidates)")
    if fmt == FORMAT_2 and "eligibility" in c:
        el = c["eligibility"]
        attrs = {a.name: a for a in declared.get(str(c.get("electorate")), [])}
        if not isinstance(el, dict):
            out.append(f"{where}.eligibility: not an object")
            return
        for name, values in el.items():
            w = f"{where}.eligibility.{name}"
            if name not in attrs:
                out.append(f"{w}: not a declared attribute of the {c.get('electorate')} "
                           "electorate")
            elif not isinstance(values, list) or not values:
                out.append(f"{w}: not a non-empty list")
            elif len(set(map(repr, values))) != len(values):
                out.append(f"{w}: a value twice")
            else:
                for v in values:
                    if v not in attrs[name].values:
                        out.append(f"{w}: {v!r:.70} is not a declared value of {name}")


def manifest_problems(manifest: Any) -> list[str]:
    """Every way ``manifest`` breaks docs/manifest.md §1 (format 1) or §4.1 (format 2), each
    naming its field; the routing rule (§4.2) is :func:`routing_problems`'."""
    out: list[str] = []
    if not isinstance(manifest, dict):
        return ["manifest: not an object"]
    fmt = manifest.get("format")
    if fmt not in MANIFEST_FORMATS:
        return [f"format: not {FORMAT_1} or {FORMAT_2}"]
    _exact(manifest, MANIFEST_KEYS[fmt], MANIFEST_REQUIRED, "manifest", out)
    election = manifest.get("election")
    if not isinstance(election, str) or not ELECTION_RE.match(election):
        out.append("election: not of the form [a-z0-9][a-z0-9-]{1,63}")
    if "title" in manifest:
        _text(manifest["title"], "title", out)
    window = manifest.get("poll_window")
    if _exact(window, ("opens", "closes"), ("opens", "closes"), "poll_window", out):
        try:
            parse_poll_window(manifest)
        except InvalidInput as exc:
            out.append(str(exc).removeprefix("manifest."))
    declared = _declarations(manifest, out) if fmt == FORMAT_2 else {}
    contests = manifest.get("contests")
    limit = 2 if fmt == FORMAT_1 else MAX_CONTESTS
    if not isinstance(contests, list) or not 1 <= len(contests) <= limit:
        out.append(f"contests: not a list of 1 to {limit} contests")
        contests = contests if isinstance(contests, list) else []
    ids: set[str] = set()
    for ci, c in enumerate(contests):
        where = f"contests[{ci}]"
        if isinstance(c, dict):
            cid = c.get("id")
            if not isinstance(cid, str) or not CONTEST_ID_RE.match(cid):
                out.append(f"{where}.id: not of the form [A-Za-z0-9][A-Za-z0-9_-]{{0,63}}")
            elif cid in ids:
                out.append(f"{where}.id: duplicate contest id {cid}")
            else:
                ids.add(cid)
            if c.get("electorate") not in ELECTORATES:
                out.append(f"{where}.electorate: not one of {', '.join(ELECTORATES)}")
        _contest(c, where, str(fmt), declared, out)
    with_contests = {c.get("electorate") for c in contests if isinstance(c, dict)}
    for electorate in declared:
        if electorate not in with_contests:
            out.append(f"roll_attributes.{electorate}: declared for an electorate without "
                       "contests (it could never route)")
    return out


@dataclass(frozen=True)
class RoutingProblem:
    """A combination of declared values eligible for no contest or for several (§4.2)."""

    electorate: str
    combination: tuple[tuple[str, str], ...]  # (attribute, value) in declaration order
    contests: tuple[str, ...]  # the contests it is eligible for (none, or two or more)

    @property
    def label(self) -> str:
        """``insured section=39`` (the electorate alone for the empty combination)."""
        return " ".join([self.electorate] + [f"{n}={v}" for n, v in self.combination])

    def __str__(self) -> str:
        if not self.contests:
            return f"contests: {self.label} is in no contest"
        return (f"contests: {self.label} is in {len(self.contests)} contests "
                f"({', '.join(self.contests)})")


def routing_problems(parsed: Manifest) -> tuple[list[RoutingProblem], list[str]]:
    """The routing rule of §4.2 on a parsed manifest: (the combinations in no contest or in
    several, electorates refused for more than :data:`MAX_COMBINATIONS` combinations)."""
    problems: list[RoutingProblem] = []
    too_many: list[str] = []
    for electorate in ELECTORATES:
        contests = [c for c in parsed.contests.values() if c.electorate == electorate]
        if not contests:
            continue
        attrs = parsed.attributes.get(electorate, ())
        total = 1
        for a in attrs:
            total *= len(a.values)
        if total > MAX_COMBINATIONS:
            too_many.append(f"roll_attributes.{electorate}: {total} combinations of values, "
                            f"more than {MAX_COMBINATIONS}")
            continue
        # each contest's filter by attribute position (an undeclared attribute: never eligible)
        position = {a.name: i for i, a in enumerate(attrs)}
        filters = [(c.id, [(position.get(name, -1), allowed) for name, allowed in c.eligibility])
                   for c in contests]
        names = [a.name for a in attrs]
        for values in itertools.product(*(a.values for a in attrs)):
            hits = tuple(cid for cid, filt in filters
                         if all(i >= 0 and values[i] in allowed for i, allowed in filt))
            if len(hits) != 1:
                problems.append(RoutingProblem(electorate, tuple(zip(names, values)), hits))
    return problems, too_many


def parse_poll_window(manifest: Any) -> tuple[datetime, datetime]:
    """(opens, closes) of ``poll_window`` (docs/manifest.md §1: ISO 8601 with a time zone,
    closes > opens); raises InvalidInput naming the field."""
    if not isinstance(manifest, dict) or not isinstance(manifest.get("poll_window"), dict):
        raise InvalidInput("manifest.poll_window: not an object")
    window = manifest["poll_window"]
    opens = _timestamp(window.get("opens"), "manifest.poll_window.opens")
    closes = _timestamp(window.get("closes"), "manifest.poll_window.closes")
    if not closes > opens:
        raise InvalidInput("manifest.poll_window: closes is not after opens")
    return opens, closes


def parse_cast_at(value: str) -> datetime:
    """A board entry's ``cast_at`` (docs/record.md §2.1, already matched by check 6)."""
    return datetime.fromisoformat(value)

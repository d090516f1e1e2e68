"""The election manifest (docs/manifest.md): the one validator and parser.

:func:`validate` names every problem by its field path (manifest.md §2); :class:`Manifest` is
the typed, validated view.  The manifest is published exactly as its canonical JSON
(docs/protocol.md §2.1) and the SHA-256 of those bytes is the election id (manifest.md §1.1).
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping, Optional

from crypto.encoding import canonical_json, parse_json, strict_loads
from crypto.errors import InvalidInput

from .errors import ManifestInvalid

MANIFEST_FORMAT = "ssbvote-manifest/1"
ELECTORATES = ("insured", "employer")
MAX_CANDIDATES = 1000
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


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
class Contest:
    """A contest; ``candidates`` in ballot order (the i-th is the ballot's i-th ciphertext)."""

    id: str
    electorate: str
    max_selections: int
    title: Text
    teams: tuple[Team, ...]
    candidates: tuple[Candidate, ...]


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

    def contest(self, contest_id: str) -> Contest:
        for c in self.contests:
            if c.id == contest_id:
                return c
        raise KeyError(contest_id)

    def contest_for(self, electorate: str) -> Optional[Contest]:
        return next((c for c in self.contests if c.electorate == electorate), None)

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


def _to_contest(c: Mapping[str, Any]) -> Contest:
    return Contest(
        id=c["id"], electorate=c["electorate"], max_selections=c["max_selections"],
        title=_to_text(c["title"]),
        teams=tuple(Team(t["id"], _to_text(t["name"])) for t in c["teams"]),
        candidates=tuple(Candidate(x["id"], x["number"], _to_text(x["name"]), x["team"])
                         for x in c["candidates"]),
    )


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
    """Every problem found in ``manifest`` (manifest.md §1–§2); empty if it is valid."""
    p = _Problems()
    if not _expect_keys(
        manifest, "", {"format", "election", "title", "poll_window", "contests"}, set(), p
    ):
        return p.items
    if manifest["format"] != MANIFEST_FORMAT:
        p.add("format", f"must be {MANIFEST_FORMAT!r}")
    if not isinstance(manifest["election"], str) or not _SLUG.match(manifest["election"]):
        p.add("election", "must be a short id of lowercase letters, digits and '-'")
    _text(manifest["title"], "title", p)
    window = manifest["poll_window"]
    if _expect_keys(window, "poll_window", {"opens", "closes"}, set(), p):
        opens = _timestamp(window["opens"], "poll_window.opens", p)
        closes = _timestamp(window["closes"], "poll_window.closes", p)
        if opens and closes and closes <= opens:
            p.add("poll_window", "closes must be after opens")
    contests = manifest["contests"]
    if not isinstance(contests, list) or not contests:
        p.add("contests", "must be a non-empty list")
        return p.items
    seen_codes: set[str] = set()
    seen_electorates: set[str] = set()
    for i, contest in enumerate(contests):
        _validate_contest(contest, f"contests[{i}]", seen_codes, seen_electorates, p)
    return p.items


def _validate_contest(
    contest: Any, path: str, codes: set[str], electorates: set[str], p: _Problems
) -> None:
    if not _expect_keys(
        contest,
        path,
        {"id", "electorate", "max_selections", "title", "teams", "candidates"},
        set(),
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
    elif electorate in electorates:
        p.add(f"{path}.electorate", f"a second contest for the {electorate} electorate")
    else:
        electorates.add(electorate)
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

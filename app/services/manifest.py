"""Loading and validating election manifests (docs/manifest.md).

The manifest is stored exactly as its canonical JSON; its SHA-256 is the election id that
every proof binds to (docs/protocol.md), so it can never change once created.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import Candidate, Contest, Election, Team
from app.services import audit
from app.services.errors import InputFileError, ServiceError
from crypto.encoding import canonical_json

MANIFEST_FORMAT = "ssbvote-manifest/1"
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
MAX_CANDIDATES = 1000


@dataclass(frozen=True)
class ManifestSummary:
    slug: str
    election_id: str
    contests: tuple[tuple[str, str, int, int], ...]  # (code, electorate, max, candidates)


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


def _timestamp(value: Any, path: str, p: _Problems) -> datetime | None:
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


def validate_manifest(manifest: Any) -> list[str]:
    """Return every problem found in ``manifest`` (empty list if it is valid)."""
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
    if electorate not in ("insured", "employer"):
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
        if cand["team"] is not None and cand["team"] not in team_codes:
            p.add(f"{cpath}.team", f"unknown team {cand['team']!r}")
    k = contest["max_selections"]
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        p.add(f"{path}.max_selections", "must be a whole number of at least 1")
    elif candidates and k > len(candidates):
        p.add(f"{path}.max_selections", f"{k} is more than the {len(candidates)} candidates")


def election_id_of(manifest: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical manifest: the election id (docs/protocol.md §2)."""
    return hashlib.sha256(canonical_json(manifest)).hexdigest()


def parse_manifest_text(text: str, source: str = "manifest") -> dict[str, Any]:
    """Parse and validate manifest JSON text, or raise :class:`InputFileError`."""
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(source, [f"line {exc.lineno}, column {exc.colno}: {exc.msg}"])
    problems = validate_manifest(manifest)
    if problems:
        raise InputFileError(source, problems)
    return manifest  # type: ignore[no-any-return]


def create_election(manifest: dict[str, Any], actor: str = "cli") -> Election:
    """Store a validated manifest as a new draft election, in one transaction."""
    problems = validate_manifest(manifest)
    if problems:
        raise InputFileError("manifest", problems)
    if db.session.scalar(select(Election.id).where(Election.slug == manifest["election"])):
        raise ServiceError(f"an election named {manifest['election']!r} already exists")
    election_id = election_id_of(manifest)
    window = manifest["poll_window"]
    election = Election(
        slug=manifest["election"],
        election_id=election_id,
        title_th=manifest["title"]["th"],
        title_en=manifest["title"]["en"],
        opens_at=datetime.fromisoformat(window["opens"]),
        closes_at=datetime.fromisoformat(window["closes"]),
        manifest=canonical_json(manifest).decode("utf-8"),
    )
    for position, spec in enumerate(manifest["contests"]):
        contest = Contest(
            code=spec["id"],
            electorate=spec["electorate"],
            max_selections=spec["max_selections"],
            title_th=spec["title"]["th"],
            title_en=spec["title"]["en"],
            position=position,
        )
        teams = {}
        for tpos, tspec in enumerate(spec["teams"]):
            team = Team(
                code=tspec["id"], name_th=tspec["name"]["th"], name_en=tspec["name"]["en"],
                position=tpos,
            )
            teams[tspec["id"]] = team
            contest.teams.append(team)
        for cpos, cspec in enumerate(spec["candidates"]):
            contest.candidates.append(
                Candidate(
                    code=cspec["id"],
                    ballot_number=cspec["number"],
                    name_th=cspec["name"]["th"],
                    name_en=cspec["name"]["en"],
                    team=teams.get(cspec["team"]) if cspec["team"] else None,
                    position=cpos,
                )
            )
        election.contests.append(contest)
    try:
        db.session.add(election)
        db.session.flush()
        audit.record(actor, "election.create", election.slug, {"election_id": election_id})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return election


def get_election(slug: str) -> Election:
    election = db.session.scalar(select(Election).where(Election.slug == slug))
    if election is None:
        raise ServiceError(f"no election named {slug!r}")
    return election


def summary(election: Election) -> ManifestSummary:
    return ManifestSummary(
        slug=election.slug,
        election_id=election.election_id,
        contests=tuple(
            (c.code, c.electorate, c.max_selections, len(c.candidates)) for c in election.contests
        ),
    )

"""Storing election manifests (docs/manifest.md) as draft elections.

The manifest is parsed and validated by :mod:`election.manifest`; it is stored exactly as its
canonical JSON, whose SHA-256 is the election id that every proof binds to (docs/protocol.md),
so it can never change once created.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import Candidate, Contest, Election, Team
from app.services.administration import audit
from app.services.errors import Conflict, InputFileError, NotFound
from crypto.encoding import canonical_json
from election.errors import ManifestInvalid
from election.manifest import MANIFEST_FORMAT, Manifest, election_id_of, parse_text
from election.manifest import validate as validate_manifest

__all__ = ["MANIFEST_FORMAT", "ManifestSummary", "create_election", "election_id_of", "get_election",
           "manifest_of", "parse_manifest_text", "summary", "validate_manifest"]


@dataclass(frozen=True)
class ManifestSummary:
    slug: str
    election_id: str
    contests: tuple[tuple[str, str, int, int], ...]  # (code, electorate, max, candidates)


def parse_manifest_text(text: str, source: str = "manifest") -> dict[str, Any]:
    """Parse and validate manifest JSON text, or raise :class:`InputFileError`."""
    try:
        return parse_text(text)
    except ManifestInvalid as exc:
        raise InputFileError(source, exc.problems) from None


def create_election(manifest: dict[str, Any], actor: str = "cli") -> Election:
    """Store a validated manifest as a new draft election, in one transaction."""
    try:
        parsed = Manifest.from_dict(manifest)
    except ManifestInvalid as exc:
        raise InputFileError("manifest", exc.problems) from None
    if db.session.scalar(select(Election.id).where(Election.slug == parsed.slug)):
        raise Conflict(f"an election named {parsed.slug!r} already exists")
    election_id = parsed.election_id
    election = Election(
        slug=parsed.slug,
        election_id=election_id,
        title_th=parsed.title.th,
        title_en=parsed.title.en,
        opens_at=parsed.poll_window.opens,
        closes_at=parsed.poll_window.closes,
        manifest=canonical_json(manifest).decode("utf-8"),
    )
    for position, spec in enumerate(parsed.contests):
        contest = Contest(
            code=spec.id,
            electorate=spec.electorate,
            max_selections=spec.max_selections,
            seats=spec.seats,
            title_th=spec.title.th,
            title_en=spec.title.en,
            position=position,
        )
        teams = {}
        for tpos, tspec in enumerate(spec.teams):
            team = Team(code=tspec.id, name_th=tspec.name.th, name_en=tspec.name.en, position=tpos)
            teams[tspec.id] = team
            contest.teams.append(team)
        for cpos, cspec in enumerate(spec.candidates):
            contest.candidates.append(
                Candidate(
                    code=cspec.id,
                    ballot_number=cspec.number,
                    name_th=cspec.name.th,
                    name_en=cspec.name.en,
                    team=teams.get(cspec.team) if cspec.team else None,
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


def manifest_of(election: Election) -> Manifest:
    """The typed manifest of a stored election (its canonical bytes, docs/manifest.md §1.1)."""
    return Manifest.from_bytes(election.manifest.encode("utf-8"))


def get_election(slug: str) -> Election:
    election = db.session.scalar(select(Election).where(Election.slug == slug))
    if election is None:
        raise NotFound(f"no election named {slug!r}")
    return election


def summary(election: Election) -> ManifestSummary:
    return ManifestSummary(
        slug=election.slug,
        election_id=election.election_id,
        contests=tuple(
            (c.code, c.electorate, c.max_selections, len(c.candidates)) for c in election.contests
        ),
    )

"""Importing voter rolls from CSV (docs/manifest.md §3).

An import is all or nothing: every line is checked first, every problem is reported with its
line number, and rows are written only when the whole file is valid, in one transaction.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TextIO

from flask import current_app
from sqlalchemy import insert, select

from app.extensions import db
from app.models import Election, RollEntry
from app.services.administration import audit
from app.services.errors import Conflict, InputFileError, InvalidRequest
from app.services.identity.identifiers import pseudonym
from election.lifecycle import SETUP
from election.roll import LAYOUTS, RollInvalid, parse_roll

_CHUNK = 20_000


@dataclass(frozen=True)
class ImportResult:
    electorate: str
    imported: int


def import_roll_file(slug_or_election: str | Election, path: str | Path, electorate: str | None = None,
                     actor: str = "cli", progress: Callable[[int], None] | None = None) -> ImportResult:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return import_roll(slug_or_election, handle, electorate, actor, str(path), progress)


def import_roll(election: str | Election, handle: TextIO, electorate: str | None = None,
                actor: str = "cli", source: str = "roll",
                progress: Callable[[int], None] | None = None) -> ImportResult:
    """Validate the whole CSV in ``handle``, then insert it in one transaction."""
    from app.services.administration.manifest import get_election, manifest_of

    if isinstance(election, str):
        election = get_election(election)
    if election.status not in SETUP:
        raise Conflict("the roll cannot change once polls have opened")
    if electorate is not None and electorate not in LAYOUTS:
        raise InvalidRequest("electorate must be 'insured' or 'employer'")
    election_pk = election.id

    def known(which: str) -> tuple[set[str], set[str]]:
        # What is already on this roll, and who is on the other roll: a person may vote in one
        # electorate only (docs/manifest.md §3.3).  The parser is election/roll.py.
        existing_keys = set(db.session.scalars(select(RollEntry.voter_key).where(
            RollEntry.election_pk == election_pk, RollEntry.electorate == which)))
        other = "employer" if which == "insured" else "insured"
        other_column = RollEntry.attribute if other == "employer" else RollEntry.voter_key
        other_ids = set(db.session.scalars(select(other_column).where(
            RollEntry.election_pk == election_pk, RollEntry.electorate == other)))
        return existing_keys, other_ids

    manifest = manifest_of(election)
    try:
        roll = parse_roll(handle, source, electorate, known=known, progress=progress,
                          manifest=manifest)
    except RollInvalid as exc:
        raise InputFileError(source, exc.problems) from None
    rows = roll.rows
    if not manifest.contests_of(roll.electorate):
        raise InputFileError(source, [f"a roll of {roll.electorate} voters, but the manifest has "
                                      f"no {roll.electorate} contest"])
    # Each entry's route (docs/manifest.md §4.2): the same rule the CA applies (record.md §6.1).
    contest_pks = {c.code: c.id for c in election.contests}
    routes = [contest_pks[code] for code in roll.routes(manifest)]

    hmac_key = current_app.config["SSBVOTE"].pseudonym_key
    try:
        for start in range(0, len(rows), _CHUNK):
            db.session.execute(
                insert(RollEntry),
                [
                    {
                        "election_pk": election.id,
                        "electorate": roll.electorate,
                        "voter_key": k,
                        "attribute": a,
                        "display_name": n,
                        "pseudonym": pseudonym(hmac_key, election.election_id, roll.electorate, k),
                        "contest_pk": route,
                    }
                    for (k, a, n), route in zip(rows[start:start + _CHUNK],
                                                routes[start:start + _CHUNK])
                ],
            )
        audit.record(actor, "roll.import", election.slug,
                     {"electorate": roll.electorate, "rows": len(rows), "source": source})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return ImportResult(roll.electorate, len(rows))


def import_roll_text(election: str | Election, text: str, electorate: str | None = None,
                     actor: str = "cli") -> ImportResult:
    """Convenience for tests and the web upload: import CSV given as text."""
    return import_roll(election, io.StringIO(text), electorate, actor)

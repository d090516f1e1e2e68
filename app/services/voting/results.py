"""Publishing the result: only from an election record that the independent verifier accepts.

The record (docs/record.md §4) is checked with ``verifier`` — the observers' tool, not the
tally's own code — then its results are stored for the results page and the record is kept as a
zip file for download. Nothing is published before polls have closed.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.models import BoardEntry, Election, RollEntry
from app.services.administration import audit
from app.services.errors import Conflict, InvalidRequest, NotFound
from app.services.platform import ca_key
from election.board import KIND_BALLOT
from election.decisions import elected_after_lots
from election.lifecycle import AFTER_CLOSE, Status


def archive_path(election: Election) -> Path:
    return Path(current_app.instance_path) / "records" / f"{election.slug}-record.zip"


def published_archive(election: Election) -> Path:
    """The published record's zip, or :class:`NotFound` before the results are published."""
    path = archive_path(election)
    if election.status != Status.TALLIED or not path.exists():
        raise NotFound("no election record has been published for this election")
    return path


def publish(election: Election, record: Path, actor: str = "cli", processes: int = 2) -> dict[str, Any]:
    from verifier.checks import Options, verify_record

    if election.status not in AFTER_CLOSE:
        raise Conflict("results can be published only after polls have closed")
    allow_test = bool(current_app.config["SSBVOTE"].allow_insecure_test_keys)
    # The verifier checks the opening with the CA key the server was configured with (--ca-key),
    # not with one found in the record (docs/record.md §2.0).
    verification = verify_record(record, Options(allow_test_key=allow_test, processes=processes,
                                                 ca_key=bytes.fromhex(ca_key.required())))
    if verification.election_id != election.election_id:
        raise InvalidRequest("this record belongs to another election")
    if not verification.ok:
        failed = ", ".join(f"{r.number} {r.name}" for r in verification.results if not r.passed)
        raise InvalidRequest(f"the record does not verify (failed: {failed}); nothing was published")
    results = json.loads((record / "results.json").read_text(encoding="utf-8"))
    target = archive_path(election)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        made = shutil.make_archive(str(Path(tmp) / "record"), "zip", root_dir=record)
        Path(made).replace(target)
    election.results = json.dumps(results, ensure_ascii=False, sort_keys=True)
    from app.services.voting import lots  # lots imports this module
    if lots.lots(election):  # a lot drawn earlier stays in the record (docs/record.md §4.6)
        lots.republish(election)
    election.results = json.dumps(results, ensure_ascii=False, sort_keys=True)
    election.status = Status.TALLIED.value
    audit.record(actor, "results.publish", election.slug,
                 {"record_hash": json.loads((record / "HASHES.json").read_text())["record_hash"]})
    db.session.commit()
    return results  # type: ignore[no-any-return]


@dataclass(frozen=True)
class CandidateRow:
    number: int
    name_th: str
    name_en: str
    votes: int
    elected: bool
    share: float  # of the contest's highest count, for the bar length


@dataclass(frozen=True)
class TeamGroup:
    code: str | None
    name_th: str
    name_en: str
    candidates: list[CandidateRow]


@dataclass(frozen=True)
class ContestResult:
    code: str
    electorate: str
    title_th: str
    title_en: str
    max_selections: int
    counted: int
    on_roll: int
    online_voters: int
    tie_at_last_seat: bool
    teams: list[TeamGroup]
    elected: list[CandidateRow]
    #: the candidates the lot at the tied last seat chose (docs/record.md §4.6); empty before it
    lot_chosen: list[CandidateRow] = field(default_factory=list)

    @property
    def turnout(self) -> float:
        return self.counted / self.on_roll if self.on_roll else 0.0


def view(election: Election) -> list[ContestResult]:
    """The published results, grouped by team, for the results page."""
    if not election.results:
        raise NotFound("no results have been published for this election")
    data = json.loads(election.results)
    from app.services.voting.lots import chosen_by_contest  # lots imports this module
    chosen = chosen_by_contest(election)
    out = []
    for contest in election.contests:
        result = data["contests"][contest.code]
        votes = {c["id"]: c["votes"] for c in result["candidates"]}
        top = max(votes.values(), default=0) or 1
        elected = set(elected_after_lots(result, chosen.get(contest.code)))  # record.md §4.6
        rows = {c.code: CandidateRow(c.ballot_number, c.name_th, c.name_en, votes[c.code],
                                     c.code in elected, votes[c.code] / top)
                for c in contest.candidates}
        groups = [TeamGroup(t.code, t.name_th, t.name_en,
                            [rows[c.code] for c in contest.candidates if c.team_pk == t.id])
                  for t in contest.teams]
        independents = [rows[c.code] for c in contest.candidates if c.team_pk is None]
        if independents:
            groups.append(TeamGroup(None, "ผู้สมัครอิสระ", "Independent", independents))
        on_roll = db.session.scalar(select(func.count()).select_from(RollEntry).where(
            RollEntry.election_pk == election.id, RollEntry.electorate == contest.electorate)) or 0
        online = db.session.scalar(select(func.count(func.distinct(BoardEntry.pseudonym))).where(
            BoardEntry.election_pk == election.id, BoardEntry.contest == contest.code,
            BoardEntry.kind == KIND_BALLOT)) or 0  # who cast; an audit alone is no vote
        out.append(ContestResult(
            contest.code, contest.electorate, contest.title_th, contest.title_en,
            contest.max_selections, result["counted_ballots"], on_roll, online,
            bool(result.get("tie_at_last_seat")), groups,
            sorted((r for r in rows.values() if r.elected), key=lambda r: (-r.votes, r.number)),
            [rows[c] for c in chosen.get(contest.code, []) if c in rows]))
    return out

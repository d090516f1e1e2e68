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
from app.services.voting import board, paper_votes
from election.board import KIND_BALLOT
from election.decisions import elected_after_lots
from election.lifecycle import AFTER_CLOSE, Status


def archive_path(election: Election) -> Path:
    return Path(current_app.instance_path) / "records" / f"{election.slug}-record.zip"


def is_published(election: Election) -> bool:
    """True once :func:`publish` has stored results from a verified record (and only then)."""
    return election.status == Status.TALLIED and bool(election.results)


def published_archive(election: Election) -> Path:
    """The published record's zip, or :class:`NotFound` before the results are published."""
    path = archive_path(election)
    if election.status != Status.TALLIED or not path.exists():
        raise NotFound("no election record has been published for this election")
    from app.services.voting import lots  # lots imports this module
    lots.sync_archive(election)  # the lots committed so far (record.md §4.6)
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


#: A candidate's place in the published result (docs/record.md §4.4).
ELECTED, TIED, NOT_ELECTED = "elected", "tied", "not-elected"
#: The orders the results page offers: by votes (rank order of §4.4) or by ballot number.
SORTS = ("votes", "number")


@dataclass(frozen=True)
class CandidateRow:
    number: int
    name_th: str
    name_en: str
    team_th: str
    team_en: str
    votes: int
    #: ELECTED; TIED: in the tie for the last seat(s), which the returning officer decides by
    #: lot (the record's ballot-number rule only orders them); NOT_ELECTED.
    status: str
    share: float  # of the contest's highest count, for the bar length
    rank: int  # 1 = most votes (ties share the rank)

    @property
    def elected(self) -> bool:
        return self.status == ELECTED


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
    seats: int
    #: E-votes counted (the record's ``counted_ballots``).
    counted: int
    on_roll: int
    online_voters: int
    #: Voters routed to this contest on the signed paper-vote list (docs/record.md §2.4):
    #: they voted on paper, at a polling station; none of their e-votes is counted.
    paper_votes: int
    tie_at_last_seat: bool
    teams: list[TeamGroup]
    #: Surely elected, in rank order: with a tie at the last seat, without the tied candidates.
    elected: list[CandidateRow]
    #: The candidates tied for the last seat(s) (empty without a tie), by ballot number; they
    #: stay named here after the lot (docs/record.md §4.6), which moves the chosen to ``elected``.
    tied: list[CandidateRow]
    #: Every candidate, in rank order (votes descending, then ballot number).
    candidates: list[CandidateRow]
    #: The candidates the lot at the tied last seat chose (docs/record.md §4.6); empty before it.
    lot_chosen: list[CandidateRow] = field(default_factory=list)

    @property
    def voted(self) -> int:
        return self.counted + self.paper_votes

    @property
    def turnout(self) -> float:
        return self.voted / self.on_roll if self.on_roll else 0.0

    @property
    def tied_seats(self) -> int:
        """Seats the tied candidates share: decided by lot."""
        return self.seats - len([r for r in self.elected if r not in self.tied]) if self.tied else 0

    def ordered(self, sort: str) -> list[CandidateRow]:
        if sort == "number":
            return sorted(self.candidates, key=lambda r: r.number)
        return self.candidates


def placings(votes: dict[str, int], numbers: dict[str, int], elected: list[str], seats: int,
             tie_at_last_seat: bool) -> dict[str, str]:
    """Each candidate's :data:`ELECTED` / :data:`TIED` / :data:`NOT_ELECTED` from the record's
    result (docs/record.md §4.4).  With ``tie_at_last_seat`` every candidate with as many votes
    as the one in seat ``seats`` is TIED — elected or not by the record's ballot-number order —
    and only those with more votes are ELECTED."""
    status = {code: (ELECTED if code in set(elected) else NOT_ELECTED) for code in votes}
    if tie_at_last_seat and elected and len(elected) >= seats:
        last = votes[sorted(elected, key=lambda c: (-votes[c], numbers[c]))[seats - 1]]
        for code, count in votes.items():
            if count == last:
                status[code] = TIED
    return status


def view(election: Election) -> list[ContestResult]:
    """The published results for the results page: per contest the turnout (e-votes counted,
    paper votes, against the roll), who is elected, who is tied for the last seat, every
    candidate in rank order and grouped by team."""
    if not is_published(election) or not election.results:
        raise NotFound("no results have been published for this election")
    data = json.loads(election.results)
    paper = _paper_voters_by_contest(election)
    from app.services.voting.lots import chosen_by_contest  # lots imports this module
    chosen = chosen_by_contest(election)
    out = []
    for contest in election.contests:
        result = data["contests"][contest.code]
        votes = {c["id"]: int(c["votes"]) for c in result["candidates"]}
        numbers = {c.code: c.ballot_number for c in contest.candidates}
        seats = int(result.get("seats", result["max_selections"]))
        tie = bool(result.get("tie_at_last_seat"))
        status = placings(votes, numbers, list(result["elected"]), seats, tie)
        top = max(votes.values(), default=0) or 1
        tied = {code for code, place in status.items() if place == TIED}
        lot = chosen.get(contest.code)
        if tie and lot is not None:  # the lot decided the tie: the chosen are elected (record.md §4.6)
            after = set(elected_after_lots(result, lot))
            status = {code: ELECTED if code in after else NOT_ELECTED for code in status}
        teams = {t.id: t for t in contest.teams}
        rank = {count: 1 + sum(1 for v in votes.values() if v > count) for count in set(votes.values())}
        rows = {}
        for c in contest.candidates:
            team = teams.get(c.team_pk) if c.team_pk is not None else None
            rows[c.code] = CandidateRow(
                c.ballot_number, c.name_th, c.name_en,
                team.name_th if team else "ผู้สมัครอิสระ", team.name_en if team else "Independent",
                votes[c.code], status[c.code], votes[c.code] / top, rank[votes[c.code]])
        groups = [TeamGroup(t.code, t.name_th, t.name_en,
                            [rows[c.code] for c in contest.candidates if c.team_pk == t.id])
                  for t in contest.teams]
        independents = [rows[c.code] for c in contest.candidates if c.team_pk is None]
        if independents:
            groups.append(TeamGroup(None, "ผู้สมัครอิสระ", "Independent", independents))
        in_rank_order = sorted(rows.values(), key=lambda r: (-r.votes, r.number))
        # turnout against the roll entries routed to this contest (docs/manifest.md §4.4)
        on_roll = db.session.scalar(select(func.count()).select_from(RollEntry).where(
            RollEntry.election_pk == election.id, RollEntry.contest_pk == contest.id)) or 0
        online = db.session.scalar(select(func.count(func.distinct(BoardEntry.pseudonym))).where(
            BoardEntry.election_pk == election.id, BoardEntry.contest == contest.code,
            BoardEntry.kind == KIND_BALLOT)) or 0  # who cast; an audit alone is no vote
        out.append(ContestResult(
            contest.code, contest.electorate, contest.title_th, contest.title_en,
            contest.max_selections, seats, int(result["counted_ballots"]), on_roll, online,
            paper.get(contest.id, 0), tie, groups,
            [r for r in in_rank_order if r.status == ELECTED],
            sorted((rows[c] for c in tied if c in rows), key=lambda r: r.number),
            in_rank_order,
            sorted((rows[c] for c in (lot or []) if c in rows and tie), key=lambda r: r.number)))
    return out


def closed_at(election: Election) -> str | None:
    """When the polls closed: the ``at`` of the board's final checkpoint (UTC ISO)."""
    final = board.final_checkpoint(election)
    return str(final["at"]) if final else None


def _paper_voters_by_contest(election: Election) -> dict[int, int]:
    """How many voters of each contest (their roll entry's route, docs/manifest.md §4.4) the
    signed paper-vote list names (docs/record.md §2.4), by contest row."""
    listing = paper_votes.signed_list(election)
    raw = listing.get("pseudonyms") if listing else None
    pseudonyms = [str(p) for p in raw] if isinstance(raw, list) else []
    counts: dict[int, int] = {}
    for start in range(0, len(pseudonyms), 2000):
        chunk = pseudonyms[start:start + 2000]
        for contest_pk, n in db.session.execute(
                select(RollEntry.contest_pk, func.count()).where(
                    RollEntry.election_pk == election.id, RollEntry.pseudonym.in_(chunk))
                .group_by(RollEntry.contest_pk)):
            if contest_pk is not None:
                counts[contest_pk] = counts.get(contest_pk, 0) + int(n)
    return counts

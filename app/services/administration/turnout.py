"""Live turnout per contest for the officials' dashboard (issue 18): what is on the board now
— cast ballots (audit entries are not turnout, docs/record.md §2.1) and the distinct voters who
cast them — and, once the two-official paper-vote list is recorded (docs/record.md §2.4), the
paper voters of each contest.  Never a partial result: no choice is ever read or counted here.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import distinct, func, select

from app.extensions import db
from app.models import BoardEntry, Election, PaperOverrideList, RollEntry
from election.board import KIND_BALLOT

_CHUNK = 2000


@dataclass(frozen=True)
class ContestTurnout:
    code: str
    title_th: str
    title_en: str
    electorate: str
    eligible: int  # voters on this contest's roll
    ballots: int  # cast ballots on the board (re-votes included)
    voters: int  # distinct voters with a ballot on the board
    paper: int | None  # paper voters on the recorded list; None before it is recorded

    def as_dict(self) -> dict[str, object]:
        return {"contest": self.code, "title_th": self.title_th, "title_en": self.title_en,
                "electorate": self.electorate, "eligible": self.eligible,
                "ballots": self.ballots, "voters": self.voters, "paper_voters": self.paper}


@dataclass(frozen=True)
class Turnout:
    election_slug: str
    status: str
    board_size: int  # every board entry (ballots and audits)
    contests: list[ContestTurnout]
    at: datetime

    def as_dict(self) -> dict[str, object]:
        return {"election": self.election_slug, "status": self.status,
                "board_entries": self.board_size, "at": self.at.isoformat(),
                "contests": [c.as_dict() for c in self.contests]}


def _paper_by_contest(election: Election) -> dict[int, int] | None:
    """Paper voters on the recorded list per contest row: their roll entry's route
    (docs/manifest.md §4.4)."""
    row = db.session.get(PaperOverrideList, election.id)
    if row is None:
        return None
    pseudonyms = list(json.loads(row.body).get("pseudonyms", []))
    counts: dict[int, int] = {}
    for start in range(0, len(pseudonyms), _CHUNK):
        for contest_pk, n in db.session.execute(
                select(RollEntry.contest_pk, func.count())
                .where(RollEntry.election_pk == election.id,
                       RollEntry.pseudonym.in_(pseudonyms[start:start + _CHUNK]))
                .group_by(RollEntry.contest_pk)).all():
            if contest_pk is not None:
                counts[contest_pk] = counts.get(contest_pk, 0) + int(n)
    return counts


def live(election: Election, now: datetime) -> Turnout:
    """The turnout of every contest of ``election`` now."""
    counts = {code: (int(n), int(v)) for code, n, v in db.session.execute(
        select(BoardEntry.contest, func.count(), func.count(distinct(BoardEntry.pseudonym)))
        .where(BoardEntry.election_pk == election.id, BoardEntry.kind == KIND_BALLOT)
        .group_by(BoardEntry.contest)).all()}
    # per contest: the roll entries routed to it (docs/manifest.md §4.2, §4.4)
    eligible = {pk: int(n) for pk, n in db.session.execute(
        select(RollEntry.contest_pk, func.count()).where(RollEntry.election_pk == election.id)
        .group_by(RollEntry.contest_pk)).all()}
    paper = _paper_by_contest(election)
    size = db.session.scalar(select(func.count()).select_from(BoardEntry)
                             .where(BoardEntry.election_pk == election.id)) or 0
    contests = [ContestTurnout(c.code, c.title_th, c.title_en, c.electorate,
                               eligible.get(c.id, 0), *counts.get(c.code, (0, 0)),
                               None if paper is None else paper.get(c.id, 0))
                for c in sorted(election.contests, key=lambda c: c.position)]
    return Turnout(election.slug, election.status, int(size), contests, now)

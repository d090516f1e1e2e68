"""What the public observer page shows (docs/record.md §3.2–§3.5, issue 23): per contest the
cast ballots on the signed board and the distinct voters who cast them (audit entries are not
turnout; never partial results), the latest signed checkpoint (the page checks its signature
itself, with the board key the CA-signed opening pins), the poll window and status, the
officials' actions from the audit log, and the witnesses.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import distinct, func, select

from app.extensions import db
from app.models import AuditEntry, BoardEntry, Election
from app.services.administration import authority
from app.services.platform import ca_key
from app.services.voting import board, witnesses
from election.board import KIND_BALLOT

AUDIT_SHOWN = 50  # the newest actions shown


@dataclass(frozen=True)
class ContestTurnout:
    code: str
    title_th: str
    title_en: str
    ballots: int
    voters: int


@dataclass(frozen=True)
class Action:
    at: datetime
    actor: str
    action: str


@dataclass(frozen=True)
class ObserverView:
    election: Election
    turnout: list[ContestTurnout]
    checkpoint: dict[str, Any] | None  # the latest signed checkpoint
    opening: dict[str, Any] | None
    ca_key: str | None  # the CA key the server is configured with (SSBVOTE_CA_KEY)
    actions: list[Action]
    witnesses: dict[str, int | None]  # pinned witness → seq of its latest statement


def view(election: Election) -> ObserverView:
    cps = board.checkpoints(election)
    latest = cps[-1] if cps else None
    signed = int(latest["seq"]) if latest else 0
    counts = {code: (n, v) for code, n, v in db.session.execute(
        select(BoardEntry.contest, func.count(), func.count(distinct(BoardEntry.credential)))
        .where(BoardEntry.election_pk == election.id, BoardEntry.seq <= signed,
               BoardEntry.kind == KIND_BALLOT)  # audited ballots are never cast (record.md §2.1)
        .group_by(BoardEntry.contest)).all()}
    turnout = [ContestTurnout(c.code, c.title_th, c.title_en, *counts.get(c.code, (0, 0)))
               for c in sorted(election.contests, key=lambda c: c.position)]
    rows = db.session.scalars(select(AuditEntry).where(AuditEntry.subject == election.slug)
                              .order_by(AuditEntry.id.desc()).limit(AUDIT_SHOWN))
    actions = [Action(r.at, r.actor, r.action) for r in rows]
    opening = authority.opening(election)
    stored = witnesses.latest(election)
    pinned = {w["name"]: stored[w["name"]]["seq"] if w["name"] in stored else None
              for w in (opening or {}).get("witnesses", [])}
    return ObserverView(election, turnout, latest, opening, ca_key.configured(), actions, pinned)


def as_json(v: ObserverView) -> str:
    """The data the page's script checks (opening, CA key, checkpoint), as JSON."""
    return json.dumps({"opening": v.opening, "ca_key": v.ca_key, "checkpoint": v.checkpoint,
                       "election_id": v.election.election_id})

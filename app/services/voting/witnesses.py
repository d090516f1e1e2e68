"""Witness statements (docs/record.md §3.5): a witness pinned in the CA-signed opening posts a
signed statement of a board head it verified; the server checks it and keeps each witness's
latest, which the closed export carries as ``witnesses/<name>.json``."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import Election, WitnessStatement
from app.services.administration import audit, authority
from app.services.errors import Conflict, NotFound, NotOnBoard, WitnessRefused
from app.services.voting import board
from crypto.encoding import canonical_json
from election.witness import statement_problem


def accept(election: Election, obj: Any) -> dict[str, Any]:
    """Check and store ``obj`` (record.md §3.5); returns ``{"witness", "seq", "head"}``."""
    opening = authority.opening(election)
    if opening is None:
        raise NotFound("this election has no opening: it has no witnesses")
    problem = statement_problem(obj, opening, authority.opening_hash(election))
    if problem is not None:
        raise WitnessRefused(problem)
    seq, head = obj["seq"], obj["head"]
    if seq == 0:
        on_board = head == election.election_id
    else:
        entry = board.entry_at(election, seq)
        on_board = entry is not None and entry.entry_hash == head
    if not on_board:
        raise NotOnBoard(f"(seq {seq}, head {head}) is not on this board")
    row = db.session.scalar(select(WitnessStatement).where(
        WitnessStatement.election_pk == election.id, WitnessStatement.witness == obj["witness"]))
    if row is not None and row.seq > seq:
        raise Conflict(f"witness {obj['witness']} already co-signed seq {row.seq}: "
                       "a statement never goes back")
    body = canonical_json(obj).decode()
    if row is None:
        db.session.add(WitnessStatement(election_pk=election.id, witness=obj["witness"],
                                        seq=seq, body=body))
    else:
        row.seq, row.body = seq, body
    audit.record(f"witness:{obj['witness']}", "witness.statement", election.slug,
                 {"seq": seq, "head": head})
    db.session.commit()
    return {"witness": obj["witness"], "seq": seq, "head": head}


def latest(election: Election) -> dict[str, dict[str, Any]]:
    """name → the witness's latest stored statement."""
    rows = db.session.scalars(select(WitnessStatement).where(
        WitnessStatement.election_pk == election.id).order_by(WitnessStatement.witness))
    return {row.witness: json.loads(row.body) for row in rows}

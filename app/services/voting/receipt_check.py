"""The cast-as-intended check (docs/record.md §2.5, docs/protocol.md §5.6).

The receipt's QR code holds ``ssbvote-check:1:<seq>:<seed hex>`` (its format and the check token
are :mod:`election.receipt`). The checking page derives the check token from the seed, fetches the ballot here — at most 3 times, within 30 minutes of
casting, as in Estonia — and opens it itself with the seed: the server never sees the seed.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import Election, ReceiptCheck
from app.services.voting import board
from app.services.errors import BadReceiptCode, BallotNotFound, CheckExpired, CheckUsedUp
from app.services.voting.casting import ballot_of
from election import receipt
from election.receipt import QR_PREFIX, QrPayload, check_token, qr_text

__all__ = ["CHECK_WINDOW", "MAX_USES", "QR_PREFIX", "QrPayload", "check_token", "parse_qr", "qr_text", "use_check"]

CHECK_WINDOW = timedelta(minutes=30)
MAX_USES = 3


def parse_qr(text: str) -> QrPayload:
    """The receipt code's payload, or :class:`BadReceiptCode`."""
    try:
        return receipt.parse_qr(text)
    except ValueError as exc:
        raise BadReceiptCode(str(exc)) from None


def use_check(election: Election, seq: int, token: str, now: datetime) -> dict[str, Any]:
    """Count one use and return what the checking page needs to open the ballot itself: the
    ballot, the election key, the candidates of its contest and the ballot's party
    (``pseudonym`` and ``credential``: docs/protocol.md §13.4)."""
    row = db.session.scalar(select(ReceiptCheck).where(
        ReceiptCheck.election_pk == election.id, ReceiptCheck.seq == seq).with_for_update())
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    if row is None or not hmac.compare_digest(token_hash, row.token_hash):
        raise BallotNotFound("no ballot matches this receipt code")
    entry = board.entry_at(election, seq)
    assert entry is not None  # a ReceiptCheck row is written with its board entry
    cast_at = datetime.fromisoformat(entry.cast_at.replace("Z", "+00:00"))
    if now - cast_at > CHECK_WINDOW:
        raise CheckExpired("the check is available only for 30 minutes after casting")
    if row.uses >= MAX_USES:
        raise CheckUsedUp("this ballot has already been checked 3 times")
    row.uses += 1
    row.last_used_at = now
    db.session.commit()
    contest = next((c for c in election.contests if c.code == entry.contest), None)
    return {
        "election_id": election.election_id,
        "seq": entry.seq,
        "pseudonym": entry.pseudonym,
        "credential": entry.credential,
        "contest": entry.contest,
        "ballot": ballot_of(entry),
        "ballot_hash": entry.ballot_hash,
        "checks_left": MAX_USES - row.uses,
        "election_key": json.loads(election.election_key or "{}"),
        "candidates": [
            {"id": c.code, "number": c.ballot_number, "name": {"th": c.name_th, "en": c.name_en}}
            for c in (contest.candidates if contest else [])
        ],
    }

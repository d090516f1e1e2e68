"""Opening and closing polls: the board side of the two-official actions (docs/record.md §2.3)."""
from __future__ import annotations

from flask import Flask

from app.models import Election, PendingAction
from app.models.base import utcnow
from app.services.administration import approval_cards, approvals, authority, decision_cards
from app.services.voting import board, lots, paper_votes, poll_extensions
from app.services.errors import NotReady


def on_open(election: Election, pending: PendingAction) -> None:
    """Polls may open only with an election key and a valid opening object signed by the
    credential authority (docs/record.md §2.0); the empty board gets its first checkpoint,
    which carries the opening hash."""
    if not election.election_key:
        raise NotReady("polls cannot open before the key ceremony has made the election key")
    authority.require_valid_opening(election)
    head = board.lock_head(election)
    board.write_checkpoint(election, head, pending.decided_at or utcnow(), final=False)


def on_close(election: Election, pending: PendingAction) -> None:
    """Closing signs the final board head; no ballot can follow it."""
    board.close(election, pending.decided_at or utcnow())


def init_app(app: Flask) -> None:
    approvals.register_hook("open_polls", on_open)
    approvals.register_hook("close_polls", on_close)
    approvals.register_hook("record_paper_votes", paper_votes.on_approve)
    approvals.register_hook("extend_polls", poll_extensions.on_approve)
    approvals.register_hook("record_lot", lots.on_approve)
    approval_cards.init_builtin()
    decision_cards.register()  # the approval cards of the poll extension and the lot

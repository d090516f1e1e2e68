"""Four-eyes actions: one official proposes, a different official approves (docs/accounts.md).

Approval runs the action's built-in state change and then every registered hook, in the same
transaction: if a hook raises, nothing is approved. The casting service registers its
close-polls hook (signing the board's final head) with::

    approvals.register_hook("close_polls", lambda election, pending: ...)
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from sqlalchemy import select, update

from app.extensions import db
from app.models import Election, Official, PendingAction
from app.services import audit
from app.services.errors import ServiceError

Hook = Callable[[Election, PendingAction], None]

#: action → (status required, status after)
TRANSITIONS: dict[str, tuple[str, str]] = {
    "open_polls": ("draft", "open"),
    "close_polls": ("open", "closed"),
    "record_paper_votes": ("closed", "closed"),
}
#: Actions proposed with a payload from their own page, not a bare dashboard button.
PAYLOAD_ACTIONS = frozenset({"record_paper_votes"})
_HOOKS: dict[str, list[Hook]] = {action: [] for action in TRANSITIONS}


class ApprovalRefused(ServiceError):
    """``reason``: self_approval, not_pending, wrong_status, already_proposed, unknown_action."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def register_hook(action: str, hook: Hook) -> None:
    """Run ``hook(election, pending)`` after the status change of every approved ``action``."""
    if action not in TRANSITIONS:
        raise ValueError(f"unknown action {action!r}")
    if hook not in _HOOKS[action]:
        _HOOKS[action].append(hook)


def unregister_hook(action: str, hook: Hook) -> None:
    if hook in _HOOKS.get(action, []):
        _HOOKS[action].remove(hook)


def _actor(official: Official) -> str:
    return f"official:{official.username}"


def pending_for(election: Election) -> list[PendingAction]:
    return list(db.session.scalars(
        select(PendingAction).where(PendingAction.election_pk == election.id,
                                    PendingAction.state == "pending")
        .order_by(PendingAction.id)))


def available_actions(election: Election) -> list[str]:
    return [a for a, (before, _) in TRANSITIONS.items()
            if election.status == before and a not in PAYLOAD_ACTIONS]


def propose(election: Election, action: str, official: Official, now: datetime,
            payload: str | None = None) -> PendingAction:
    if action not in TRANSITIONS or (action in PAYLOAD_ACTIONS) != (payload is not None):
        raise ApprovalRefused("unknown_action")
    if election.status != TRANSITIONS[action][0]:
        raise ApprovalRefused("wrong_status")
    if any(p.action == action for p in pending_for(election)):
        raise ApprovalRefused("already_proposed")
    pending = PendingAction(election=election, action=action, state="pending",
                            proposer_pk=official.id, proposed_at=now, payload=payload)
    db.session.add(pending)
    db.session.flush()
    audit.record(_actor(official), f"propose_{action}", election.slug,
                 {"pending_action": pending.id})
    db.session.commit()
    return pending


def approve(pending_id: int, official: Official, now: datetime) -> PendingAction:
    pending = _decide(pending_id, official, now, "approved")
    election = pending.election
    before, after = TRANSITIONS[pending.action]
    if election.status != before:
        db.session.rollback()
        raise ApprovalRefused("wrong_status")
    election.status = after
    audit.record(_actor(official), f"approve_{pending.action}", election.slug,
                 {"pending_action": pending.id, "proposer": pending.proposer.username,
                  "status": f"{before}->{after}"})
    try:
        for hook in list(_HOOKS[pending.action]):
            hook(election, pending)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return pending


def cancel(pending_id: int, official: Official, now: datetime) -> PendingAction:
    """Withdraw (proposer) or reject (anyone else) a proposal."""
    pending = _decide(pending_id, official, now, "cancelled", allow_self=True)
    audit.record(_actor(official), f"cancel_{pending.action}", pending.election.slug,
                 {"pending_action": pending.id})
    db.session.commit()
    return pending


def _decide(pending_id: int, official: Official, now: datetime, state: str,
            allow_self: bool = False) -> PendingAction:
    pending = db.session.get(PendingAction, pending_id)
    if pending is None or pending.state != "pending":
        raise ApprovalRefused("not_pending")
    if not allow_self and pending.proposer_pk == official.id:
        audit.record(_actor(official), "self_approval_refused", pending.election.slug,
                     {"pending_action": pending.id})
        db.session.commit()
        raise ApprovalRefused("self_approval")
    # Compare-and-set, so two concurrent decisions cannot both win.
    result = db.session.execute(
        update(PendingAction)
        .where(PendingAction.id == pending_id, PendingAction.state == "pending")
        .values(state=state, decider_pk=official.id, decided_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise ApprovalRefused("not_pending")
    db.session.refresh(pending)
    return pending

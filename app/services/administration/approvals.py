"""Four-eyes actions: one official proposes, a different official approves (docs/accounts.md §6).

A proposal lives for ``APPROVAL_LIFETIME_HOURS`` (``SSBVOTE_APPROVAL_LIFETIME_HOURS``, fixed
in ``expires_at`` when proposed). After that nobody can approve it: the first look at it
(dashboard, approval, cancellation, a new proposal) marks it ``expired`` and writes
``expire_<action>`` to the audit log.

Approval runs the action's built-in state change and then every registered hook, in the same
transaction: if a hook raises, nothing is approved. The casting service registers its
close-polls hook (signing the board's final head) with::

    approvals.register_hook("close_polls", lambda election, pending: ...)
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable, cast

from flask import current_app
from sqlalchemy import CursorResult, select, update

from app.extensions import db
from app.models import Election, Official, PendingAction
from app.services.administration import audit
from app.services.errors import Conflict
from election.lifecycle import Status

Hook = Callable[[Election, PendingAction], None]

#: action → (status required, status after): the status changes of election.lifecycle.TRANSITIONS
#: that two officials make, and the paper-vote list, which changes no status.
TRANSITIONS: dict[str, tuple[Status, Status]] = {
    "open_polls": (Status.DRAFT, Status.OPEN),
    "close_polls": (Status.OPEN, Status.CLOSED),
    "record_paper_votes": (Status.CLOSED, Status.CLOSED),
    "extend_polls": (Status.OPEN, Status.OPEN),  # docs/record.md §2.7
    "record_lot": (Status.TALLIED, Status.TALLIED),  # docs/record.md §4.6
}
#: Actions on one voter's account, in any election status, changing none (docs/accounts.md §10);
#: several may wait at once, one per payload.
ACCOUNT_ACTIONS = frozenset({"release_account"})
#: Actions proposed with a payload from their own page, not a bare dashboard button.
PAYLOAD_ACTIONS = frozenset({"record_paper_votes", "extend_polls", "record_lot"}) | ACCOUNT_ACTIONS
_HOOKS: dict[str, list[Hook]] = {action: [] for action in (*TRANSITIONS, *ACCOUNT_ACTIONS)}
#: Who the audit log names for what the clock decides (expiry).
SYSTEM_ACTOR = "system"


class ApprovalRefused(Conflict):
    """``reason``: self_approval, not_pending, expired, wrong_status, already_proposed,
    unknown_action."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def register_hook(action: str, hook: Hook) -> None:
    """Run ``hook(election, pending)`` after the status change of every approved ``action``."""
    if action not in _HOOKS:
        raise ValueError(f"unknown action {action!r}")
    if hook not in _HOOKS[action]:
        _HOOKS[action].append(hook)


def unregister_hook(action: str, hook: Hook) -> None:
    if hook in _HOOKS.get(action, []):
        _HOOKS[action].remove(hook)


def _actor(official: Official) -> str:
    return f"official:{official.username}"


def lifetime() -> timedelta:
    return timedelta(hours=int(current_app.config["APPROVAL_LIFETIME_HOURS"]))


def pending_for(election: Election) -> list[PendingAction]:
    """Proposals still waiting; call :func:`expire_due` first to leave out expired ones."""
    return list(db.session.scalars(
        select(PendingAction).where(PendingAction.election_pk == election.id,
                                    PendingAction.state == "pending")
        .order_by(PendingAction.id)))


def pending_by_id(pending_id: int) -> PendingAction | None:
    """The proposal with this id (in any state), or None."""
    return db.session.get(PendingAction, pending_id)


def expired_for(election: Election) -> list[PendingAction]:
    """Expired proposals still worth showing: the latest proposal of their action, for an
    action the election's status still allows."""
    latest: dict[str, PendingAction] = {}
    for proposal in db.session.scalars(
            select(PendingAction).where(PendingAction.election_pk == election.id)
            .order_by(PendingAction.id)):
        latest[proposal.action] = proposal
    return [p for p in latest.values()
            if p.state == "expired" and p.action in TRANSITIONS
            and election.status == TRANSITIONS[p.action][0]]


def expire_due(now: datetime) -> list[PendingAction]:
    """Mark every proposal whose lifetime is over as expired (audited); commit if any."""
    due = list(db.session.scalars(
        select(PendingAction).where(PendingAction.state == "pending",
                                    PendingAction.expires_at <= now)
        .order_by(PendingAction.id)))
    expired = [p for p in due if _expire(p)]
    if expired:
        db.session.commit()
    return expired


def _expire(pending: PendingAction) -> bool:
    """Compare-and-set pending → expired, audited; False if someone decided first."""
    result = cast(CursorResult[Any], db.session.execute(
        update(PendingAction)
        .where(PendingAction.id == pending.id, PendingAction.state == "pending")
        .values(state="expired")
        .execution_options(synchronize_session=False)
    ))
    if result.rowcount != 1:
        return False
    db.session.refresh(pending)
    audit.record(SYSTEM_ACTOR, f"expire_{pending.action}", pending.election.slug,
                 {"pending_action": pending.id, "proposer": pending.proposer.username,
                  "expires_at": pending.expires_at.isoformat()})
    return True


def available_actions(election: Election) -> list[str]:
    return [a for a, (before, _) in TRANSITIONS.items()
            if election.status == before and a not in PAYLOAD_ACTIONS]


def propose(election: Election, action: str, official: Official, now: datetime,
            payload: str | None = None) -> PendingAction:
    if action not in _HOOKS or (action in PAYLOAD_ACTIONS) != (payload is not None):
        raise ApprovalRefused("unknown_action")
    if action in TRANSITIONS and election.status != TRANSITIONS[action][0]:
        raise ApprovalRefused("wrong_status")
    expire_due(now)  # an expired proposal does not block a new one
    if any(p.action == action and (action not in ACCOUNT_ACTIONS or p.payload == payload)
           for p in pending_for(election)):
        raise ApprovalRefused("already_proposed")
    pending = PendingAction(election=election, action=action, state="pending",
                            proposer_pk=official.id, proposed_at=now,
                            expires_at=now + lifetime(), payload=payload)
    db.session.add(pending)
    db.session.flush()
    audit.record(_actor(official), f"propose_{action}", election.slug,
                 {"pending_action": pending.id, "expires_at": pending.expires_at.isoformat()})
    db.session.commit()
    return pending


def approve(pending_id: int, official: Official, now: datetime,
            payload: str | None = None) -> PendingAction:
    """Approve (and carry out) a proposal of another official.  ``payload``: what the action
    carries, replaced by the approver's version before the hooks run (the paper-vote list with
    the approver's signature added, app/services/voting/paper_votes.py)."""
    pending = _decide(pending_id, official, now, "approved")
    if payload is not None:
        pending.payload = payload
    election = pending.election
    details: dict[str, object] = {"pending_action": pending.id,
                                  "proposer": pending.proposer.username}
    if pending.action in TRANSITIONS:
        before, after = TRANSITIONS[pending.action]
        if election.status != before:
            db.session.rollback()
            raise ApprovalRefused("wrong_status")
        election.status = after.value
        details["status"] = f"{before}->{after}"
    audit.record(_actor(official), f"approve_{pending.action}", election.slug, details)
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
    if pending is not None and pending.state == "pending" and pending.expires_at <= now:
        if _expire(pending):
            db.session.commit()
        else:  # decided meanwhile
            db.session.refresh(pending)
    if pending is not None and pending.state == "expired":
        raise ApprovalRefused("expired")
    if pending is None or pending.state != "pending":
        raise ApprovalRefused("not_pending")
    if not allow_self and pending.proposer_pk == official.id:
        audit.record(_actor(official), "self_approval_refused", pending.election.slug,
                     {"pending_action": pending.id})
        db.session.commit()
        raise ApprovalRefused("self_approval")
    # Compare-and-set, so two concurrent decisions cannot both win, nor one after expiry.
    result = cast(CursorResult[Any], db.session.execute(
        update(PendingAction)
        .where(PendingAction.id == pending_id, PendingAction.state == "pending",
               PendingAction.expires_at > now)
        .values(state=state, decider_pk=official.id, decided_at=now)
        .execution_options(synchronize_session=False)
    ))
    if result.rowcount != 1:
        db.session.rollback()
        raise ApprovalRefused("not_pending")
    db.session.refresh(pending)
    return pending

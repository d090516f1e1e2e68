"""Releasing a squatted account: two officials, audited (docs/accounts.md §10).

One official proposes with a reason (how the real voter's identity was checked); a different
official approves through the four-eyes mechanism (app/services/administration/approvals.py,
action ``release_account``).  Approval deletes the account — password hash, TOTP secret,
failure state and so every session — voids its open activation codes, lifts every sign-in and
registration lock of the voter's identifier (the squatter's failures must not hold the real
voter back; as lockouts.unlock does) and sends a fresh code to the address on file, so the real
voter can register again.
"""
from __future__ import annotations

import json
from datetime import datetime

from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Election, Official, PendingAction, RollEntry, VoterAccount
from app.services.administration import approvals, audit
from app.services.errors import InvalidRequest
from app.services.identity import activation, notify, principals, throttle
from app.services.identity.accounts import AccountNotFound
from crypto.encoding import canonical_json

ACTION = "release_account"


def propose(official: Official, electorate: str, voter_key: str, reason: str,
            now: datetime) -> PendingAction:
    """Raises :class:`AccountNotFound`, or approvals.ApprovalRefused (e.g. already proposed)."""
    reason = reason.strip()
    if not 5 <= len(reason) <= 500:
        raise InvalidRequest("reason: 5 to 500 characters")
    if electorate not in principals.VOTER_KINDS:
        raise AccountNotFound("no account")
    account = principals.find(electorate, voter_key)
    if not isinstance(account, VoterAccount):
        raise AccountNotFound("no account")
    entry = account.roll_entry
    election = db.session.get(Election, entry.election_pk)
    assert election is not None
    payload = canonical_json({"electorate": electorate, "pseudonym": entry.pseudonym,
                              "reason": reason}).decode()
    return approvals.propose(election, ACTION, official, now, payload)


def describe(pending: PendingAction) -> dict[str, str]:
    """What the dashboard shows of a release proposal: electorate, pseudonym, reason."""
    data = json.loads(pending.payload or "{}")
    return {k: str(data.get(k, "")) for k in ("electorate", "pseudonym", "reason")}


def on_approve(election: Election, pending: PendingAction) -> None:
    """The approval hook: wipe the account, void its codes, send a fresh one, tell the voter."""
    details = describe(pending)
    entry = db.session.scalar(select(RollEntry).where(RollEntry.pseudonym == details["pseudonym"]))
    if entry is None:
        raise AccountNotFound("no such voter")
    now = pending.decided_at
    assert now is not None
    account = db.session.scalar(select(VoterAccount).where(VoterAccount.roll_entry_pk == entry.id))
    if account is not None:
        db.session.delete(account)
    activation.void_open(entry, now)
    for purpose in throttle.PURPOSES:
        throttle.clear_identifier(purpose, entry.electorate, entry.voter_key)
    db.session.flush()
    audit.record(f"official:{pending.proposer.username}+"
                 f"{pending.decider.username if pending.decider else '?'}",
                 "release_account", entry.pseudonym,
                 {"pending_action": pending.id, "had_account": account is not None,
                  "reason": details["reason"]})
    notify.send("released", entry, now)
    activation.issue(entry, "release", now, "system")


def init_app(app: Flask) -> None:
    approvals.register_hook(ACTION, on_approve)

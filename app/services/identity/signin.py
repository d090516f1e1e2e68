"""Two-step sign-in (password, then TOTP) shared by voters and officials (ASVS V2).

Every failure raises :class:`SignInFailed` with one generic reason, whether the ID exists or
not, after the same argon2 work. Password attempts count against the identifier as typed, per
client and for every client (throttle.counter_key), which unknown IDs have too; TOTP attempts
count against the account. Each attempt is reserved under a row lock before its check, so a
lock-out looks the same for every ID and concurrent attempts cannot pass the limits
(docs/accounts.md §3). ``now`` is always passed in (time is injected).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from app.extensions import db
from app.models import Official, VoterAccount
from app.services.administration import audit
from app.services.identity import passwords, principals, throttle, totp
from app.services.errors import NotSignedIn, TooMany


class SignInFailed(NotSignedIn):
    """Wrong ID, password or code. Deliberately says nothing more."""


class AccountLocked(TooMany):
    """Too many failures: try again at ``until`` (UTC)."""

    def __init__(self, until: datetime):
        super().__init__(f"locked until {until.isoformat()}")
        self.until = until


@dataclass(frozen=True)
class Ticket:
    """The result of a correct password: who, at which session epoch, and what comes next."""

    kind: str
    principal_id: int
    epoch: int
    needs_enrolment: bool


def check_password(kind: str, login_id: str, password: str, limits: throttle.Limits,
                   now: datetime, client: throttle.Client = throttle.NO_CLIENT,
                   identifier_limits: throttle.Limits | None = None) -> Ticket:
    """First step. The attempt is reserved on the identifier's counters before any password
    work (docs/accounts.md §3): the (identifier, client) counter with ``limits``, and — unless
    this browser is a remembered device of this account — the identifier's counter for every
    client with ``identifier_limits``. A stranger's failures lock only the stranger's client;
    failures spread over many clients lock the identifier, but never its owner's remembered
    device. A success gives the attempt back."""
    normalised = principals.normalise_key(kind, login_id)
    principal = principals.find(kind, login_id)
    principal_id = principal.id if principal is not None else None
    mine = signin_counter(kind, normalised, client.scope(kind, principal_id))
    everyone = signin_counter(kind, normalised)
    keys = [(mine, limits)]
    if not client.remembered_for(kind, principal_id):
        keys.append((everyone, identifier_limits or limits))
    until = throttle.reserve(keys, now)
    if until is not None:
        raise AccountLocked(until)
    if principal is None:
        passwords.dummy_verify(password)
        raise SignInFailed("sign-in failed")
    if not passwords.verify_password(principal.password_hash, password):
        if isinstance(principal, Official):
            audit.record(f"official:{principal.username}", "official_login_failed",
                         principal.username, {"factor": "password"})
            db.session.commit()
        raise SignInFailed("sign-in failed")
    throttle.record_client_success(mine)
    throttle.refund(everyone)
    if passwords.needs_rehash(principal.password_hash):
        principal.password_hash = passwords.hash_password(password)
    db.session.commit()
    return Ticket(kind, principal.id, principal.session_epoch,
                  not principals.totp_confirmed(principal))


def check_code(ticket: Ticket, code: str, limits: throttle.Limits, now: datetime) -> int:
    """Second step (also completes enrolment). Returns the new session epoch.

    The attempt is reserved on the account's own counter under the account's row lock before
    the code is checked (its failures lock the TOTP step only; only someone who passed the
    password step reaches it). A correct code is accepted by one conditional UPDATE — step
    newer than the last accepted one, epoch still the ticket's — so a code sent by many
    sessions at once signs in exactly one. A ticket is spent once the epoch moves on: after a
    successful sign-in, logout or reset.
    """
    model = principals.model_for(ticket.kind)
    row = db.session.scalar(
        select(model).where(model.id == ticket.principal_id).with_for_update(of=model)
        .execution_options(populate_existing=True))
    principal = row if isinstance(row, (VoterAccount, Official)) else None
    if principal is None or not principals.is_live(ticket.kind, principal) \
            or principal.session_epoch != ticket.epoch:
        db.session.rollback()
        raise SignInFailed("sign-in failed")
    until = throttle.locked_until(principal, now)
    if until is not None:
        db.session.rollback()
        raise AccountLocked(until)
    throttle.record_failure(principal, limits, now)  # reserved; a success resets it
    secret, last_step = principal.totp_secret, principal.totp_last_step or 0
    db.session.commit()
    step = totp.matching_step(secret, code, last_step, now)
    if step is None:
        if isinstance(principal, Official):
            audit.record(f"official:{principal.username}", "official_login_failed",
                         principal.username, {"factor": "totp",
                                              "failures": principal.failed_attempts})
            db.session.commit()
        raise SignInFailed("sign-in failed")
    values: dict[str, object] = {
        "totp_last_step": step, "session_epoch": ticket.epoch + 1, "failed_attempts": 0,
        "failure_window_start": None, "locked_until": None}
    if isinstance(principal, VoterAccount):
        values["totp_confirmed"] = True
    won = db.session.execute(
        update(model)
        .where(model.id == ticket.principal_id, model.session_epoch == ticket.epoch,
               model.totp_last_step < step)
        .values(**values).execution_options(synchronize_session=False))
    if getattr(won, "rowcount", 0) != 1:  # another session spent this code or this ticket
        db.session.rollback()
        raise SignInFailed("sign-in failed")
    if isinstance(principal, Official):
        audit.record(f"official:{principal.username}", "official_login", principal.username)
    db.session.commit()
    db.session.expire_all()
    return ticket.epoch + 1


def end_sessions(kind: str, principal_id: int, reason: str = "logout") -> None:
    """Revoke every session of the principal (logout on one device logs out all)."""
    principal = principals.load(kind, principal_id)
    if principal is None:
        return
    bump_epoch(principal)
    if isinstance(principal, Official):
        audit.record(f"official:{principal.username}", f"official_{reason}", principal.username)
    db.session.commit()


def bump_epoch(principal: principals.Principal) -> None:
    """session_epoch + 1 in one UPDATE (never a read-modify-write that a concurrent sign-in
    could overwrite): every session and pending ticket of the principal dies. Caller commits."""
    model = type(principal)
    db.session.execute(update(model).where(model.id == principal.id)
                       .values(session_epoch=model.session_epoch + 1)
                       .execution_options(synchronize_session=False))
    db.session.expire(principal, ["session_epoch"])


def signin_counter(kind: str, normalised_id: str, client_scope: str | None = None) -> str:
    """The key of the sign-in failure counter of an identifier (known or not), for every client
    or for one (:meth:`throttle.Client.scope`)."""
    return throttle.counter_key("signin", kind, normalised_id, client_scope)

"""Two-step sign-in (password, then TOTP) shared by voters and officials (ASVS V2).

Every failure raises :class:`SignInFailed` with one generic reason, whether the ID exists or
not, after the same argon2 work. Failures count twice: against the principal, and against the
identifier as typed (throttle.counter_key), which unknown IDs have too. The password step
decides "locked" from that counter before any password work, so a lock-out looks the same for
every ID (docs/accounts.md §3). ``now`` is always passed in (time is injected).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.extensions import db
from app.models import Official
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
                   now: datetime) -> Ticket:
    counter = signin_counter(kind, principals.normalise_key(kind, login_id))
    principal = principals.find(kind, login_id)
    # The identifier's counter mirrors every failure of the account (password and code), so
    # the account's own lock adds nothing here unless the counter was cleared by a key change.
    until = _later(throttle.counter_locked_until(counter, now),
                   throttle.locked_until(principal, now) if principal is not None else None)
    if until is not None:
        raise AccountLocked(until)
    if principal is None:
        passwords.dummy_verify(password)
        _fail(kind, counter, None, limits, now, "password")
        raise SignInFailed("sign-in failed")
    if not passwords.verify_password(principal.password_hash, password):
        _fail(kind, counter, principal, limits, now, "password")
        raise SignInFailed("sign-in failed")
    if passwords.needs_rehash(principal.password_hash):
        principal.password_hash = passwords.hash_password(password)
        db.session.commit()
    return Ticket(kind, principal.id, principal.session_epoch,
                  not principals.totp_confirmed(principal))


def check_code(ticket: Ticket, code: str, limits: throttle.Limits, now: datetime) -> int:
    """Second step (also completes enrolment). Returns the new session epoch.

    A ticket is spent once the epoch moves on: after a successful sign-in, logout or reset.
    """
    principal = principals.load(ticket.kind, ticket.principal_id)
    if principal is None or principal.session_epoch != ticket.epoch:
        raise SignInFailed("sign-in failed")
    counter = signin_counter(ticket.kind, principals.login_key(principal))
    until = _later(throttle.locked_until(principal, now),
                   throttle.counter_locked_until(counter, now))
    if until is not None:
        raise AccountLocked(until)
    step = totp.matching_step(principal.totp_secret, code, principal.totp_last_step or 0, now)
    if step is None:
        _fail(ticket.kind, counter, principal, limits, now, "totp")
        raise SignInFailed("sign-in failed")
    principal.totp_last_step = step
    if not principals.totp_confirmed(principal):
        principal.totp_confirmed = True  # type: ignore[union-attr]
    # The identifier's counter is not cleared: a success must not tell a guesser who watches
    # the back-off that the ID is real. It runs out with its window.
    throttle.record_success(principal)
    principal.session_epoch = (principal.session_epoch or 0) + 1
    if isinstance(principal, Official):
        audit.record(f"official:{principal.username}", "official_login", principal.username)
    db.session.commit()
    return principal.session_epoch


def end_sessions(kind: str, principal_id: int, reason: str = "logout") -> None:
    """Revoke every session of the principal (logout on one device logs out all)."""
    principal = principals.load(kind, principal_id)
    if principal is None:
        return
    principal.session_epoch = (principal.session_epoch or 0) + 1
    if isinstance(principal, Official):
        audit.record(f"official:{principal.username}", f"official_{reason}", principal.username)
    db.session.commit()


def signin_counter(kind: str, normalised_id: str) -> str:
    """The key of the sign-in failure counter of an identifier (known or not)."""
    return throttle.counter_key("signin", kind, normalised_id)


def _later(first: datetime | None, second: datetime | None) -> datetime | None:
    return max(first, second) if first is not None and second is not None else first or second


def _fail(kind: str, counter: str, principal: principals.Principal | None,
          limits: throttle.Limits, now: datetime, factor: str) -> None:
    throttle.record_counter_failure(counter, limits, now)
    if principal is not None:
        throttle.record_failure(principal, limits, now)
    if isinstance(principal, Official):
        audit.record(f"official:{principal.username}", "official_login_failed",
                     principal.username, {"factor": factor,
                                          "failures": principal.failed_attempts})
    db.session.commit()

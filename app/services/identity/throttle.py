"""Failed-attempt counters with back-off (OWASP ASVS V2.2.1), per principal, per identifier and
per (identifier, client) — docs/accounts.md §3.

A counter counts failures in a window (one hour for sign-in). After ``free`` failures each
further failure locks for 2^(n−free) seconds (capped); after ``max_per_window`` failures it
stays locked until the window ends. Limits come from ``app.config`` (see app/auth.py).

Two kinds of counter share that arithmetic:

- a principal's own columns (``VoterAccount``, ``Official``: :class:`SignInState`);
- a :class:`ThrottleCounter` row per *identifier as typed*, and one per (identifier, client),
  found by :func:`counter_key`, a keyed hash of (purpose, kind, normalised identifier[, client]).
  It exists whether or not an account or roll entry has that identifier, so an unknown ID is
  locked exactly like a known one. The key starts with the identifier's own tag, so an official
  can unlock every counter of one identifier (:func:`clear_identifier`).

An attempt is *reserved* (:func:`reserve`) before its check: the rows are locked (``SELECT …
FOR UPDATE``), refused if locked, else counted as a failure and committed; a success then gives
the attempt back (:func:`record_client_success`, :func:`refund`). So concurrent guesses are
counted one by one and no more are checked than the limits allow.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import ThrottleCounter
from app.models.account_state import FailureCounter

WINDOW = timedelta(hours=1)
#: Purposes of identifier counters (part of the hashed key, so each counts apart).
PURPOSES = ("signin", "register")
#: Stale counter rows deleted per recorded failure (keeps the table at the live rows).
PRUNE_BATCH = 100
_KEY_LABEL = b"ssbvote/throttle-counter/v2"
#: Hex digits of a counter key naming the identifier; the rest names the scope (any client, or
#: one client). 96 bits: no two identifiers share a tag in practice.
_TAG_HEX = 24
_SCOPE_HEX = 40
_ANY_CLIENT = "*"


@dataclass(frozen=True)
class Client:
    """Who is trying, as far as throttling cares: the client address (after the configured
    proxies) and, if the browser shows a valid remembered-device cookie, the (kind, principal
    id, device id) it was issued for after a successful sign-in (app/auth.py)."""

    address: str
    device: tuple[str, int, str] | None = None

    def remembered_for(self, kind: str, principal_id: int | None) -> bool:
        return self.device is not None and self.device[:2] == (kind, principal_id)

    def scope(self, kind: str, principal_id: int | None) -> str:
        """The device, for the account it was remembered for; else the address."""
        if self.device is not None and self.remembered_for(kind, principal_id):
            return "device:" + self.device[2]
        return "address:" + self.address


#: Outside a request (CLI, tests of services): one anonymous client.
NO_CLIENT = Client("-")


@dataclass(frozen=True)
class Limits:
    max_per_window: int = 100
    free: int = 5
    max_backoff_seconds: int = 60
    window: timedelta = WINDOW


def locked_until(counter: FailureCounter, now: datetime) -> datetime | None:
    """When the counter's owner may try again, if it may not try now."""
    until = counter.locked_until
    return until if until is not None and until > now else None


def record_failure(counter: FailureCounter, limits: Limits, now: datetime) -> None:
    start = counter.failure_window_start
    if start is None or now - start >= limits.window:
        counter.failure_window_start = now
        counter.failed_attempts = 0
        start = now
    counter.failed_attempts = (counter.failed_attempts or 0) + 1
    count = counter.failed_attempts
    if count >= limits.max_per_window:
        counter.locked_until = start + limits.window
    elif count > limits.free:
        delay = min(2 ** min(count - limits.free, 30), limits.max_backoff_seconds)
        counter.locked_until = now + timedelta(seconds=delay)


def record_success(counter: FailureCounter) -> None:
    counter.failed_attempts = 0
    counter.failure_window_start = None
    counter.locked_until = None


# --- per identifier --------------------------------------------------------------------------
def counter_key(purpose: str, kind: str, normalised_id: str, client_scope: str | None = None) -> str:
    """The identifier's tag (HMAC-SHA256 of purpose, kind and identifier, first 24 hex) followed
    by the scope's (40 hex): every client together (``client_scope`` None) or one client.

    Keyed with a key derived from the pseudonym key, because national IDs are too few (10^12)
    for a plain hash to hide them. The pseudonym key does not change during an election, so
    neither do these keys.
    """
    tag = identifier_tag(purpose, kind, normalised_id)
    scope = _ANY_CLIENT if client_scope is None else client_scope
    return tag + hmac.new(_derived_key(), f"{tag}\x00{scope}".encode("utf-8"),
                          hashlib.sha256).hexdigest()[:_SCOPE_HEX]


def identifier_tag(purpose: str, kind: str, normalised_id: str) -> str:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown throttle purpose {purpose!r}")
    message = "\x00".join((purpose, kind, normalised_id)).encode("utf-8")
    return hmac.new(_derived_key(), message, hashlib.sha256).hexdigest()[:_TAG_HEX]


def _derived_key() -> bytes:
    secret = current_app.config["SSBVOTE"].pseudonym_key.encode("utf-8")
    return hmac.new(secret, _KEY_LABEL, hashlib.sha256).digest()


def counter_locked_until(key: str, now: datetime) -> datetime | None:
    row = db.session.get(ThrottleCounter, key)
    return locked_until(row, now) if row is not None else None


def reserve(keys: list[tuple[str, Limits]], now: datetime) -> datetime | None:
    """Reserve one attempt on every counter, before the check it guards, and commit.

    The rows are created if missing and locked in the order given (always the same order for
    one identifier, so two reservations cannot deadlock). If any is locked, nothing is counted
    and the latest lock's end is returned; else each counts the attempt as a failure (a success
    gives it back afterwards) and None is returned.
    """
    rows = [(_locked_row(key, now), limits) for key, limits in keys]
    ends = [until for row, _limits in rows if (until := locked_until(row, now)) is not None]
    if ends:
        db.session.rollback()
        return max(ends)
    for row, limits in rows:
        record_failure(row, limits, now)
        _set_expiry(row, limits)
    db.session.flush()
    prune(now)  # after every row has its expiry: a row created here is not stale
    db.session.commit()
    return None


def refund(key: str) -> None:
    """Give back one reserved attempt that succeeded (conditional UPDATE: concurrent failures
    and refunds never overwrite each other). A lock already set stays. The caller commits."""
    db.session.execute(
        update(ThrottleCounter)
        .where(ThrottleCounter.key == key, ThrottleCounter.failed_attempts > 0)
        .values(failed_attempts=ThrottleCounter.failed_attempts - 1)
        .execution_options(synchronize_session=False))


def record_client_success(key: str) -> None:
    """A success from this client: its own counter starts again. The caller commits."""
    clear_counter(key)


def clear_identifier(purpose: str, kind: str, normalised_id: str) -> int:
    """Delete every counter of the identifier: all clients' and the one for every client (an
    official's unlock, docs/accounts.md §3). Returns how many there were. The caller commits."""
    tag = identifier_tag(purpose, kind, normalised_id)
    result = db.session.execute(
        delete(ThrottleCounter)
        .where(ThrottleCounter.key >= tag, ThrottleCounter.key < tag + "g")
        .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def record_counter_failure(key: str, limits: Limits, now: datetime) -> ThrottleCounter:
    """Count one failure against ``key`` (created if new). The caller commits."""
    row = _locked_row(key, now)
    record_failure(row, limits, now)
    _settle(row, limits, now)
    return row


def clear_counter(key: str) -> None:
    db.session.execute(delete(ThrottleCounter).where(ThrottleCounter.key == key))


def prune(now: datetime) -> None:
    """Delete counters past their window and lock, skipping rows another transaction holds."""
    stale = (select(ThrottleCounter.key).where(ThrottleCounter.expires_at <= now)
             .limit(PRUNE_BATCH).with_for_update(skip_locked=True))
    db.session.execute(delete(ThrottleCounter).where(ThrottleCounter.key.in_(stale))
                       .execution_options(synchronize_session=False))


def _locked_row(key: str, now: datetime) -> ThrottleCounter:
    """The counter row, created if missing, locked for this transaction (PostgreSQL: FOR
    UPDATE; SQLite transactions already hold the write lock from BEGIN IMMEDIATE)."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(
        insert(ThrottleCounter)
        .values(key=key, failed_attempts=0, failure_window_start=None, locked_until=None,
                expires_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    row = db.session.scalar(
        select(ThrottleCounter).where(ThrottleCounter.key == key).with_for_update()
        .execution_options(populate_existing=True))
    assert row is not None
    return row


def _settle(row: ThrottleCounter, limits: Limits, now: datetime) -> None:
    _set_expiry(row, limits)
    db.session.flush()
    prune(now)


def _set_expiry(row: ThrottleCounter, limits: Limits) -> None:
    start = row.failure_window_start
    assert start is not None  # record_failure sets it
    ends = start + limits.window
    row.expires_at = max(ends, row.locked_until) if row.locked_until is not None else ends

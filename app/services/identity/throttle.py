"""Failed-attempt counters with back-off (OWASP ASVS V2.2.1), per principal and per identifier.

A counter counts failures in a window (one hour for sign-in). After ``free`` failures each
further failure locks for 2^(n−free) seconds (capped); after ``max_per_window`` failures it
stays locked until the window ends. Limits come from ``app.config`` (see app/auth.py).

Two kinds of counter share that arithmetic:

- a principal's own columns (``VoterAccount``, ``Official``: :class:`SignInState`);
- a :class:`ThrottleCounter` row per *identifier as typed*, found by :func:`counter_key`, a
  keyed hash of (purpose, kind, normalised identifier). It exists whether or not an account or
  roll entry has that identifier, so an unknown ID is locked exactly like a known one
  (docs/accounts.md §3).
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import ThrottleCounter
from app.models.account_state import FailureCounter

WINDOW = timedelta(hours=1)
#: Purposes of identifier counters (part of the hashed key, so each counts apart).
PURPOSES = ("signin", "register")
#: Stale counter rows deleted per recorded failure (keeps the table at the live rows).
PRUNE_BATCH = 100
_KEY_LABEL = b"ssbvote/throttle-counter/v1"


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
def counter_key(purpose: str, kind: str, normalised_id: str) -> str:
    """HMAC-SHA256 of the identifier under a key derived from the pseudonym key.

    Keyed, because national IDs are too few (10^12) for a plain hash to hide them. The
    pseudonym key does not change during an election, so neither do these keys.
    """
    if purpose not in PURPOSES:
        raise ValueError(f"unknown throttle purpose {purpose!r}")
    secret = current_app.config["SSBVOTE"].pseudonym_key.encode("utf-8")
    derived = hmac.new(secret, _KEY_LABEL, hashlib.sha256).digest()
    message = "\x00".join((purpose, kind, normalised_id)).encode("utf-8")
    return hmac.new(derived, message, hashlib.sha256).hexdigest()


def counter_locked_until(key: str, now: datetime) -> datetime | None:
    row = db.session.get(ThrottleCounter, key)
    return locked_until(row, now) if row is not None else None


def record_counter_failure(key: str, limits: Limits, now: datetime) -> ThrottleCounter:
    """Count one failure against ``key`` (created if new). The caller commits."""
    row = _locked_row(key, now)
    record_failure(row, limits, now)
    _settle(row, limits, now)
    return row


def take_attempt(key: str, limits: Limits, now: datetime) -> datetime | None:
    """Count an attempt *before* it is made; return the lock's end if it may not be made.

    For checks whose failure cannot be recorded after the fact without a race (registration):
    the row lock makes concurrent attempts count one by one. A success calls
    :func:`clear_counter`. The caller commits.
    """
    row = _locked_row(key, now)
    until = locked_until(row, now)
    if until is None:
        record_failure(row, limits, now)
        _settle(row, limits, now)
    return until


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
    start = row.failure_window_start
    assert start is not None  # record_failure sets it
    ends = start + limits.window
    row.expires_at = max(ends, row.locked_until) if row.locked_until is not None else ends
    db.session.flush()
    prune(now)

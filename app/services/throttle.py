"""Per-account failed sign-in counter with back-off (OWASP ASVS V2.2.1).

Counts password and TOTP failures in a one-hour window. After ``free`` failures each further
failure locks the account for 2^(n−free) seconds (capped); after ``max_per_hour`` failures it
stays locked until the window ends. Limits come from ``app.config`` (see app/auth.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.models.account_state import SignInState

WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Limits:
    max_per_hour: int = 100
    free: int = 5
    max_backoff_seconds: int = 60


def locked_until(principal: SignInState, now: datetime) -> datetime | None:
    """When the principal may try again, if it may not try now."""
    until = principal.locked_until
    return until if until is not None and until > now else None


def record_failure(principal: SignInState, limits: Limits, now: datetime) -> None:
    start = principal.failure_window_start
    if start is None or now - start >= WINDOW:
        principal.failure_window_start = now
        principal.failed_attempts = 0
        start = now
    principal.failed_attempts = (principal.failed_attempts or 0) + 1
    count = principal.failed_attempts
    if count >= limits.max_per_hour:
        principal.locked_until = start + WINDOW
    elif count > limits.free:
        delay = min(2 ** min(count - limits.free, 30), limits.max_backoff_seconds)
        principal.locked_until = now + timedelta(seconds=delay)


def record_success(principal: SignInState) -> None:
    principal.failed_attempts = 0
    principal.failure_window_start = None
    principal.locked_until = None

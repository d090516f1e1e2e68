"""Sign-in state: the failure counter (per principal and per identifier) and session epoch."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class FailureCounter:
    """Failures in the current window and the lock they caused (app/services/identity/throttle.py)."""

    failed_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Start of the window that ``failed_attempts`` counts in.
    failure_window_start: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SignInState(FailureCounter):
    """Columns every principal that signs in carries (voters and officials).

    ``session_epoch`` is stored in the signed session cookie; bumping it in the database
    revokes every session of the principal (logout, TOTP reset, next login).
    """

    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ThrottleCounter(FailureCounter, Base):
    """Failures counted per identifier as typed, whether or not an account or roll entry has
    that identifier, so that a lock-out says nothing about existence (docs/accounts.md §3).

    ``key`` is a keyed hash of (purpose, kind, normalised identifier): the table never holds
    a raw national ID, not even of someone who is not on the roll.
    """

    __tablename__ = "throttle_counter"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: When the row stops mattering (window over, lock over); later rows are pruned.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

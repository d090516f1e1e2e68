"""Sign-in state shared by voter accounts and officials (failure counter, session epoch)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import UTCDateTime


class SignInState:
    """Columns every principal that signs in carries (voters and officials).

    ``session_epoch`` is stored in the signed session cookie; bumping it in the database
    revokes every session of the principal (logout, TOTP reset, next login).
    """

    failed_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Start of the one-hour window that ``failed_attempts`` counts in.
    failure_window_start: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

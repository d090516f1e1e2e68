"""Election officials and the append-only audit log of everything they do."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.account_state import SignInState
from app.models.base import Base, UTCDateTime, utcnow

OFFICIAL_ROLES = ("admin", "returning-officer")


class Official(SignInState, Base):
    __tablename__ = "official"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(200))
    totp_secret: Mapped[str] = mapped_column(String(64))
    #: Last accepted TOTP time step; a code from this step or earlier is refused (no replay).
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The public key (64 hex) of the official's credential (docs/protocol.md §13.2, purpose
    #: "official"): signs paper-vote lists, pinned by the CA in the opening.  The credential itself
    #: is shown once, when made, and never stored.  None for an official made before version 2.
    public_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        CheckConstraint("role IN ('admin','returning-officer')", name="role"),
    )


class AuditEntry(Base):
    """One official or system action. Rows are hash-chained so deletions show."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(200), default="")
    details: Mapped[str] = mapped_column(Text, default="{}")
    #: Unique, so two concurrent appends cannot fork the chain: the loser retries.
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)

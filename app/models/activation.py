"""Activation codes: the voting server's own single-use secrets, sent out of band to a voter on
the roll, that register or recover an account (docs/accounts.md §9).  Never the ballot
credential of the credential authority."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime
from app.models.roll import RollEntry


class ActivationCode(Base):
    __tablename__ = "activation_code"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    roll_entry_pk: Mapped[int] = mapped_column(ForeignKey("roll_entry.id", ondelete="CASCADE"))
    #: SHA-256 (hex) of the normalised code; the code itself is never stored.
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: Why it was sent: ``letter`` (issued before the election), ``request`` (the voter asked),
    #: ``release`` (after two officials released a squatted account).
    reason: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Set once, by a compare-and-set, when the code is redeemed or voided.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    roll_entry: Mapped[RollEntry] = relationship(lazy="joined")

    __table_args__ = (Index("ix_activation_code_roll_entry", "roll_entry_pk", "used_at"),)

"""Voter accounts (insured employees and employers) and the sign-in state they share with
officials: password hash, TOTP, failure counter and session epoch (docs/accounts.md)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.account_state import SignInState
from app.models.base import Base, UTCDateTime, utcnow
from app.models.roll import RollEntry


class VoterAccount(SignInState, Base):
    """One account per roll entry; the roll entry fixes the electorate and the pseudonym."""

    __tablename__ = "voter_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    roll_entry_pk: Mapped[int] = mapped_column(
        ForeignKey("roll_entry.id", ondelete="CASCADE"), unique=True
    )
    password_hash: Mapped[str] = mapped_column(String(200))
    totp_secret: Mapped[str] = mapped_column(String(64))
    #: False until the voter has proved possession of the secret with one valid code.
    totp_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Last accepted TOTP time step; a code from this step or earlier is refused (no replay).
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    roll_entry: Mapped[RollEntry] = relationship(lazy="joined")

    @property
    def electorate(self) -> str:
        return self.roll_entry.electorate

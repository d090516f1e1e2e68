"""The voter roll: one row per eligible voter of one electorate (docs/manifest.md §3)."""
from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class RollEntry(Base):
    __tablename__ = "roll_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_pk: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"))
    electorate: Mapped[str] = mapped_column(String(16))
    #: 13-digit national ID (insured) or employer account number (employer).
    voter_key: Mapped[str] = mapped_column(String(32))
    #: What a voter proves at registration besides the key: date of birth (insured) or the
    #: authorised person's national ID (employer).
    attribute: Mapped[str] = mapped_column(String(32))
    display_name: Mapped[str] = mapped_column(String(300), default="")
    #: Keyed hash of the voter key, the only identity ever published (docs/protocol.md).
    pseudonym: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (
        UniqueConstraint("election_pk", "electorate", "voter_key", name="uq_roll_entry_voter"),
        CheckConstraint("electorate IN ('insured','employer')", name="electorate"),
        Index("ix_roll_entry_attribute", "election_pk", "attribute"),
    )

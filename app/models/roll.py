"""The voter roll: one row per eligible voter of one electorate (docs/manifest.md §3)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base

if TYPE_CHECKING:
    from app.models.election import Contest


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
    #: The entry's route: the one contest of its electorate it is eligible for, computed at
    #: import from its attribute columns (docs/manifest.md §4.2–§4.3; the attribute values
    #: themselves are not kept).  The voter sees, casts and audits only this contest (§4.4).
    contest_pk: Mapped[int | None] = mapped_column(ForeignKey("contest.id", ondelete="CASCADE"),
                                                   nullable=True)

    contest: Mapped["Contest | None"] = relationship()

    __table_args__ = (
        UniqueConstraint("election_pk", "electorate", "voter_key", name="uq_roll_entry_voter"),
        CheckConstraint("electorate IN ('insured','employer')", name="electorate"),
        Index("ix_roll_entry_attribute", "election_pk", "attribute"),
        Index("ix_roll_entry_contest", "contest_pk"),
    )

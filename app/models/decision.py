"""Two-official decisions recorded as signed objects besides the paper-vote list: poll
extensions (docs/record.md §2.7) and lots at a tied last seat (§4.6), and the drafts officials
sign before proposing them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class DecisionDraft(Base):
    """An unsigned decision an official made and has yet to sign (as :class:`PaperListDraft`
    for the paper-vote list): its ``at`` is fixed when it was made, so the official signs the
    very bytes shown; one per official, election and action, replaced by a new one."""

    __tablename__ = "decision_draft"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_pk: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"))
    official_pk: Mapped[int] = mapped_column(ForeignKey("official.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(32))
    #: The unsigned object, canonical JSON.
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("election_pk", "official_pk", "action", name="uq_decision_draft"),)


class PollExtension(Base):
    """A poll extension signed by two officials (docs/record.md §2.7), numbered 1, 2, 3 in the
    order made; ``closes_at`` is its ``closes``, the effective close once it is the last."""

    __tablename__ = "poll_extension"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_pk: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The signed object, canonical JSON.
    body: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("election_pk", "number", name="uq_poll_extension_number"),)


class ContestLot(Base):
    """The lot drawn at a contest's tied last seat, signed by two officials (record.md §4.6)."""

    __tablename__ = "contest_lot"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_pk: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"))
    contest: Mapped[str] = mapped_column(String(64))
    #: The signed object, canonical JSON.
    body: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("election_pk", "contest", name="uq_contest_lot_contest"),)

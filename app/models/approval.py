"""Actions that need two officials: one proposes, a different one approves (four eyes)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow
from app.models.election import Election
from app.models.official import Official

APPROVAL_ACTIONS = ("open_polls", "close_polls", "record_paper_votes", "release_account", "extend_polls",
                    "record_lot")
#: ``expired``: nobody decided before ``expires_at`` (docs/accounts.md §6).
APPROVAL_STATES = ("pending", "approved", "cancelled", "expired")


class PendingAction(Base):
    __tablename__ = "pending_action"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_pk: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    proposer_pk: Mapped[int] = mapped_column(ForeignKey("official.id"))
    #: The second official: the approver, or whoever cancelled the proposal (None if expired).
    decider_pk: Mapped[int | None] = mapped_column(ForeignKey("official.id"), nullable=True)
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: Fixed when proposed (proposed_at + the configured lifetime); no approval after it.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: What the action carries, canonical JSON (the paper voters' pseudonyms; the released
    #: account's electorate, pseudonym and reason); None for polls.
    payload: Mapped[str | None] = mapped_column(Text, nullable=True)

    election: Mapped[Election] = relationship()
    proposer: Mapped[Official] = relationship(foreign_keys=[proposer_pk])
    decider: Mapped[Official | None] = relationship(foreign_keys=[decider_pk])

    __table_args__ = (
        CheckConstraint("action IN ('open_polls','close_polls','record_paper_votes','release_account',"
                        "'extend_polls','record_lot')",
                        name="action"),
        CheckConstraint("state IN ('pending','approved','cancelled','expired')", name="state"),
        # The database itself refuses a self-approval, whatever the code above it does.
        CheckConstraint(
            "state <> 'approved' OR (decider_pk IS NOT NULL AND decider_pk <> proposer_pk)",
            name="four_eyes",
        ),
        # ... and an approval after the proposal's lifetime (app/services/administration/approvals.py).
        CheckConstraint(
            "state <> 'approved' OR (decided_at IS NOT NULL AND decided_at < expires_at)",
            name="in_time",
        ),
    )

"""Elections, their contests, teams and candidates (docs/manifest.md)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow
from election.lifecycle import Status
from election.manifest import ELECTORATES as ELECTORATES  # re-exported

POLL_STATES = tuple(s.value for s in Status)  # draft, open, closed, tallied (election/lifecycle.py)


class Election(Base):
    __tablename__ = "election"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    #: SHA-256 (hex) of the canonical manifest: the election id bound into every proof.
    election_id: Mapped[str] = mapped_column(String(64), unique=True)
    title_th: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The canonical manifest JSON exactly as hashed.
    manifest: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=Status.DRAFT.value)
    #: The election public key with trustee verification keys (docs/protocol.md §9.2),
    #: canonical JSON; set by the key ceremony, required before polls open.
    election_key: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: The CA-signed opening object (docs/record.md §2.0), canonical JSON; required before polls
    #: open.  ``opening_hash`` is SHA-256 of those bytes: bound into every ballot signature,
    #: checkpoint, receipt and the paper-vote list.
    opening: Mapped[str | None] = mapped_column(Text, nullable=True)
    opening_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: The verified results.json of the published election record (docs/record.md §4.4).
    results: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    contests: Mapped[list["Contest"]] = relationship(
        back_populates="election", order_by="Contest.position", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint("status IN ('draft','open','closed','tallied')", name="status"),
        CheckConstraint("closes_at > opens_at", name="window"),
    )

    def contest_by_code(self, code: str) -> "Contest | None":
        """The contest with manifest id ``code`` (a voter's contest is their roll entry's
        route, :attr:`RollEntry.contest`, docs/manifest.md §4.2)."""
        return next((c for c in self.contests if c.code == code), None)


class Contest(Base):
    __tablename__ = "contest"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_pk: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    electorate: Mapped[str] = mapped_column(String(16))
    max_selections: Mapped[int] = mapped_column(Integer)
    #: How many candidates are elected (docs/manifest.md §4.1; format 1: max_selections).
    seats: Mapped[int] = mapped_column(Integer)
    title_th: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer)

    election: Mapped[Election] = relationship(back_populates="contests")
    teams: Mapped[list["Team"]] = relationship(
        back_populates="contest", order_by="Team.position", cascade="all, delete-orphan"
    )
    candidates: Mapped[list["Candidate"]] = relationship(
        back_populates="contest", order_by="Candidate.position", cascade="all, delete-orphan"
    )

    __table_args__ = (
        UniqueConstraint("election_pk", "code"),
        CheckConstraint("electorate IN ('insured','employer')", name="electorate"),
        CheckConstraint("max_selections >= 1", name="max_selections"),
        CheckConstraint("seats >= 1", name="seats"),
    )


class Team(Base):
    __tablename__ = "team"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contest_pk: Mapped[int] = mapped_column(ForeignKey("contest.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    name_th: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer)

    contest: Mapped[Contest] = relationship(back_populates="teams")

    __table_args__ = (UniqueConstraint("contest_pk", "code"),)


class Candidate(Base):
    __tablename__ = "candidate"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contest_pk: Mapped[int] = mapped_column(ForeignKey("contest.id", ondelete="CASCADE"))
    team_pk: Mapped[int | None] = mapped_column(ForeignKey("team.id", ondelete="SET NULL"))
    code: Mapped[str] = mapped_column(String(64))
    ballot_number: Mapped[int] = mapped_column(Integer)
    name_th: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    #: Index of this candidate's ciphertext in an encrypted ballot (manifest order).
    position: Mapped[int] = mapped_column(Integer)

    contest: Mapped[Contest] = relationship(back_populates="candidates")
    team: Mapped[Team | None] = relationship()

    __table_args__ = (
        UniqueConstraint("contest_pk", "code"),
        UniqueConstraint("contest_pk", "ballot_number", name="uq_candidate_contest_number"),
    )

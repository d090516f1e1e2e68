"""The bulletin board: an append-only, hash-chained list of accepted ballots, cast or audited
(docs/record.md §2)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class BoardHead(Base):
    """The newest entry of an election's board; locked (FOR UPDATE) while appending, so
    concurrent casts serialise and the chain can never fork."""

    __tablename__ = "board_head"

    election_pk: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    head: Mapped[str] = mapped_column(String(64))


class BoardEntry(Base):
    __tablename__ = "board_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_pk: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    #: "ballot" (a cast ballot) or "audit" (an audited ballot, never counted: docs/protocol.md §14).
    kind: Mapped[str] = mapped_column(String(8), default="ballot")
    pseudonym: Mapped[str] = mapped_column(String(64))
    contest: Mapped[str] = mapped_column(String(64))
    #: The voter's public credential that signed the ballot or audit statement (docs/protocol.md §13.3, §14.2).
    credential: Mapped[str] = mapped_column(String(64))
    #: ``ballot_hash`` of this credential's ballot before this one ("" for its first; "" for an audit).
    previous: Mapped[str] = mapped_column(String(64))
    #: An audit entry's published seed (64 hex) that opens its ballot; "" for a ballot entry,
    #: whose seed the server never sees (docs/protocol.md §4.4).
    seed: Mapped[str] = mapped_column(String(64), default="")
    #: The credential key's Ed25519 signature of the ballot (or audit) statement (128 hex).
    signature: Mapped[str] = mapped_column(String(128))
    #: SHA-256 of the ballot's canonical JSON; the ballot itself is the BoardBallot of that hash.
    ballot_hash: Mapped[str] = mapped_column(String(64))
    cast_at: Mapped[str] = mapped_column(String(40))
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("election_pk", "seq", name="uq_board_entry_seq"),
        # A second entry on the same predecessor would fork the chain: refused by the database.
        UniqueConstraint("election_pk", "prev_hash", name="uq_board_entry_prev"),
        UniqueConstraint("election_pk", "ballot_hash", name="uq_board_entry_ballot"),
        Index("ix_board_entry_voter", "election_pk", "pseudonym", "seq"),
        # The credential's current ballot (its highest seq) is read on every cast (``previous``).
        Index("ix_board_entry_credential", "election_pk", "credential", "seq"),
    )


class BoardBallot(Base):
    """The encrypted contest ballot of a board entry (canonical JSON, docs/protocol.md §9.3),
    keyed by its hash.  Kept apart from BoardEntry so that the ~1 MB write happens before the
    board head is locked: the serial part of a cast writes only the small entry row."""

    __tablename__ = "board_ballot"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_pk: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"))
    ballot_hash: Mapped[str] = mapped_column(String(64))
    ballot: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("election_pk", "ballot_hash", name="uq_board_ballot_hash"),)


class Checkpoint(Base):
    """A signed board head (docs/record.md §2.3); the one with ``final`` is written at close."""

    __tablename__ = "board_checkpoint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_pk: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The signed checkpoint object, canonical JSON.
    body: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_board_checkpoint_election", "election_pk", "seq"),)


class PaperListDraft(Base):
    """A paper-vote list an official uploaded and has yet to sign (docs/record.md §2.4): the
    unsigned list, its ``at`` fixed when it was made, so that the official signs the very bytes
    shown to them; one per official and election, replaced by a new upload."""

    __tablename__ = "paper_list_draft"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_pk: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"))
    official_pk: Mapped[int] = mapped_column(ForeignKey("official.id", ondelete="CASCADE"))
    #: The unsigned list, canonical JSON.
    body: Mapped[str] = mapped_column(Text)
    #: SHA-256 hex of ``body``: the digest shown to the official.
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("election_pk", "official_pk", name="uq_paper_list_draft_official"),)


class PaperOverrideList(Base):
    """The list of pseudonyms who voted on paper, signed by two officials (docs/record.md §2.4)."""

    __tablename__ = "paper_override_list"

    election_pk: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"), primary_key=True)
    body: Mapped[str] = mapped_column(Text)


class WitnessStatement(Base):
    """A pinned witness's latest statement of a board head it verified (docs/record.md §3.5);
    one per witness and election, replaced only by one of a higher (or equal) ``seq``."""

    __tablename__ = "witness_statement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_pk: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"))
    witness: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(Integer)
    #: The signed statement, canonical JSON.
    body: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("election_pk", "witness", name="uq_witness_statement"),)

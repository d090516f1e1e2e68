"""What the voting server keeps of the credential authority's work (docs/record.md §2.0, §6):
each roll entry's public credential (from the CA's mapping files, and replacements from its
revocations), the CA-signed credential list and the revocations, byte for byte, for the export.
The opening object itself is kept on the election (:attr:`Election.opening`)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow
from app.models.roll import RollEntry


class VoterCredential(Base):
    """A public credential of one roll entry.  A voter has one *live* credential (not revoked);
    a revoked one stays, naming its ``replacement`` (if the CA issued one)."""

    __tablename__ = "voter_credential"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_pk: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"))
    roll_entry_pk: Mapped[int] = mapped_column(ForeignKey("roll_entry.id", ondelete="CASCADE"))
    #: 64 lowercase hex: the Ed25519 public key of the voter's credential (docs/protocol.md §13.2).
    credential: Mapped[str] = mapped_column(String(64))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The credential that replaced this one (a revocation with reissue), if any.
    replacement: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: The revoked credential this one replaces; None for a credential of the CA's list.
    replaces: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: The contest the CA routed this credential's voter to (its mapping's ``contests``, or the
    #: revocation's ``contest``; record.md §6.1–§6.3): the cast API accepts ballots of the
    #: credential only in this contest, which must also be the roll entry's route.
    contest: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    roll_entry: Mapped[RollEntry] = relationship()

    __table_args__ = (
        UniqueConstraint("election_pk", "credential", name="uq_voter_credential_credential"),
        Index("ix_voter_credential_roll_entry", "roll_entry_pk", "revoked"),
    )


class CredentialList(Base):
    """The CA-signed public credential list (record.md §6.2): its bytes exactly (the opening
    pins their SHA-256) and that hash."""

    __tablename__ = "credential_list"

    election_pk: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CredentialRevocation(Base):
    """A CA-signed revocation (record.md §6.3), canonical JSON, in the order imported (``id``):
    the export's ``revocations.jsonl``."""

    __tablename__ = "credential_revocation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_pk: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"))
    revoked: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("election_pk", "revoked", name="uq_credential_revocation_revoked"),)

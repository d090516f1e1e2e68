"""record format version 2: voters' credentials, the CA's list, revocations and opening

Version 2 (issue 15, docs/record.md §2.0, §6, docs/protocol.md §13): every board entry carries
the voter's public credential, the ``previous`` ballot hash it chains to and the voter's
signature; the server keeps each roll entry's public credential (voter_credential), the
CA-signed credential list and revocations byte for byte, the CA-signed opening object on the
election, each official's public key, and the paper-vote list an official uploaded and is about
to sign (paper_list_draft).  Entries written before this revision get empty credential fields
(a version-1 board cannot be continued under version 2).

Revision ID: 0008_credentials
Revises: 0007_board_ballot
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_credentials"
down_revision = "0007_board_ballot"
branch_labels = None
depends_on = None

_ENTRY_COLUMNS = (("credential", 64), ("previous", 64), ("signature", 128))


def upgrade() -> None:
    with op.batch_alter_table("board_entry") as batch:
        for name, length in _ENTRY_COLUMNS:
            batch.add_column(sa.Column(name, sa.String(length=length), nullable=False, server_default=""))
    with op.batch_alter_table("board_entry") as batch:
        for name, length in _ENTRY_COLUMNS:
            batch.alter_column(name, existing_type=sa.String(length=length), server_default=None)
    op.create_index("ix_board_entry_credential", "board_entry", ["election_pk", "credential", "seq"])

    op.add_column("election", sa.Column("opening", sa.Text(), nullable=True))
    op.add_column("election", sa.Column("opening_hash", sa.String(length=64), nullable=True))
    op.add_column("official", sa.Column("public_key", sa.String(length=64), nullable=True))

    op.create_table(
        "voter_credential",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_pk", sa.Integer(), nullable=False),
        sa.Column("roll_entry_pk", sa.Integer(), nullable=False),
        sa.Column("credential", sa.String(length=64), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("replacement", sa.String(length=64), nullable=True),
        sa.Column("replaces", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["election_pk"], ["election.id"],
                                name=op.f("fk_voter_credential_election_pk_election"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["roll_entry_pk"], ["roll_entry.id"],
                                name=op.f("fk_voter_credential_roll_entry_pk_roll_entry"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voter_credential")),
        sa.UniqueConstraint("election_pk", "credential", name="uq_voter_credential_credential"),
    )
    op.create_index("ix_voter_credential_roll_entry", "voter_credential", ["roll_entry_pk", "revoked"])
    op.create_table(
        "credential_list",
        sa.Column("election_pk", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["election_pk"], ["election.id"],
                                name=op.f("fk_credential_list_election_pk_election"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("election_pk", name=op.f("pk_credential_list")),
    )
    op.create_table(
        "credential_revocation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_pk", sa.Integer(), nullable=False),
        sa.Column("revoked", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["election_pk"], ["election.id"],
                                name=op.f("fk_credential_revocation_election_pk_election"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_revocation")),
        sa.UniqueConstraint("election_pk", "revoked", name="uq_credential_revocation_revoked"),
    )
    op.create_table(
        "paper_list_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_pk", sa.Integer(), nullable=False),
        sa.Column("official_pk", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["election_pk"], ["election.id"],
                                name=op.f("fk_paper_list_draft_election_pk_election"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["official_pk"], ["official.id"],
                                name=op.f("fk_paper_list_draft_official_pk_official"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_list_draft")),
        sa.UniqueConstraint("election_pk", "official_pk", name="uq_paper_list_draft_official"),
    )


def downgrade() -> None:
    op.drop_table("paper_list_draft")
    op.drop_table("credential_revocation")
    op.drop_table("credential_list")
    op.drop_index("ix_voter_credential_roll_entry", table_name="voter_credential")
    op.drop_table("voter_credential")
    op.drop_index("ix_board_entry_credential", table_name="board_entry")
    # Dropped in place, not by batch mode's copy of the table: SQLite would refuse to drop
    # election and official while rows of other tables refer to them (SQLite >= 3.35).
    for table, column in (("official", "public_key"), ("election", "opening_hash"), ("election", "opening"),
                          ("board_entry", "signature"), ("board_entry", "previous"), ("board_entry", "credential")):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        else:
            op.drop_column(table, column)

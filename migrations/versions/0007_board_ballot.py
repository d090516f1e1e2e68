"""ballots in their own table, written before the board head is locked

A cast appends under a lock on the board head (the chain is serial). With the ~1 MB ballot in
the entry row, that lock was held while PostgreSQL wrote it, and at ~13 casts/s the other
casts spent ~55 ms each waiting for it (benchmarks/load_cast.py). board_ballot holds the
ballot, keyed by (election, ballot hash), and is inserted before the lock; board_entry keeps
the hash. Data is moved both ways.

Revision ID: 0007_board_ballot
Revises: 0006_throttle_expiry
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_board_ballot"
down_revision = "0006_throttle_expiry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "board_ballot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_pk", sa.Integer(), nullable=False),
        sa.Column("ballot_hash", sa.String(length=64), nullable=False),
        sa.Column("ballot", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["election_pk"], ["election.id"], name=op.f("fk_board_ballot_election_pk_election"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_board_ballot")),
        sa.UniqueConstraint("election_pk", "ballot_hash", name="uq_board_ballot_hash"),
    )
    if op.get_bind().dialect.name == "postgresql":
        # ~1 MB of hex that pglz compresses only ~2:1: store it uncompressed (as 0005 did).
        op.execute("ALTER TABLE board_ballot ALTER COLUMN ballot SET STORAGE EXTERNAL")
    op.execute("INSERT INTO board_ballot (election_pk, ballot_hash, ballot) "
               "SELECT election_pk, ballot_hash, ballot FROM board_entry ORDER BY id")
    with op.batch_alter_table("board_entry") as batch:
        batch.drop_column("ballot")


def downgrade() -> None:
    with op.batch_alter_table("board_entry") as batch:
        batch.add_column(sa.Column("ballot", sa.Text(), nullable=True))
    op.execute("UPDATE board_entry SET ballot = (SELECT b.ballot FROM board_ballot b WHERE "
               "b.election_pk = board_entry.election_pk AND b.ballot_hash = board_entry.ballot_hash)")
    with op.batch_alter_table("board_entry") as batch:
        batch.alter_column("ballot", existing_type=sa.Text(), nullable=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE board_entry ALTER COLUMN ballot SET STORAGE EXTERNAL")
    op.drop_table("board_ballot")

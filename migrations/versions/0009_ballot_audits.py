"""record format version 3: audited ballots on the board; the seed-based receipt check is gone

Version 3 (issue 16, docs/record.md §2.1, §2.6, docs/protocol.md §14): a board entry has a
``kind`` ("ballot" for a cast ballot, "audit" for a ballot the voter audited, never counted) and
an audit entry publishes its ``seed`` ("" for a ballot entry: the server never sees a cast
ballot's seed).  The receipt check of version 2 (a hash of a token derived from the cast
ballot's seed, 30 minutes, 3 uses) is replaced by the audit: its table ``receipt_check`` is
dropped.  Entries written before this revision are ballot entries.

Going back to 0008 recreates an empty ``receipt_check`` and drops the new columns; a board with
audit entries cannot go back (version 2 has no such entry) and is refused.

Revision ID: 0009_ballot_audits
Revises: 0008_credentials
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_ballot_audits"
down_revision = "0008_credentials"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("board_entry") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=8), nullable=False, server_default="ballot"))
        batch.add_column(sa.Column("seed", sa.String(length=64), nullable=False, server_default=""))
    with op.batch_alter_table("board_entry") as batch:
        batch.alter_column("kind", existing_type=sa.String(length=8), server_default=None)
        batch.alter_column("seed", existing_type=sa.String(length=64), server_default=None)
    op.drop_table("receipt_check")


def downgrade() -> None:
    audits = op.get_bind().execute(sa.text("SELECT COUNT(*) FROM board_entry WHERE kind = 'audit'")).scalar()
    if audits:
        raise RuntimeError(f"the board holds {audits} audit entries (record format version 3): "
                           "it cannot be taken back to version 2")
    op.create_table(
        "receipt_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_pk", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["election_pk"], ["election.id"], name=op.f("fk_receipt_check_election_pk_election"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipt_check")),
        sa.UniqueConstraint("election_pk", "seq", name="uq_receipt_check_seq"),
    )
    # Dropped in place, as 0008 does: SQLite's batch copy would trip over the foreign keys.
    for column in ("seed", "kind"):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE board_entry DROP COLUMN {column}")
        else:
            op.drop_column("board_entry", column)

"""bulletin board: entries, head, checkpoints, receipt checks, paper overrides; election key;
pending actions carry a payload (paper-vote lists)

Revision ID: 0003_board
Revises: 0002_accounts
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_board"
down_revision = "0002_accounts"
branch_labels = None
depends_on = None


OLD_ACTIONS = "action IN ('open_polls','close_polls')"
NEW_ACTIONS = "action IN ('open_polls','close_polls','record_paper_votes')"


def upgrade() -> None:
    with op.batch_alter_table("election") as batch:
        batch.add_column(sa.Column("election_key", sa.Text(), nullable=True))
    with op.batch_alter_table("pending_action") as batch:
        batch.add_column(sa.Column("payload", sa.Text(), nullable=True))
        batch.drop_constraint(op.f("ck_pending_action_action"), type_="check")
        batch.create_check_constraint(op.f("ck_pending_action_action"), NEW_ACTIONS)
    op.create_table(
        "board_head",
        sa.Column("election_pk", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("head", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["election_pk"], ["election.id"], name=op.f("fk_board_head_election_pk_election"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("election_pk", name=op.f("pk_board_head")),
    )
    op.create_table(
        "board_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_pk", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("contest", sa.String(length=64), nullable=False),
        sa.Column("ballot_hash", sa.String(length=64), nullable=False),
        sa.Column("ballot", sa.Text(), nullable=False),
        sa.Column("cast_at", sa.String(length=40), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["election_pk"], ["election.id"], name=op.f("fk_board_entry_election_pk_election"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_board_entry")),
        sa.UniqueConstraint("election_pk", "seq", name="uq_board_entry_seq"),
        sa.UniqueConstraint("election_pk", "prev_hash", name="uq_board_entry_prev"),
        sa.UniqueConstraint("election_pk", "ballot_hash", name="uq_board_entry_ballot"),
    )
    op.create_index("ix_board_entry_voter", "board_entry", ["election_pk", "pseudonym", "seq"])
    op.create_table(
        "board_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_pk", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["election_pk"], ["election.id"], name=op.f("fk_board_checkpoint_election_pk_election"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_board_checkpoint")),
    )
    op.create_index("ix_board_checkpoint_election", "board_checkpoint", ["election_pk", "seq"])
    op.create_table(
        "receipt_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_pk", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["election_pk"], ["election.id"], name=op.f("fk_receipt_check_election_pk_election"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipt_check")),
        sa.UniqueConstraint("election_pk", "seq", name="uq_receipt_check_seq"),
    )
    op.create_table(
        "paper_override_list",
        sa.Column("election_pk", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["election_pk"], ["election.id"], name=op.f("fk_paper_override_list_election_pk_election"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("election_pk", name=op.f("pk_paper_override_list")),
    )


def downgrade() -> None:
    op.drop_table("paper_override_list")
    op.drop_table("receipt_check")
    op.drop_index("ix_board_checkpoint_election", table_name="board_checkpoint")
    op.drop_table("board_checkpoint")
    op.drop_index("ix_board_entry_voter", table_name="board_entry")
    op.drop_table("board_entry")
    op.drop_table("board_head")
    op.execute("DELETE FROM pending_action WHERE action = 'record_paper_votes'")
    with op.batch_alter_table("pending_action") as batch:
        batch.drop_constraint(op.f("ck_pending_action_action"), type_="check")
        batch.create_check_constraint(op.f("ck_pending_action_action"), OLD_ACTIONS)
        batch.drop_column("payload")
    with op.batch_alter_table("election") as batch:
        batch.drop_column("election_key")

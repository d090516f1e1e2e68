"""identity proofing: activation codes and the two-official account release (issue 22)

docs/accounts.md §9–§10: ``activation_code`` holds the hashes of the voting server's own
single-use codes sent out of band; ``pending_action.action`` gains ``release_account``.
Downgrading deletes release proposals (the older schema cannot hold them).

Revision ID: 0011_activation
Revises: 0010_witnesses
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_activation"
down_revision = "0010_witnesses"
branch_labels = None
depends_on = None

OLD_ACTIONS = "action IN ('open_polls','close_polls','record_paper_votes')"
NEW_ACTIONS = "action IN ('open_polls','close_polls','record_paper_votes','release_account')"


def upgrade() -> None:
    op.create_table(
        "activation_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("roll_entry_pk", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["roll_entry_pk"], ["roll_entry.id"],
                                name=op.f("fk_activation_code_roll_entry_pk_roll_entry"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activation_code")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_activation_code_code_hash")),
    )
    op.create_index("ix_activation_code_roll_entry", "activation_code", ["roll_entry_pk", "used_at"])
    with op.batch_alter_table("pending_action") as batch:
        batch.drop_constraint(op.f("ck_pending_action_action"), type_="check")
        batch.create_check_constraint(op.f("ck_pending_action_action"), NEW_ACTIONS)


def downgrade() -> None:
    op.execute("DELETE FROM pending_action WHERE action = 'release_account'")
    with op.batch_alter_table("pending_action") as batch:
        batch.drop_constraint(op.f("ck_pending_action_action"), type_="check")
        batch.create_check_constraint(op.f("ck_pending_action_action"), OLD_ACTIONS)
    op.drop_index("ix_activation_code_roll_entry", table_name="activation_code")
    op.drop_table("activation_code")

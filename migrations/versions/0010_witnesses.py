"""witness statements (issue 23, docs/record.md §3.5)

Each witness pinned in the opening posts signed statements of the board heads it verified; the
server keeps each witness's latest one and exports it as ``witnesses/<name>.json``.

Revision ID: 0010_witnesses
Revises: 0009_ballot_audits
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_witnesses"
down_revision = "0009_ballot_audits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "witness_statement",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("election_pk", sa.Integer(), sa.ForeignKey("election.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("witness", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.UniqueConstraint("election_pk", "witness", name="uq_witness_statement"),
    )


def downgrade() -> None:
    op.drop_table("witness_statement")

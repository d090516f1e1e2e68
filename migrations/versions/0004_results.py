"""published results of the verified election record

Revision ID: 0004_results
Revises: 0003_board
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_results"
down_revision = "0003_board"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("election") as batch:
        batch.add_column(sa.Column("results", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("election") as batch:
        batch.drop_column("results")

"""two-official decisions: poll extensions and lots (issues 20 and 21)

docs/record.md §2.7 and §4.6: ``poll_extension`` and ``contest_lot`` hold the objects signed by
two officials, ``decision_draft`` the unsigned ones an official is about to sign;
``pending_action.action`` gains ``extend_polls`` and ``record_lot``.  Downgrading deletes them.

Revision ID: 0013_official_decisions
Revises: 0012_contest_routing
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_official_decisions"
down_revision = "0012_contest_routing"
branch_labels = None
depends_on = None

OLD_ACTIONS = "action IN ('open_polls','close_polls','record_paper_votes','release_account')"
NEW_ACTIONS = ("action IN ('open_polls','close_polls','record_paper_votes','release_account',"
               "'extend_polls','record_lot')")


def _election_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["election_pk"], ["election.id"],
                                   name=op.f(f"fk_{table}_election_pk_election"), ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "decision_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_pk", sa.Integer(), nullable=False),
        sa.Column("official_pk", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _election_fk("decision_draft"),
        sa.ForeignKeyConstraint(["official_pk"], ["official.id"],
                                name=op.f("fk_decision_draft_official_pk_official"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_draft")),
        sa.UniqueConstraint("election_pk", "official_pk", "action", name="uq_decision_draft"),
    )
    op.create_table(
        "poll_extension",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_pk", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _election_fk("poll_extension"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_extension")),
        sa.UniqueConstraint("election_pk", "number", name="uq_poll_extension_number"),
    )
    op.create_table(
        "contest_lot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_pk", sa.Integer(), nullable=False),
        sa.Column("contest", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _election_fk("contest_lot"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contest_lot")),
        sa.UniqueConstraint("election_pk", "contest", name="uq_contest_lot_contest"),
    )
    with op.batch_alter_table("pending_action") as batch:
        batch.drop_constraint(op.f("ck_pending_action_action"), type_="check")
        batch.create_check_constraint(op.f("ck_pending_action_action"), NEW_ACTIONS)


def downgrade() -> None:
    op.execute("DELETE FROM pending_action WHERE action IN ('extend_polls', 'record_lot')")
    with op.batch_alter_table("pending_action") as batch:
        batch.drop_constraint(op.f("ck_pending_action_action"), type_="check")
        batch.create_check_constraint(op.f("ck_pending_action_action"), OLD_ACTIONS)
    op.drop_table("contest_lot")
    op.drop_table("poll_extension")
    op.drop_table("decision_draft")

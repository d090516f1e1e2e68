"""election rules as data: contests routed by roll attributes, seats (issue 21)

docs/manifest.md §4: an electorate may have several contests (the one-contest-per-electorate
constraint goes), each contest has ``seats``, each roll entry keeps its route — the one
contest it is eligible for (``roll_entry.contest_pk``; attribute values are not kept) — and
each voter credential the contest the CA routed it to (``voter_credential.contest``).
Existing rows: ``seats`` = ``max_selections``, each entry routed to its electorate's contest
(format 1's rule).  Downgrading is refused while an electorate has two contests.

Revision ID: 0012_contest_routing
Revises: 0011_activation
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_contest_routing"
down_revision = "0011_activation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contest") as batch:
        batch.add_column(sa.Column("seats", sa.Integer(), nullable=True))
    op.execute("UPDATE contest SET seats = max_selections")
    with op.batch_alter_table("contest") as batch:
        batch.alter_column("seats", existing_type=sa.Integer(), nullable=False)
        batch.create_check_constraint(op.f("ck_contest_seats"), "seats >= 1")
        batch.drop_constraint("uq_contest_election_electorate", type_="unique")
    with op.batch_alter_table("roll_entry") as batch:
        batch.add_column(sa.Column("contest_pk", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_roll_entry_contest_pk_contest"), "contest",
                                 ["contest_pk"], ["id"], ondelete="CASCADE")
    op.execute("UPDATE roll_entry SET contest_pk = (SELECT contest.id FROM contest "
               "WHERE contest.election_pk = roll_entry.election_pk "
               "AND contest.electorate = roll_entry.electorate)")
    op.create_index("ix_roll_entry_contest", "roll_entry", ["contest_pk"])
    with op.batch_alter_table("voter_credential") as batch:
        batch.add_column(sa.Column("contest", sa.String(length=64), nullable=False, server_default=""))
    op.execute("UPDATE voter_credential SET contest = COALESCE((SELECT contest.code FROM contest "
               "JOIN roll_entry ON roll_entry.contest_pk = contest.id "
               "WHERE roll_entry.id = voter_credential.roll_entry_pk), '')")
    with op.batch_alter_table("voter_credential") as batch:
        batch.alter_column("contest", existing_type=sa.String(length=64), server_default=None)


def downgrade() -> None:
    bind = op.get_bind()
    shared = bind.execute(sa.text(
        "SELECT COUNT(*) FROM (SELECT election_pk, electorate FROM contest "
        "GROUP BY election_pk, electorate HAVING COUNT(*) > 1) AS doubled")).scalar()
    if shared:
        raise RuntimeError("cannot downgrade below 0012_contest_routing: an election has two "
                           "contests for one electorate (a format-2 manifest)")
    with op.batch_alter_table("voter_credential") as batch:
        batch.drop_column("contest")
    op.drop_index("ix_roll_entry_contest", table_name="roll_entry")
    with op.batch_alter_table("roll_entry") as batch:
        batch.drop_constraint(op.f("fk_roll_entry_contest_pk_contest"), type_="foreignkey")
        batch.drop_column("contest_pk")
    with op.batch_alter_table("contest") as batch:
        batch.create_unique_constraint("uq_contest_election_electorate", ["election_pk", "electorate"])
        batch.drop_constraint(op.f("ck_contest_seats"), type_="check")
        batch.drop_column("seats")

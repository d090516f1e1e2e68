"""election rules as data: contests routed by roll attributes, seats (issue 21)

docs/manifest.md §4: an electorate may have several contests (the one-contest-per-electorate
constraint goes), each contest has ``seats``, each roll entry keeps its route — the one
contest it is eligible for (``roll_entry.contest_pk``; attribute values are not kept) — and
each voter credential the contest the CA routed it to (``voter_credential.contest``).
Existing rows: ``seats`` = ``max_selections``, each entry routed to its electorate's contest
(format 1's rule).  Downgrading is refused while an electorate has two contests.

SQLite rebuilds a table to change its constraints, and dropping the old table (with foreign
keys on) deletes or nulls the rows that reference it; :func:`_rebuild` keeps those rows.

Revision ID: 0012_contest_routing
Revises: 0011_activation
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import sqlalchemy as sa
from alembic import op

revision = "0012_contest_routing"
down_revision = "0011_activation"
branch_labels = None
depends_on = None


def _descendants(table: str) -> list[str]:
    """Tables that reference ``table``, directly or through each other, parents first."""
    inspector = sa.inspect(op.get_bind())
    referencing: dict[str, set[str]] = {}
    for name in inspector.get_table_names():
        for fk in inspector.get_foreign_keys(name):
            referencing.setdefault(fk["referred_table"], set()).add(name)
    order: list[str] = []
    queue = [table]
    while queue:
        for child in sorted(referencing.get(queue.pop(0), ())):
            if child != table and child not in order:
                order.append(child)
                queue.append(child)
    return order


@contextmanager
def _rebuild(table: str) -> Iterator[None]:
    """On SQLite, keep the rows of the tables that reference ``table`` across its rebuild."""
    if op.get_bind().dialect.name != "sqlite":
        yield
        return
    kept = _descendants(table)
    for name in kept:
        op.execute(f"CREATE TEMP TABLE keep_{name} AS SELECT * FROM {name}")
    yield
    for name in reversed(kept):
        op.execute(f"DELETE FROM {name}")
    for name in kept:
        op.execute(f"INSERT INTO {name} SELECT * FROM keep_{name}")
        op.execute(f"DROP TABLE keep_{name}")


def upgrade() -> None:
    with _rebuild("contest"):
        with op.batch_alter_table("contest") as batch:
            batch.add_column(sa.Column("seats", sa.Integer(), nullable=False, server_default="1"))
            batch.create_check_constraint(op.f("ck_contest_seats"), "seats >= 1")
            batch.drop_constraint("uq_contest_election_electorate", type_="unique")
    op.execute("UPDATE contest SET seats = max_selections")
    with _rebuild("roll_entry"):
        with op.batch_alter_table("roll_entry") as batch:
            batch.add_column(sa.Column("contest_pk", sa.Integer(), nullable=True))
            batch.create_foreign_key(op.f("fk_roll_entry_contest_pk_contest"), "contest",
                                     ["contest_pk"], ["id"], ondelete="CASCADE")
    op.execute("UPDATE roll_entry SET contest_pk = (SELECT contest.id FROM contest "
               "WHERE contest.election_pk = roll_entry.election_pk "
               "AND contest.electorate = roll_entry.electorate)")
    op.create_index("ix_roll_entry_contest", "roll_entry", ["contest_pk"])
    with _rebuild("voter_credential"):
        with op.batch_alter_table("voter_credential") as batch:
            batch.add_column(sa.Column("contest", sa.String(length=64), nullable=False, server_default=""))
    op.execute("UPDATE voter_credential SET contest = COALESCE((SELECT contest.code FROM contest "
               "JOIN roll_entry ON roll_entry.contest_pk = contest.id "
               "WHERE roll_entry.id = voter_credential.roll_entry_pk), '')")


def downgrade() -> None:
    bind = op.get_bind()
    shared = bind.execute(sa.text(
        "SELECT COUNT(*) FROM (SELECT election_pk, electorate FROM contest "
        "GROUP BY election_pk, electorate HAVING COUNT(*) > 1) AS doubled")).scalar()
    if shared:
        raise RuntimeError("cannot downgrade below 0012_contest_routing: an election has two "
                           "contests for one electorate (a format-2 manifest)")
    with _rebuild("voter_credential"):
        with op.batch_alter_table("voter_credential") as batch:
            batch.drop_column("contest")
    op.drop_index("ix_roll_entry_contest", table_name="roll_entry")
    with _rebuild("roll_entry"):
        with op.batch_alter_table("roll_entry") as batch:
            batch.drop_constraint(op.f("fk_roll_entry_contest_pk_contest"), type_="foreignkey")
            batch.drop_column("contest_pk")
    with _rebuild("contest"):
        with op.batch_alter_table("contest") as batch:
            batch.create_unique_constraint("uq_contest_election_electorate", ["election_pk", "electorate"])
            batch.drop_constraint(op.f("ck_contest_seats"), type_="check")
            batch.drop_column("seats")

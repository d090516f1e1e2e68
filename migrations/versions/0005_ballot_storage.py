"""store board ballots uncompressed out of line on PostgreSQL

A ballot is ~1 MB of canonical JSON hex that pglz compresses only about 2:1; compressing it
cost PostgreSQL ~30 ms of CPU per cast (benchmarks/load_cast.py), a fifth of a cast's server
time. STORAGE EXTERNAL keeps it out of line (TOAST) without compression. Existing rows keep
their representation; SQLite has no such setting.

Revision ID: 0005_ballot_storage
Revises: 0004_results
"""
from __future__ import annotations

from alembic import op

revision = "0005_ballot_storage"
down_revision = "0004_results"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE board_entry ALTER COLUMN ballot SET STORAGE EXTERNAL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE board_entry ALTER COLUMN ballot SET STORAGE EXTENDED")

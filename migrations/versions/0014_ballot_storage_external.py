"""board_ballot.ballot stored out of line without compression (PostgreSQL ``STORAGE EXTERNAL``)

A ballot is ~0.9 MB of canonical JSON whose values are hex of uniformly random group elements:
PostgreSQL's default TOAST compression (pglz) cannot shrink it by the 25 % it requires, so it
stored every ballot uncompressed anyway, after ~30 ms of CPU per ballot spent trying — a quarter
of the crypto bound's CPU budget per cast (docs/performance.md, "Casting through nginx to 2
hosts").  ``EXTERNAL`` keeps the out-of-line TOAST storage and skips the compression; reads skip
the decompression attempt too.  The stored text is unchanged.  Only PostgreSQL has per-column
storage; on SQLite this migration does nothing.  Existing rows keep their storage until
rewritten (they were stored uncompressed already).

Revision ID: 0014_ballot_storage_external
Revises: 0013_official_decisions
"""
from __future__ import annotations

from alembic import op

revision = "0014_ballot_storage_external"
down_revision = "0013_official_decisions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE board_ballot ALTER COLUMN ballot SET STORAGE EXTERNAL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE board_ballot ALTER COLUMN ballot SET STORAGE EXTENDED")

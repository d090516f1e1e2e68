"""failure counters per identifier (also for unknown IDs); four-eyes proposals expire

``throttle_counter`` counts sign-in and registration failures per keyed hash of the typed
identifier (docs/accounts.md §3). ``pending_action.expires_at`` is fixed at proposal time and
a new state ``expired`` records that nobody decided in time (docs/accounts.md §6). Existing
proposals get the default lifetime (24 hours) from their ``proposed_at``; a decided one keeps
its decision valid. Downgrading turns expired proposals into cancelled ones.

Revision ID: 0006_throttle_expiry
Revises: 0005_ballot_storage
"""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = "0006_throttle_expiry"
down_revision = "0005_ballot_storage"
branch_labels = None
depends_on = None

OLD_STATES = "state IN ('pending','approved','cancelled')"
NEW_STATES = "state IN ('pending','approved','cancelled','expired')"
IN_TIME = "state <> 'approved' OR (decided_at IS NOT NULL AND decided_at < expires_at)"
#: The lifetime given to proposals made before this revision (the configuration default).
DEFAULT_LIFETIME = timedelta(hours=24)


def upgrade() -> None:
    op.create_table(
        "throttle_counter",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("failure_window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_throttle_counter")),
    )
    op.create_index(op.f("ix_throttle_counter_expires_at"), "throttle_counter", ["expires_at"])
    with op.batch_alter_table("pending_action") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    _backfill_expiry()
    with op.batch_alter_table("pending_action") as batch:
        batch.alter_column("expires_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch.drop_constraint(op.f("ck_pending_action_state"), type_="check")
        batch.create_check_constraint(op.f("ck_pending_action_state"), NEW_STATES)
        batch.create_check_constraint(op.f("ck_pending_action_in_time"), IN_TIME)


def _backfill_expiry() -> None:
    table = sa.table("pending_action", sa.column("id", sa.Integer()),
                     sa.column("proposed_at", sa.DateTime(timezone=True)),
                     sa.column("decided_at", sa.DateTime(timezone=True)),
                     sa.column("expires_at", sa.DateTime(timezone=True)))
    bind = op.get_bind()
    rows = bind.execute(sa.select(table.c.id, table.c.proposed_at, table.c.decided_at)).all()
    for row_id, proposed_at, decided_at in rows:
        expires_at = proposed_at + DEFAULT_LIFETIME
        if decided_at is not None and decided_at >= expires_at:
            expires_at = decided_at + timedelta(seconds=1)  # a past decision stays valid
        bind.execute(table.update().where(table.c.id == row_id).values(expires_at=expires_at))


def downgrade() -> None:
    op.execute("UPDATE pending_action SET state = 'cancelled' WHERE state = 'expired'")
    with op.batch_alter_table("pending_action") as batch:
        batch.drop_constraint(op.f("ck_pending_action_in_time"), type_="check")
        batch.drop_constraint(op.f("ck_pending_action_state"), type_="check")
        batch.create_check_constraint(op.f("ck_pending_action_state"), OLD_STATES)
        batch.drop_column("expires_at")
    op.drop_index(op.f("ix_throttle_counter_expires_at"), table_name="throttle_counter")
    op.drop_table("throttle_counter")

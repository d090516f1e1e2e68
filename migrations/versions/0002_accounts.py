"""accounts: voter accounts, sign-in state, pending two-official actions

Revision ID: 0002_accounts
Revises: 0001_initial
Create Date: 2026-11-26
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002_accounts'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pending_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('election_pk', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('proposer_pk', sa.Integer(), nullable=False),
    sa.Column('decider_pk', sa.Integer(), nullable=True),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("action IN ('open_polls','close_polls')", name=op.f('ck_pending_action_action')),
    sa.CheckConstraint("state <> 'approved' OR (decider_pk IS NOT NULL AND decider_pk <> proposer_pk)", name=op.f('ck_pending_action_four_eyes')),
    sa.CheckConstraint("state IN ('pending','approved','cancelled')", name=op.f('ck_pending_action_state')),
    sa.ForeignKeyConstraint(['decider_pk'], ['official.id'], name=op.f('fk_pending_action_decider_pk_official')),
    sa.ForeignKeyConstraint(['election_pk'], ['election.id'], name=op.f('fk_pending_action_election_pk_election'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposer_pk'], ['official.id'], name=op.f('fk_pending_action_proposer_pk_official')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_action'))
    )
    op.create_table('voter_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('roll_entry_pk', sa.Integer(), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('totp_secret', sa.String(length=64), nullable=False),
    sa.Column('totp_confirmed', sa.Boolean(), nullable=False),
    sa.Column('totp_last_step', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('failed_attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('failure_window_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['roll_entry_pk'], ['roll_entry.id'], name=op.f('fk_voter_account_roll_entry_pk_roll_entry'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voter_account')),
    sa.UniqueConstraint('roll_entry_pk', name=op.f('uq_voter_account_roll_entry_pk'))
    )
    with op.batch_alter_table('official', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('failure_window_start', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('official', schema=None) as batch_op:
        batch_op.drop_column('session_epoch')
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failure_window_start')
        batch_op.drop_column('failed_attempts')

    op.drop_table('voter_account')
    op.drop_table('pending_action')

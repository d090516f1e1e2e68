"""initial schema: elections, contests, teams, candidates, roll, officials, audit

Revision ID: 0001_initial
Revises: 
Create Date: 2026-11-26 07:37:16.233634
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0001_initial'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=100), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry')),
    sa.UniqueConstraint('entry_hash', name=op.f('uq_audit_entry_entry_hash')),
    sa.UniqueConstraint('prev_hash', name=op.f('uq_audit_entry_prev_hash'))
    )
    op.create_table('election',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('election_id', sa.String(length=64), nullable=False),
    sa.Column('title_th', sa.String(length=300), nullable=False),
    sa.Column('title_en', sa.String(length=300), nullable=False),
    sa.Column('opens_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('manifest', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('draft','open','closed','tallied')", name=op.f('ck_election_status')),
    sa.CheckConstraint('closes_at > opens_at', name=op.f('ck_election_window')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_election')),
    sa.UniqueConstraint('election_id', name=op.f('uq_election_election_id')),
    sa.UniqueConstraint('slug', name=op.f('uq_election_slug'))
    )
    op.create_table('official',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('totp_secret', sa.String(length=64), nullable=False),
    sa.Column('totp_last_step', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('admin','returning-officer')", name=op.f('ck_official_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_official')),
    sa.UniqueConstraint('username', name=op.f('uq_official_username'))
    )
    op.create_table('contest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('election_pk', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('electorate', sa.String(length=16), nullable=False),
    sa.Column('max_selections', sa.Integer(), nullable=False),
    sa.Column('title_th', sa.String(length=300), nullable=False),
    sa.Column('title_en', sa.String(length=300), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint("electorate IN ('insured','employer')", name=op.f('ck_contest_electorate')),
    sa.CheckConstraint('max_selections >= 1', name=op.f('ck_contest_max_selections')),
    sa.ForeignKeyConstraint(['election_pk'], ['election.id'], name=op.f('fk_contest_election_pk_election'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contest')),
    sa.UniqueConstraint('election_pk', 'code', name=op.f('uq_contest_election_pk')),
    sa.UniqueConstraint('election_pk', 'electorate', name='uq_contest_election_electorate')
    )
    op.create_table('roll_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('election_pk', sa.Integer(), nullable=False),
    sa.Column('electorate', sa.String(length=16), nullable=False),
    sa.Column('voter_key', sa.String(length=32), nullable=False),
    sa.Column('attribute', sa.String(length=32), nullable=False),
    sa.Column('display_name', sa.String(length=300), nullable=False),
    sa.Column('pseudonym', sa.String(length=64), nullable=False),
    sa.CheckConstraint("electorate IN ('insured','employer')", name=op.f('ck_roll_entry_electorate')),
    sa.ForeignKeyConstraint(['election_pk'], ['election.id'], name=op.f('fk_roll_entry_election_pk_election'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roll_entry')),
    sa.UniqueConstraint('election_pk', 'electorate', 'voter_key', name='uq_roll_entry_voter'),
    sa.UniqueConstraint('pseudonym', name=op.f('uq_roll_entry_pseudonym'))
    )
    with op.batch_alter_table('roll_entry', schema=None) as batch_op:
        batch_op.create_index('ix_roll_entry_attribute', ['election_pk', 'attribute'], unique=False)

    op.create_table('team',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_pk', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name_th', sa.String(length=300), nullable=False),
    sa.Column('name_en', sa.String(length=300), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contest_pk'], ['contest.id'], name=op.f('fk_team_contest_pk_contest'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team')),
    sa.UniqueConstraint('contest_pk', 'code', name=op.f('uq_team_contest_pk'))
    )
    op.create_table('candidate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_pk', sa.Integer(), nullable=False),
    sa.Column('team_pk', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('ballot_number', sa.Integer(), nullable=False),
    sa.Column('name_th', sa.String(length=300), nullable=False),
    sa.Column('name_en', sa.String(length=300), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contest_pk'], ['contest.id'], name=op.f('fk_candidate_contest_pk_contest'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_pk'], ['team.id'], name=op.f('fk_candidate_team_pk_team'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_candidate')),
    sa.UniqueConstraint('contest_pk', 'ballot_number', name='uq_candidate_contest_number'),
    sa.UniqueConstraint('contest_pk', 'code', name=op.f('uq_candidate_contest_pk'))
    )


def downgrade() -> None:
    op.drop_table('candidate')
    op.drop_table('team')
    with op.batch_alter_table('roll_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_roll_entry_attribute')

    op.drop_table('roll_entry')
    op.drop_table('contest')
    op.drop_table('official')
    op.drop_table('election')
    op.drop_table('audit_entry')

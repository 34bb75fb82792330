"""weekly digest runs (claim-once per period)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 13:20:00.000000
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import sqlmodel
import bot.storage.types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('digest_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('lease_owner', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('lease_until', bot.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('channel_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('message_ts', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('chart_file_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('done_at', bot.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('period_key', name='uq_digest_run_period')
    )
    # /escalate stats and the digest count log entries by kind in a time window (briefs by creation
    # already have ix_escalation_team_created from 0003).
    op.create_index('ix_escalation_log_kind_at', 'escalation_log', ['kind', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_escalation_log_kind_at', table_name='escalation_log')
    op.drop_table('digest_run')

"""brief intake: a validated submission is stored before Slack is answered

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 17:30:00.000000
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import sqlmodel
import bot.storage.types


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('brief_intake',
    sa.Column('view_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('job', sa.JSON(), nullable=False),
    sa.Column('received_at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('filed_at', bot.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'),
    sa.Column('lease_until', bot.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.PrimaryKeyConstraint('view_id')
    )
    op.create_index('ix_brief_intake_unfiled', 'brief_intake', ['filed_at', 'received_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_brief_intake_unfiled', table_name='brief_intake')
    op.drop_table('brief_intake')

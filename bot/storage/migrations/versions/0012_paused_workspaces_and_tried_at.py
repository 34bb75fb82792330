"""paused workspaces (an uninstalled or revoked workspace's reminders and deliveries wait, unsent);
follow_up.tried_at (a send retried after a Slack failure is not a catch-up after downtime)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 10:00:00.000000
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import sqlmodel
import bot.storage.types


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('paused_workspace',
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('paused_at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('probe_at', bot.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('team_id')
    )
    op.add_column('follow_up', sa.Column('tried_at', bot.storage.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('follow_up') as batch:  # SQLite drops a column by copying the table
        batch.drop_column('tried_at')
    op.drop_table('paused_workspace')

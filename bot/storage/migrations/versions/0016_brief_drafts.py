"""brief drafts: what an agent typed in the brief form when it closed, one per agent and workspace

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 20:05:00.000000
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import sqlmodel
import bot.storage.types


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('brief_draft',
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('view_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('tz', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('saved_at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('team_id', 'user_id')
    )
    op.create_index('ix_brief_draft_saved', 'brief_draft', ['saved_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_brief_draft_saved', table_name='brief_draft')
    op.drop_table('brief_draft')

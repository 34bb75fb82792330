"""pattern links: briefs confirmed (or rejected) as the same problem, and automatic links with their score

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 20:05:00.000000
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import sqlmodel
import bot.storage.types


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pattern_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('low_id', sa.Integer(), nullable=False),
    sa.Column('high_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['low_id'], ['escalation.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['high_id'], ['escalation.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('low_id', 'high_id', name='uq_pattern_link_pair')
    )
    op.create_index('ix_pattern_link_high', 'pattern_link', ['high_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_pattern_link_high', table_name='pattern_link')
    op.drop_table('pattern_link')

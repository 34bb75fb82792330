"""brief moves: escalation.moved_from, where a brief moved to another team came from (issue 19, item 4)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 20:05:00.000000

Only ADD COLUMN on escalation: SQLite does it in place (no table rebuild). Every move is in the
running log too (kind "moved"); this column is what the new post shows without reading the log.
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('moved_from', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.drop_column('moved_from')

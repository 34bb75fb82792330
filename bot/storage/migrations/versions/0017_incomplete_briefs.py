"""incomplete briefs: a Critical brief posted with *Post now*, what it still lacks and by when

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 20:05:00.000000

Only ADD COLUMN on escalation (both nullable): SQLite does it in place (no table rebuild).
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

import bot.storage.types


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('missing', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('complete_by', bot.storage.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.drop_column('complete_by')
        batch_op.drop_column('missing')

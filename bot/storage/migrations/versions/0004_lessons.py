"""lessons learned on a resolved escalation

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 13:30:00.000000

`resolution` (0003) holds what happened and the root cause, or a de-escalation's findings;
`lessons` what future agents should do. Both are in the search index (search_text).
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lessons', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.drop_column('lessons')

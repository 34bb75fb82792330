"""brief parts: a long brief's thread parts posted so far, so the tick posts the rest

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 17:40:00.000000

Only ADD COLUMN on escalation: SQLite does it in place (no table rebuild).
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parts_total', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('parts_posted', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.drop_column('parts_posted')
        batch_op.drop_column('parts_total')

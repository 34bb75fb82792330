"""SQLite: a narrow index for the full-text candidates' workspace and window check

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 18:10:00.000000

Pattern matching checks every full-text match of the window (thousands at a busy workspace) for
its workspace and date. Read from the escalation row, each check loads a page holding the whole
brief; from this index (id, team_id, created_at) a few hundred matches share a page. At 3,000
recent briefs the candidate query went from 16.7 to 10.4 ms. PostgreSQL's candidate query reads
the tsvector column and the (team_id, created_at) index instead, so it is not given this index.
"""
from __future__ import annotations

from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

INDEX = 'ix_escalation_match_lookup'  # bot.storage.search.MATCH_LOOKUP_INDEX


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.create_index(INDEX, 'escalation', ['id', 'team_id', 'created_at'])


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.drop_index(INDEX, table_name='escalation')

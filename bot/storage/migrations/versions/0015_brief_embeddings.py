"""brief embeddings: a vector per brief for pattern matching's semantic signal (issue 18)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 20:05:00.000000

escalation_embedding holds one vector per brief and the model that made it, apart from the wide
escalation row. Existing briefs have none: they are matched lexically until the scheduler embeds
them, a bounded batch per tick (bot.usecases.patterns.Patterns.embed_backlog). The thesaurus gained
concepts and spellings, so search_text is rebuilt once (as in 0007).
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import sqlmodel
import bot.storage.types


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'escalation_embedding',
        sa.Column('escalation_id', sa.Integer(), sa.ForeignKey('escalation.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('created_at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('model', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column('vector', sa.LargeBinary(), nullable=False),
    )
    op.create_index('ix_escalation_embedding_window', 'escalation_embedding', ['team_id', 'model', 'created_at'])
    _reindex()


def _reindex() -> None:
    from bot.storage.search import FTS_TABLE, search_text_of  # the rule the app indexes with

    bind = op.get_bind()
    escalation = sa.table('escalation', sa.column('id', sa.Integer), sa.column('brief', sa.JSON), sa.column('resolution', sa.Text),
                          sa.column('lessons', sa.Text), sa.column('search_text', sa.Text))
    update = escalation.update().where(escalation.c.id == sa.bindparam('row_id')).values(search_text=sa.bindparam('indexed'))
    last = 0
    while True:  # by pages of ids: a large database's briefs need not fit in memory
        rows = bind.execute(sa.select(escalation.c.id, escalation.c.brief, escalation.c.resolution, escalation.c.lessons, escalation.c.search_text)
                            .where(escalation.c.id > last).order_by(escalation.c.id).limit(500)).all()
        if not rows:
            break
        changed = [{'row_id': r.id, 'indexed': new} for r in rows if (new := search_text_of(r.brief, r.resolution, r.lessons)) != r.search_text]
        if changed:
            bind.execute(update, changed)
        last = rows[-1].id
    if bind.dialect.name == 'sqlite':
        op.execute(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('rebuild')")


def downgrade() -> None:
    op.drop_index('ix_escalation_embedding_window', table_name='escalation_embedding')
    op.drop_table('escalation_embedding')

"""full-text search: product area, resolution, search text and its index

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 09:00:00.000000

The search index is not in the models (bot.storage.search.include_object keeps autogenerate away
from it): SQLite gets an FTS5 table over escalation.search_text (external content, rowid =
escalation.id, maintained by bot.storage.search.index_escalation); PostgreSQL a generated tsvector
column with a GIN index, which the database keeps current by itself; both a (team_id, created_at)
index for the matching window.
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import sqlmodel
import bot.storage.types


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('product_area', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('resolution', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('resolved_at', bot.storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=True))

    _backfill_search_text()
    # Matching looks at one workspace's last 30 days: both engines start from this range, not from
    # every brief that shares a word (at 100k briefs that is the difference between ms and seconds).
    op.create_index('ix_escalation_team_created', 'escalation', ['team_id', 'created_at'])
    if op.get_bind().dialect.name == 'sqlite':
        # porter on unicode61: "exports"/"exported" meet "export"; search_text is already accent-free.
        op.execute(
            "CREATE VIRTUAL TABLE escalation_fts USING fts5("
            "search_text, content='escalation', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')"
        )
        op.execute("INSERT INTO escalation_fts (escalation_fts) VALUES ('rebuild')")
    else:
        op.execute(
            "ALTER TABLE escalation ADD COLUMN search_vector tsvector "
            "GENERATED ALWAYS AS (to_tsvector('english'::regconfig, coalesce(search_text, ''))) STORED"
        )
        op.execute("CREATE INDEX ix_escalation_search_vector ON escalation USING gin (search_vector)")


def _backfill_search_text(batch: int = 500) -> None:
    """Briefs stored before this revision get their search text, so the index covers them from the start."""
    from bot.storage.search import index_form, searchable_text  # the same rule the app indexes with

    bind = op.get_bind()
    escalation = sa.table('escalation', sa.column('id', sa.Integer), sa.column('brief', sa.JSON), sa.column('search_text', sa.Text))
    update = escalation.update().where(escalation.c.id == sa.bindparam('row_id')).values(search_text=sa.bindparam('indexed'))
    last = 0
    while True:  # by pages of ids: a large database's briefs need not fit in memory
        rows = bind.execute(sa.select(escalation.c.id, escalation.c.brief).where(escalation.c.id > last).order_by(escalation.c.id).limit(batch)).all()
        if not rows:
            return
        bind.execute(update, [{'row_id': r.id, 'indexed': index_form(searchable_text(r.brief))} for r in rows])
        last = rows[-1].id


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("DROP TABLE escalation_fts")
    else:
        op.execute("DROP INDEX ix_escalation_search_vector")
        op.execute("ALTER TABLE escalation DROP COLUMN search_vector")
    op.drop_index('ix_escalation_team_created', table_name='escalation')

    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.drop_column('search_text')
        batch_op.drop_column('resolved_at')
        batch_op.drop_column('resolution')
        batch_op.drop_column('product_area')

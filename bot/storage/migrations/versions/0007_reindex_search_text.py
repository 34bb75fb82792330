"""re-index search text: the thesaurus gained concepts (notfound, more dataloss/forbidden spellings)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 13:45:00.000000

Pattern verification compares the concepts stored in escalation.search_text, so briefs indexed with
the older thesaurus are re-indexed once: their search_text is rebuilt with the current rule (PostgreSQL
recomputes the generated search_vector from it), and SQLite's FTS5 table is rebuilt from the column.
No schema change.
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    from bot.storage.search import FTS_TABLE, index_form, searchable_text  # the rule the app indexes with

    bind = op.get_bind()
    escalation = sa.table('escalation', sa.column('id', sa.Integer), sa.column('brief', sa.JSON), sa.column('search_text', sa.Text))
    update = escalation.update().where(escalation.c.id == sa.bindparam('row_id')).values(search_text=sa.bindparam('indexed'))
    last = 0
    while True:  # by pages of ids: a large database's briefs need not fit in memory
        rows = bind.execute(sa.select(escalation.c.id, escalation.c.brief, escalation.c.search_text)
                            .where(escalation.c.id > last).order_by(escalation.c.id).limit(500)).all()
        if not rows:
            break
        changed = [{'row_id': r.id, 'indexed': new} for r in rows if (new := index_form(searchable_text(r.brief))) != r.search_text]
        if changed:
            bind.execute(update, changed)
        last = rows[-1].id
    if bind.dialect.name == 'sqlite':
        op.execute(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('rebuild')")


def downgrade() -> None:
    pass  # the re-indexed text is valid for the older code too

"""reliability: durable delivery retries, handled Slack events

Revision ID: 0008
Revises: 0007

Only ADD COLUMN and CREATE INDEX on escalation: SQLite does those in place, so no table is rebuilt
(a rebuild would drop and re-create rows that escalation_log cascades from).
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import sqlmodel
import bot.storage.types


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_delivery_at', bot.storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('delivery_attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_index('ix_escalation_delivery_due', ['status', 'next_delivery_at'], unique=False)
    # Briefs left pending by an older version are retried by the tick from now on.
    op.execute("UPDATE escalation SET next_delivery_at = updated_at WHERE status = 'pending_delivery'")

    op.create_table('slack_event',
    sa.Column('event_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('received_at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    with op.batch_alter_table('slack_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slack_event_received_at'), ['received_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('slack_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slack_event_received_at'))
    op.drop_table('slack_event')
    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.drop_index('ix_escalation_delivery_due')
        batch_op.drop_column('delivery_attempts')
        batch_op.drop_column('next_delivery_at')

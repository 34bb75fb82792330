"""follow-through: follow-ups, owner, log periods

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 11:32:51.431201
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import sqlmodel
import bot.storage.types


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('follow_up',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('escalation_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('next_due_at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('anchor_at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('snoozed_until', bot.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lease_owner', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('lease_until', bot.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['escalation_id'], ['escalation.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('escalation_id', 'kind', name='uq_follow_up_kind')
    )
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.create_index('ix_follow_up_due', ['active', 'next_due_at'], unique=False)

    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agent_tz', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False, server_default='UTC'))
        batch_op.add_column(sa.Column('receiving_owner_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('acknowledged_at', bot.storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_update_at', bot.storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_update_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('last_update_text', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('deadline_state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.create_index('ix_escalation_message', ['channel_id', 'message_ts'], unique=False)

    with op.batch_alter_table('escalation_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('follow_up_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('due_at', bot.storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint('uq_log_follow_up_period', ['follow_up_id', 'due_at'])
        batch_op.create_foreign_key('fk_log_follow_up', 'follow_up', ['follow_up_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('escalation_log', schema=None) as batch_op:
        batch_op.drop_constraint('fk_log_follow_up', type_='foreignkey')
        batch_op.drop_constraint('uq_log_follow_up_period', type_='unique')
        batch_op.drop_column('due_at')
        batch_op.drop_column('follow_up_id')

    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.drop_index('ix_escalation_message')
        batch_op.drop_column('deadline_state')
        batch_op.drop_column('last_update_text')
        batch_op.drop_column('last_update_by')
        batch_op.drop_column('last_update_at')
        batch_op.drop_column('acknowledged_at')
        batch_op.drop_column('receiving_owner_id')
        batch_op.drop_column('agent_tz')

    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_up_due')

    op.drop_table('follow_up')

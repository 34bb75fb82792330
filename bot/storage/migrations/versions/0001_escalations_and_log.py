"""escalations and their running log

Revision ID: 0001
Revises: 
Create Date: 2026-11-27 10:55:45.338764
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import sqlmodel
import bot.storage.types


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('escalation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('submission_key', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('destination', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('severity', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('narrative', sa.Text(), nullable=False),
    sa.Column('agent_user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('source_channel_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('channel_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('message_ts', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('delivery_error', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('delivery_claimed_until', bot.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('deadline_at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('brief', sa.JSON(), nullable=False),
    sa.Column('created_at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('posted_at', bot.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('submission_key', name='uq_escalation_submission_key'),
    sa.UniqueConstraint('team_id', 'number', name='uq_escalation_team_number')
    )
    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.create_index('ix_escalation_team_status', ['team_id', 'status'], unique=False)

    op.create_table('escalation_counter',
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('team_id')
    )
    op.create_table('escalation_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('escalation_id', sa.Integer(), nullable=False),
    sa.Column('at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['escalation_id'], ['escalation.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('escalation_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalation_log_escalation_id'), ['escalation_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('escalation_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_escalation_log_escalation_id'))

    op.drop_table('escalation_log')
    op.drop_table('escalation_counter')
    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.drop_index('ix_escalation_team_status')

    op.drop_table('escalation')

"""several workspaces: OAuth installations and states

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 13:20:00.000000

Used only when SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET are set (bot.slack.oauth);
created in every database so switching to several workspaces needs no other upgrade.
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import sqlmodel
import bot.storage.types


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('slack_installation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('enterprise_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('bot_token', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('installed_at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('slack_installation', schema=None) as batch_op:
        batch_op.create_index('ix_slack_installation_team', ['enterprise_id', 'team_id', 'installed_at'], unique=False)

    op.create_table('slack_oauth_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('expire_at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('state', name='uq_slack_oauth_state')
    )


def downgrade() -> None:
    op.drop_table('slack_oauth_state')
    with op.batch_alter_table('slack_installation', schema=None) as batch_op:
        batch_op.drop_index('ix_slack_installation_team')
    op.drop_table('slack_installation')

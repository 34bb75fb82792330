"""Several workspaces: who installed the app where, and the OAuth flow's one-time states.

slack_sdk ships SQLAlchemy stores, but importing them pulls in SQLAlchemy's asyncio extension
(greenlet); these two small tables, in the bot's own database and migrations (0007), do the same.
Each install adds a row; the newest row of a workspace holds its current bot token. The whole
slack_sdk Installation is kept as JSON, so nothing Slack returns is lost.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.storage.types import UTCDateTime


class SlackInstallation(SQLModel, table=True):
    __tablename__ = "slack_installation"
    __table_args__ = (Index("ix_slack_installation_team", "enterprise_id", "team_id", "installed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(max_length=64)
    enterprise_id: str | None = Field(default=None, max_length=32)
    team_id: str | None = Field(default=None, max_length=32)
    user_id: str = Field(max_length=32)  # who installed it
    bot_token: str | None = Field(default=None, max_length=255)
    installed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    data: dict = Field(sa_column=Column(JSON, nullable=False))  # slack_sdk Installation.to_dict()


class SlackOAuthState(SQLModel, table=True):
    __tablename__ = "slack_oauth_state"
    __table_args__ = (UniqueConstraint("state", name="uq_slack_oauth_state"),)

    id: int | None = Field(default=None, primary_key=True)
    state: str = Field(max_length=200)
    expire_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))

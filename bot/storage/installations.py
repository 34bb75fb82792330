"""Several workspaces: who installed the app where, and the OAuth flow's one-time states.

slack_sdk ships SQLAlchemy stores, but importing them pulls in SQLAlchemy's asyncio extension
(greenlet); these two small tables, in the bot's own database and migrations (0007), do the same.
Each install adds a row; the newest row of a workspace holds its current bot token. The whole
slack_sdk Installation is kept as JSON, so nothing Slack returns is lost.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, delete, select
from sqlmodel import Field, Session, SQLModel

from bot.storage.types import UTCDateTime


class SlackInstallation(SQLModel, table=True):
    __tablename__ = "slack_installation"
    __table_args__ = (Index("ix_slack_installation_team", "enterprise_id", "team_id", "installed_at"),)

    id: int = Field(default=None, primary_key=True)  # None until inserted; typed int because every row code reads is stored
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

    id: int = Field(default=None, primary_key=True)  # None until inserted; typed int because every row code reads is stored
    state: str = Field(max_length=200)
    expire_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


def add_installation(
    session: Session,
    *,
    client_id: str,
    enterprise_id: str | None,
    team_id: str | None,
    user_id: str | None,
    bot_token: str | None,
    installed_at: datetime,
    data: dict[str, Any],
) -> None:
    session.add(
        SlackInstallation(
            client_id=client_id, enterprise_id=enterprise_id, team_id=team_id, user_id=user_id, bot_token=bot_token, installed_at=installed_at, data=data
        )
    )


def latest_installation(
    session: Session, *, client_id: str, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
) -> dict[str, Any] | None:
    """The newest installation's stored data (slack_sdk's Installation as a dict), or None."""
    query = select(SlackInstallation).where(
        SlackInstallation.client_id == client_id, SlackInstallation.team_id == team_id, SlackInstallation.enterprise_id == enterprise_id
    )
    if user_id is not None:
        query = query.where(SlackInstallation.user_id == user_id)
    row = session.execute(query.order_by(SlackInstallation.installed_at.desc(), SlackInstallation.id.desc()).limit(1)).scalar()
    return dict(row.data) if row is not None else None


def installed_team_ids(session: Session, *, client_id: str) -> list[str]:
    rows = session.execute(select(SlackInstallation.team_id).where(SlackInstallation.client_id == client_id, SlackInstallation.team_id.is_not(None)).distinct())
    return sorted(team for (team,) in rows)


def delete_installations(session: Session, *, client_id: str, enterprise_id: str | None, team_id: str | None) -> None:
    session.execute(
        delete(SlackInstallation).where(
            SlackInstallation.client_id == client_id, SlackInstallation.team_id == team_id, SlackInstallation.enterprise_id == enterprise_id
        )
    )


def add_oauth_state(session: Session, state: str, *, expire_at: datetime) -> None:
    session.add(SlackOAuthState(state=state, expire_at=expire_at))


def consume_oauth_state(session: Session, state: str, *, now: datetime) -> bool:
    """Delete the state if it is still valid; True once only, so a replayed redirect finds nothing."""
    deleted = session.execute(delete(SlackOAuthState).where(SlackOAuthState.state == state, SlackOAuthState.expire_at > now))
    return deleted.rowcount == 1

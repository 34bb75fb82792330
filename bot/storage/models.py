"""The tables. Times are UTC (`UTCDateTime`); the full brief is kept as JSON beside the columns
that are queried, so new brief fields need no migration while lists and filters stay in SQL."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.storage.types import UTCDateTime


class EscalationStatus(str, Enum):
    PENDING_DELIVERY = "pending_delivery"  # stored, not yet in the destination channel
    OPEN = "open"  # posted and waiting on the receiving team


class LogKind(str, Enum):
    CREATED = "created"
    POSTED = "posted"
    DELIVERY_FAILED = "delivery_failed"
    EXPORTED = "exported"


def _utc(nullable: bool = False, **kw: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable, **kw))


class Escalation(SQLModel, table=True):
    __tablename__ = "escalation"
    __table_args__ = (
        UniqueConstraint("team_id", "number", name="uq_escalation_team_number"),
        UniqueConstraint("submission_key", name="uq_escalation_submission_key"),
        Index("ix_escalation_team_status", "team_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    number: int  # per workspace: ESC-<number>
    submission_key: str | None = Field(default=None, max_length=255)  # the modal's view id: one brief per submission
    destination: str = Field(max_length=32)
    severity: str = Field(max_length=16)
    status: str = Field(max_length=32)
    summary: str = Field(max_length=300)
    narrative: str = Field(sa_column=Column(Text, nullable=False))
    agent_user_id: str = Field(max_length=32)
    source_channel_id: str | None = Field(default=None, max_length=32)
    channel_id: str = Field(max_length=32)  # the destination channel
    message_ts: str | None = Field(default=None, max_length=32)
    delivery_error: str | None = Field(default=None, max_length=255)
    delivery_claimed_until: datetime | None = _utc(nullable=True)  # one poster at a time (double clicks, replicas)
    deadline_at: datetime = _utc()
    brief: dict = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = _utc()
    updated_at: datetime = _utc()
    posted_at: datetime | None = _utc(nullable=True)


class EscalationLog(SQLModel, table=True):
    """The running log: every state change or update, with who and when."""

    __tablename__ = "escalation_log"

    id: int | None = Field(default=None, primary_key=True)
    escalation_id: int = Field(
        sa_column=Column(Integer, ForeignKey("escalation.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    at: datetime = _utc()
    actor: str = Field(max_length=32)  # a Slack user id, or "bot"
    kind: str = Field(max_length=32)
    text: str = Field(sa_column=Column(Text, nullable=False, default=""))
    data: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class EscalationCounter(SQLModel, table=True):
    """The last ESC number handed out per workspace (numbers are per team, gap-free in practice)."""

    __tablename__ = "escalation_counter"

    team_id: str = Field(primary_key=True, max_length=32)
    last_number: int = 0

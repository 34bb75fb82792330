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
    ACKNOWLEDGED = "acknowledged"  # a receiving owner took it
    FIXED_PENDING = "fixed_pending"  # the receiving team says fixed; the agent confirms with the customer
    DEESCALATED = "deescalated"  # handed back to support (method: de-escalation); nudges stop
    RESOLVED = "resolved"  # closed by the agent with lessons learned; nudges stop

    @property
    def label(self) -> str:
        return {"pending_delivery": "Pending delivery", "open": "Waiting for acknowledgement", "acknowledged": "Acknowledged",
                "fixed_pending": "Fixed, awaiting the agent's confirmation", "deescalated": "De-escalated",
                "resolved": "Resolved"}[self.value]


# Statuses whose follow-ups run; later statuses (de-escalated, resolved) stop every nudge.
ACTIVE_STATUSES = (EscalationStatus.OPEN.value, EscalationStatus.ACKNOWLEDGED.value, EscalationStatus.FIXED_PENDING.value)
# Statuses that end an escalation; a re-open returns it to OPEN (or ACKNOWLEDGED if it had an owner).
CLOSED_STATUSES = (EscalationStatus.DEESCALATED.value, EscalationStatus.RESOLVED.value)


class FollowUpKind(str, Enum):
    CHECKIN = "checkin"  # the agent checks in with the receiving team (thread)
    CUSTOMER_UPDATE = "customer_update"  # the agent updates the customer (DM)
    ACK = "ack"  # nobody has acknowledged yet (thread ping, DM to the agent)
    DEADLINE = "deadline"  # three quarters, one hour before, breach


class LogKind(str, Enum):
    CREATED = "created"
    POSTED = "posted"
    DELIVERY_FAILED = "delivery_failed"
    EXPORTED = "exported"
    ACKNOWLEDGED = "acknowledged"
    REACTION = "reaction"
    FIXED = "fixed"
    CHECKIN = "checkin"
    CUSTOMER_UPDATE = "customer_update"
    TEAM_UPDATE = "team_update"
    INFO_REQUESTED = "info_requested"
    THREAD_REPLY = "thread_reply"
    SEVERITY_CHANGED = "severity_changed"
    SNOOZED = "snoozed"
    NUDGE = "nudge"
    DEADLINE_WARNING = "deadline_warning"
    PATTERN = "pattern"  # recurring pattern / resurfaced / trending up, found when the brief was stored
    PATTERN_NOTE = "pattern_note"  # a later brief reported the same symptom
    DEESCALATED = "deescalated"
    RESOLVED = "resolved"  # closed with lessons learned
    REOPENED = "reopened"
    REFUSED = "refused"  # someone without the right tried to act on the brief (who, what)


def _utc(nullable: bool = False, **kw: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable, **kw))


class Escalation(SQLModel, table=True):
    __tablename__ = "escalation"
    __table_args__ = (
        UniqueConstraint("team_id", "number", name="uq_escalation_team_number"),
        UniqueConstraint("submission_key", name="uq_escalation_submission_key"),
        Index("ix_escalation_team_status", "team_id", "status"),
        Index("ix_escalation_message", "channel_id", "message_ts"),  # reactions and thread replies find their brief
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
    agent_tz: str = Field(default="UTC", max_length=64, sa_column_kwargs={"server_default": "UTC"})  # business days and local times are the agent's
    receiving_owner_id: str | None = Field(default=None, max_length=32)
    acknowledged_at: datetime | None = _utc(nullable=True)
    last_update_at: datetime | None = _utc(nullable=True)
    last_update_by: str | None = Field(default=None, max_length=32)
    last_update_text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    deadline_state: str | None = Field(default=None, max_length=16)  # at_risk | breached, from the deadline marks
    # Recurring-pattern matching (bot.storage.search). search_text is what the full-text index holds;
    # only search.index_escalation writes it, because SQLite's index is kept in step by hand.
    product_area: str | None = Field(default=None, max_length=64)
    resolution: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    resolved_at: datetime | None = _utc(nullable=True)
    search_text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class EscalationLog(SQLModel, table=True):
    """The running log: every state change or update, with who and when.

    A scheduled nudge's entry carries (follow_up_id, due_at), unique together: it is written before
    the nudge is sent, so a retried send after a crash or a second worker cannot double a period.
    """

    __tablename__ = "escalation_log"
    __table_args__ = (UniqueConstraint("follow_up_id", "due_at", name="uq_log_follow_up_period"),)

    id: int | None = Field(default=None, primary_key=True)
    escalation_id: int = Field(
        sa_column=Column(Integer, ForeignKey("escalation.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    at: datetime = _utc()
    actor: str = Field(max_length=32)  # a Slack user id, or "bot"
    kind: str = Field(max_length=32)
    text: str = Field(sa_column=Column(Text, nullable=False, default=""))
    data: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    follow_up_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("follow_up.id", ondelete="SET NULL", name="fk_log_follow_up"), nullable=True))
    due_at: datetime | None = _utc(nullable=True)


class FollowUp(SQLModel, table=True):
    """One timer of one escalation: the database is the schedule, APScheduler only the clock.

    The tick claims due rows with a lease (one worker at a time), sends, then advances next_due_at
    from the previous due time on the cadence grid, so downtime yields one nudge, not a burst.
    """

    __tablename__ = "follow_up"
    __table_args__ = (
        UniqueConstraint("escalation_id", "kind", name="uq_follow_up_kind"),
        Index("ix_follow_up_due", "active", "next_due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    escalation_id: int = Field(sa_column=Column(Integer, ForeignKey("escalation.id", ondelete="CASCADE"), nullable=False))
    kind: str = Field(max_length=32)
    active: bool = True
    next_due_at: datetime = _utc()
    stage: str | None = Field(default=None, max_length=32)  # customer_update: due | overdue; deadline: the next mark
    anchor_at: datetime = _utc()  # the last reset (check-in, customer update): the plan counts from here
    snoozed_until: datetime | None = _utc(nullable=True)
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = _utc(nullable=True)


class EscalationCounter(SQLModel, table=True):
    """The last ESC number handed out per workspace (numbers are per team, gap-free in practice)."""

    __tablename__ = "escalation_counter"

    team_id: str = Field(primary_key=True, max_length=32)
    last_number: int = 0

from bot.storage import installations as _installations  # noqa: E402,F401  (OAuth tables on the same metadata)

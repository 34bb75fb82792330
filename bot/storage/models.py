"""The tables. Times are UTC (`UTCDateTime`); the full brief is kept as JSON beside the columns
that are queried, so new brief fields need no migration while lists and filters stay in SQL."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.storage.types import UTCDateTime


def _utc(nullable: bool = False, **kw: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable, **kw))


class Escalation(SQLModel, table=True):
    __tablename__ = "escalation"
    __table_args__ = (
        UniqueConstraint("team_id", "number", name="uq_escalation_team_number"),
        UniqueConstraint("submission_key", name="uq_escalation_submission_key"),
        Index("ix_escalation_team_status", "team_id", "status"),
        Index("ix_escalation_message", "channel_id", "message_ts"),  # reactions and thread replies find their brief
        Index("ix_escalation_delivery_due", "status", "next_delivery_at"),  # the tick finds briefs to post again
    )

    id: int = Field(default=None, primary_key=True)  # None until inserted; typed int because every row code reads is stored
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
    # Durable delivery retries (bot.usecases.escalate.retry_deliveries): the scheduler tick posts pending
    # briefs whose next_delivery_at has come; attempts count claims, so a crash mid-post counts too.
    next_delivery_at: datetime | None = _utc(nullable=True)
    delivery_attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # A long brief continues in its thread: parts posted so far of parts_total. While some are missing,
    # next_delivery_at is when the tick posts the next one (in order), and the brief says so.
    parts_total: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    parts_posted: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
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
    # only search writes it (index_new at insert, index_escalation after a change), because SQLite's
    # index is kept in step by hand.
    product_area: str | None = Field(default=None, max_length=64)
    resolution: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    resolved_at: datetime | None = _utc(nullable=True)  # when it was resolved or de-escalated
    lessons: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # what future agents should do
    search_text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Posted with *Post now* (bot.usecases.complete_brief): the Draft fields still missing, comma-separated,
    # and when the agent should have completed it; both NULL once complete (and for every other brief).
    missing: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    complete_by: datetime | None = _utc(nullable=True)
    # The last move to another team (bot.usecases.move): from (destination, channel, message), by, reason, at.
    # The new post shows it with a link to the earlier message; every move is also in the running log.
    moved_from: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class EscalationEmbedding(SQLModel, table=True):
    """A brief's vector for pattern matching's semantic signal (bot.storage.search, issue 18), apart from
    the wide escalation row so that scanning a 30-day window reads only vectors. `model` names the
    embedder (bot.embeddings): vectors of another model are never compared, and are replaced."""

    __tablename__ = "escalation_embedding"
    __table_args__ = (Index("ix_escalation_embedding_window", "team_id", "model", "created_at"),)

    escalation_id: int = Field(sa_column=Column(Integer, ForeignKey("escalation.id", ondelete="CASCADE"), primary_key=True))
    team_id: str = Field(max_length=32)
    created_at: datetime = _utc()  # the brief's, copied: the window is read from this table alone
    model: str = Field(max_length=128)
    vector: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # float32 little-endian (bot.embeddings.to_bytes)


class EscalationLog(SQLModel, table=True):
    """The running log: every state change or update, with who and when.

    A scheduled nudge's entry carries (follow_up_id, due_at), unique together: it is written before
    the nudge is sent, so a retried send after a crash or a second worker cannot double a period.
    """

    __tablename__ = "escalation_log"
    __table_args__ = (
        UniqueConstraint("follow_up_id", "due_at", name="uq_log_follow_up_period"),
        Index("ix_escalation_log_kind_at", "kind", "at"),  # stats: updates and nudges in a window
    )

    id: int = Field(default=None, primary_key=True)  # None until inserted; typed int because every row code reads is stored
    escalation_id: int = Field(sa_column=Column(Integer, ForeignKey("escalation.id", ondelete="CASCADE"), nullable=False, index=True))
    at: datetime = _utc()
    actor: str = Field(max_length=32)  # a Slack user id, or "bot"
    kind: str = Field(max_length=32)
    text: str = Field(sa_column=Column(Text, nullable=False, default=""))
    data: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    follow_up_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("follow_up.id", ondelete="SET NULL", name="fk_log_follow_up"), nullable=True)
    )
    due_at: datetime | None = _utc(nullable=True)


class FollowUp(SQLModel, table=True):
    """One timer of one escalation: the database is the schedule, APScheduler only the clock.

    The tick claims due rows with a lease (one worker at a time), sends, then advances next_due_at:
    on the cadence grid when sent on time, one full interval after a late (catch-up) nudge, so
    downtime yields one nudge, not a burst, and no second one soon after it.
    """

    __tablename__ = "follow_up"
    __table_args__ = (
        UniqueConstraint("escalation_id", "kind", name="uq_follow_up_kind"),
        Index("ix_follow_up_due", "active", "next_due_at"),
    )

    id: int = Field(default=None, primary_key=True)  # None until inserted; typed int because every row code reads is stored
    escalation_id: int = Field(sa_column=Column(Integer, ForeignKey("escalation.id", ondelete="CASCADE"), nullable=False))
    kind: str = Field(max_length=32)
    active: bool = True
    next_due_at: datetime = _utc()
    stage: str | None = Field(default=None, max_length=32)  # customer_update: due | overdue; deadline: the next mark
    anchor_at: datetime = _utc()  # the last reset (check-in, customer update): the plan counts from here
    snoozed_until: datetime | None = _utc(nullable=True)
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = _utc(nullable=True)
    # The last tick that claimed it and could not send it (Slack failed): a later send is a retry on
    # its grid, not a catch-up after downtime (bot.domain.follow_through.is_catch_up).
    tried_at: datetime | None = _utc(nullable=True)


class SlackEvent(SQLModel, table=True):
    """Events already handled, by Slack's event_id: a retried delivery (X-Slack-Retry-Num) or a second
    replica receiving it has no second effect. Rows older than a day are pruned by the tick."""

    __tablename__ = "slack_event"

    event_id: str = Field(primary_key=True, max_length=64)
    team_id: str = Field(default="", max_length=32)
    received_at: datetime = _utc(index=True)


class BriefIntake(SQLModel, table=True):
    """A validated brief submission, written before Slack is answered: what the agent was told is
    saving is already here. Filed (stored as an escalation, posted) after the ack; whatever a crash
    left unfiled is filed on start-up and by the tick (bot.usecases.escalate.Intake), once per view."""

    __tablename__ = "brief_intake"
    __table_args__ = (Index("ix_brief_intake_unfiled", "filed_at", "received_at"),)

    view_id: str = Field(primary_key=True, max_length=64)  # the modal's view id: the brief's submission key
    team_id: str | None = Field(default=None, max_length=32)
    user_id: str | None = Field(default=None, max_length=32)
    job: dict = Field(sa_column=Column(JSON, nullable=False))  # bot.usecases.escalate.BriefJob, as JSON
    received_at: datetime = _utc()
    filed_at: datetime | None = _utc(nullable=True)
    attempts: int = 0
    lease_until: datetime | None = _utc(nullable=True)  # a recovery in progress (another replica's tick)
    last_error: str | None = Field(default=None, max_length=255)


class BriefDraft(SQLModel, table=True):
    """What an agent had typed in the brief form when it closed (or last re-rendered): one per agent
    and workspace, offered back to that agent only by `/escalate`, the shortcut and their Home tab
    (bot.usecases.drafts). Read by bot/storage/drafts.py alone: never by search, patterns, stats,
    worklists or the digest. Deleted when its brief is filed, on *Start fresh*, and after
    ESCALATION_DRAFT_DAYS (the tick, or the next read)."""

    __tablename__ = "brief_draft"
    __table_args__ = (Index("ix_brief_draft_saved", "saved_at"),)

    team_id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(primary_key=True, max_length=32)
    view_id: str = Field(max_length=64)  # the modal it belongs to: filing that view deletes it
    fields: dict = Field(sa_column=Column(JSON, nullable=False))  # field name → value, checked against the form (blocks.drafts)
    tz: str = Field(default="UTC", max_length=64)  # the agent's zone when saved: "from 14:02" without a Slack call
    saved_at: datetime = _utc()


class EscalationCounter(SQLModel, table=True):
    """The last ESC number handed out per workspace (numbers are per team, gap-free in practice)."""

    __tablename__ = "escalation_counter"

    team_id: str = Field(primary_key=True, max_length=32)
    last_number: int = 0


class DigestRun(SQLModel, table=True):
    """One weekly digest: the unique period key is the claim, so N replicas send it once.

    A replica claims the row with a lease, posts, records the message ts, uploads the chart, then
    marks it done; a replica that died mid-way leaves a lapsed lease and the next one resumes at the
    first step not recorded (never posting the digest twice).
    """

    __tablename__ = "digest_run"
    __table_args__ = (UniqueConstraint("period_key", name="uq_digest_run_period"),)

    id: int = Field(default=None, primary_key=True)  # None until inserted; typed int because every row code reads is stored
    period_key: str = Field(max_length=64)  # e.g. weekly:2026-11-30 (the local Monday it is due)
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = _utc(nullable=True)
    channel_id: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
    chart_file_id: str | None = Field(default=None, max_length=32)
    done_at: datetime | None = _utc(nullable=True)
    created_at: datetime = _utc()


class TicketLink(SQLModel, table=True):
    """A ticket a brief cites (Zendesk #id, Jira KEY-n), with what the ticketing system last said.

    Indexed by (team, system, key): "earlier escalations of the same ticket" is one lookup.
    """

    __tablename__ = "ticket_link"
    __table_args__ = (
        UniqueConstraint("escalation_id", "system", "key", name="uq_ticket_link"),
        Index("ix_ticket_link_ticket", "team_id", "system", "key"),
    )

    id: int = Field(default=None, primary_key=True)  # None until inserted; typed int because every row code reads is stored
    escalation_id: int = Field(sa_column=Column(Integer, ForeignKey("escalation.id", ondelete="CASCADE"), nullable=False))
    team_id: str = Field(max_length=32)
    system: str = Field(max_length=16)  # zendesk | jira
    key: str = Field(max_length=64)  # 12345 | SUP-123
    status: str | None = Field(default=None, max_length=64)
    priority: str | None = Field(default=None, max_length=64)
    organization: str | None = Field(default=None, max_length=255)
    sla_name: str | None = Field(default=None, max_length=255)
    sla_due_at: datetime | None = _utc(nullable=True)
    fetched_at: datetime | None = _utc(nullable=True)
    fetch_error: str | None = Field(default=None, max_length=255)
    created_at: datetime = _utc()


class PatternLink(SQLModel, table=True):
    """Two briefs of one workspace and what is known of them being the same problem (bot.domain.patterns):
    confirmed or rejected by a person, or automatic with matching's score. One row per pair (low_id <
    high_id); a person's decision replaces an automatic row, and an automatic one never replaces a person's."""

    __tablename__ = "pattern_link"
    __table_args__ = (
        UniqueConstraint("low_id", "high_id", name="uq_pattern_link_pair"),
        Index("ix_pattern_link_high", "high_id"),  # the group walk looks up both ends (low_id: the unique index)
    )

    id: int = Field(default=None, primary_key=True)  # None until inserted; typed int because every row code reads is stored
    low_id: int = Field(sa_column=Column(Integer, ForeignKey("escalation.id", ondelete="CASCADE"), nullable=False))
    high_id: int = Field(sa_column=Column(Integer, ForeignKey("escalation.id", ondelete="CASCADE"), nullable=False))
    kind: str = Field(max_length=16)  # confirmed | rejected | automatic
    score: float | None = None  # matching's score when matching found the pair (kept when a person decides)
    actor: str = Field(max_length=32)  # who decided: a Slack user id, or "bot" for an automatic link
    at: datetime = _utc()


class OutboxState(str, Enum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up after its attempts; the brief's running log says so


class Outbox(SQLModel, table=True):
    """Work for a ticketing system or the webhook, written in the log entry's own transaction and
    sent later by the scheduler tick (claim with a lease, retry with backoff)."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),)

    id: int = Field(default=None, primary_key=True)  # None until inserted; typed int because every row code reads is stored
    escalation_id: int = Field(sa_column=Column(Integer, ForeignKey("escalation.id", ondelete="CASCADE"), nullable=False, index=True))
    log_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("escalation_log.id", ondelete="SET NULL", name="fk_outbox_log"), nullable=True)
    )
    sink: str = Field(max_length=16)  # zendesk | jira | webhook
    target: str = Field(default="", max_length=64)  # the ticket key; "" for the webhook
    payload: dict = Field(sa_column=Column(JSON, nullable=False))
    state: str = Field(default=OutboxState.PENDING.value, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = _utc()
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = _utc(nullable=True)
    last_error: str | None = Field(default=None, max_length=255)
    created_at: datetime = _utc()
    delivered_at: datetime | None = _utc(nullable=True)


class PausedWorkspace(SQLModel, table=True):
    """A workspace Slack no longer serves the app in (uninstalled, token revoked): its reminders and
    pending deliveries are kept but neither claimed nor tried until the row is gone (a reinstall, or
    a probe that finds the token working again). bot.usecases.workspaces."""

    __tablename__ = "paused_workspace"

    team_id: str = Field(primary_key=True, max_length=32)
    reason: str = Field(max_length=64)  # app_uninstalled, tokens_revoked, or Slack's error (invalid_auth…)
    paused_at: datetime = _utc()
    probe_at: datetime | None = _utc(nullable=True)  # when auth.test next asks whether its token works again; None: wait for a reinstall


from bot.storage import installations as _installations  # noqa: E402,F401  (OAuth tables on the same metadata)

"""Where an escalation stands, the kinds of follow-up timer, and the kinds of running-log entry.

Plain enums of the domain: storage keeps their values in string columns, blocks show their labels,
and the follow-through rules (bot.domain.follow_through) move an escalation between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class EscalationStatus(str, Enum):
    PENDING_DELIVERY = "pending_delivery"  # stored, not yet in the destination channel
    OPEN = "open"  # posted and waiting on the receiving team
    ACKNOWLEDGED = "acknowledged"  # a receiving owner took it
    FIXED_PENDING = "fixed_pending"  # the receiving team says fixed; the agent confirms with the customer
    DEESCALATED = "deescalated"  # handed back to support (method: de-escalation); nudges stop
    RESOLVED = "resolved"  # closed by the agent with lessons learned; nudges stop

    @property
    def label(self) -> str:
        return {
            "pending_delivery": "Pending delivery",
            "open": "Waiting for acknowledgement",
            "acknowledged": "Acknowledged",
            "fixed_pending": "Fixed, awaiting the agent's confirmation",
            "deescalated": "De-escalated",
            "resolved": "Resolved",
        }[self.value]


# Statuses whose follow-ups run; later statuses (de-escalated, resolved) stop every nudge.
ACTIVE_STATUSES = (EscalationStatus.OPEN.value, EscalationStatus.ACKNOWLEDGED.value, EscalationStatus.FIXED_PENDING.value)
# Statuses that end an escalation; a re-open returns it to OPEN (or ACKNOWLEDGED if it had an owner).
CLOSED_STATUSES = (EscalationStatus.DEESCALATED.value, EscalationStatus.RESOLVED.value)


class FollowUpKind(str, Enum):
    CHECKIN = "checkin"  # the agent checks in with the receiving team (thread)
    CUSTOMER_UPDATE = "customer_update"  # the agent updates the customer (DM)
    ACK = "ack"  # nobody has acknowledged yet (thread ping, DM to the agent)
    DEADLINE = "deadline"  # three quarters, one hour before, breach
    COMPLETE = "complete_brief"  # a brief posted before it was complete: the agent is reminded by DM (15 and 30 min)


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
    PATTERN_LINKED = "pattern_linked"  # a person confirmed: the same problem as another brief (bot.usecases.pattern_links)
    PATTERN_UNLINKED = "pattern_unlinked"  # a person said: not related to another brief (never suggested again)
    DEESCALATED = "deescalated"
    RESOLVED = "resolved"  # closed with lessons learned
    REOPENED = "reopened"
    MOVED = "moved"  # to another destination (bot.usecases.move): from, to, reason, who, the previous message
    REFUSED = "refused"  # someone without the right tried to act on the brief (who, what)
    SYNC_FAILED = "sync_failed"  # a ticket note or webhook gave up after its retries (bot.ticketing)
    COMPLETED = "completed"  # a brief posted with *Post now* was completed (what was added)


# Entries whose text the bot composed as Slack markup: its own mentions (`<@U…>`), channel links
# (`<#C…>`) and nudge texts, which escape whatever typed text they quote. The running log shows these
# as Slack shows them; every other kind holds what a person typed (alone or after a label), shown escaped.
BOT_COMPOSED_LOG_KINDS = frozenset(
    kind.value
    for kind in (
        LogKind.CREATED,
        LogKind.POSTED,
        LogKind.EXPORTED,
        LogKind.ACKNOWLEDGED,
        LogKind.REACTION,
        LogKind.FIXED,
        LogKind.SNOOZED,
        LogKind.NUDGE,
        LogKind.DEADLINE_WARNING,
        LogKind.PATTERN,
        LogKind.PATTERN_NOTE,
        LogKind.PATTERN_LINKED,
        LogKind.PATTERN_UNLINKED,
        LogKind.REOPENED,
        LogKind.COMPLETED,
    )
)  # values: entries carry their kind as a string


@dataclass(frozen=True)
class Transition:
    """A status change and the statuses it may start from. Storage applies it atomically
    (escalations.transition: one UPDATE … WHERE status IN …), so of two clicks at once one wins."""

    from_statuses: tuple[str, ...]
    to: EscalationStatus


# Every status change a person makes goes through one of these (posting and delivery failures are
# the bot's own bookkeeping: pending_delivery <-> open, in storage).
ACKNOWLEDGE = Transition((EscalationStatus.OPEN.value,), EscalationStatus.ACKNOWLEDGED)  # an owner already acknowledged keeps the status
MARK_FIXED = Transition((EscalationStatus.OPEN.value, EscalationStatus.ACKNOWLEDGED.value), EscalationStatus.FIXED_PENDING)
DEESCALATE = Transition(ACTIVE_STATUSES, EscalationStatus.DEESCALATED)
RESOLVE = Transition(ACTIVE_STATUSES, EscalationStatus.RESOLVED)


# A move to another team (bot.usecases.move): the new team has not taken it yet. A brief the team has
# marked fixed, or a closed one, stays where it is (re-open it first).
MOVE = Transition((EscalationStatus.OPEN.value, EscalationStatus.ACKNOWLEDGED.value), EscalationStatus.OPEN)


def reopen(*, owned: bool) -> Transition:
    """Back to open, or to acknowledged if someone owns it."""
    return Transition(CLOSED_STATUSES, EscalationStatus.ACKNOWLEDGED if owned else EscalationStatus.OPEN)

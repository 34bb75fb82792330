"""When each follow-up fires next, and what it says when it fires. Pure: times in, times out.

Four timers per posted brief: the agent's check-in with the receiving team, the agent's customer
update (due at the lower bound, overdue at the upper), the acknowledgement window, and the deadline
marks (three quarters of the time used, one hour before, breach). After firing, a timer advances on
its own grid from the previous due time, so a late or restarted worker sends one nudge, not a burst.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.cadence import Cadence, add_interval, deadline_marks, next_deadline_mark, next_due_after
from bot.domain.status import EscalationStatus, FollowUpKind

DUE, OVERDUE = "due", "overdue"

# Which timers still run in each status; a status not listed (resolved, de-escalated) runs none.
RUNS_IN = {
    EscalationStatus.OPEN.value: {FollowUpKind.CHECKIN, FollowUpKind.CUSTOMER_UPDATE, FollowUpKind.ACK, FollowUpKind.DEADLINE},
    EscalationStatus.ACKNOWLEDGED.value: {FollowUpKind.CHECKIN, FollowUpKind.CUSTOMER_UPDATE, FollowUpKind.DEADLINE},
    # The team says it is fixed: the agent still owes the customer an update until they close it.
    EscalationStatus.FIXED_PENDING.value: {FollowUpKind.CUSTOMER_UPDATE},
}


@dataclass(frozen=True)
class Plan:
    kind: FollowUpKind
    next_due_at: datetime
    anchor_at: datetime
    stage: str | None = None
    active: bool = True


def initial_plans(*, posted_at: datetime, deadline: datetime, cadence: Cadence, tz: str) -> list[Plan]:
    plans = [
        Plan(FollowUpKind.CHECKIN, add_interval(posted_at, cadence.checkin, tz), posted_at),
        Plan(FollowUpKind.CUSTOMER_UPDATE, add_interval(posted_at, cadence.customer_update.due, tz), posted_at, DUE),
        Plan(FollowUpKind.ACK, add_interval(posted_at, cadence.ack_window, tz), posted_at),
    ]
    mark = next_deadline_mark(posted_at, deadline, after=posted_at)
    if mark is not None:
        plans.append(Plan(FollowUpKind.DEADLINE, mark[1], posted_at, mark[0]))
    return plans


def resume(*, now: datetime, posted_at: datetime, deadline: datetime, cadence: Cadence, tz: str, acknowledged: bool) -> list[Plan]:
    """A re-opened escalation: the cadence starts again from now (the ack window only if nobody owns
    it); the deadline keeps its marks from the original posting, the next one still ahead."""
    plans = [
        Plan(FollowUpKind.CHECKIN, add_interval(now, cadence.checkin, tz), now),
        Plan(FollowUpKind.CUSTOMER_UPDATE, add_interval(now, cadence.customer_update.due, tz), now, DUE),
    ]
    if not acknowledged:
        plans.append(Plan(FollowUpKind.ACK, add_interval(now, cadence.ack_window, tz), now))
    mark = next_deadline_mark(posted_at, deadline, after=now)
    if mark is not None:
        plans.append(Plan(FollowUpKind.DEADLINE, mark[1], posted_at, mark[0]))
    return plans


def reset_checkin(*, at: datetime, cadence: Cadence, tz: str) -> Plan:
    """A check-in was logged (or the agent replied in the thread): the next one is due a full interval later."""
    return Plan(FollowUpKind.CHECKIN, add_interval(at, cadence.checkin, tz), at)


def reset_customer_update(*, at: datetime, cadence: Cadence, tz: str) -> Plan:
    return Plan(FollowUpKind.CUSTOMER_UPDATE, add_interval(at, cadence.customer_update.due, tz), at, DUE)


def replan(kind: FollowUpKind, *, anchor: datetime, cadence: Cadence, tz: str, now: datetime, stage: str | None) -> Plan:
    """A new severity: the same anchor on the new cadence; if that moment has passed, due now."""
    if kind is FollowUpKind.CHECKIN:
        due = add_interval(anchor, cadence.checkin, tz)
    elif kind is FollowUpKind.CUSTOMER_UPDATE:
        overdue_at = add_interval(anchor, cadence.customer_update.overdue, tz)
        stage = OVERDUE if overdue_at <= now and cadence.customer_update.due != cadence.customer_update.overdue else DUE
        due = add_interval(anchor, cadence.customer_update.due, tz)
    elif kind is FollowUpKind.ACK:
        due = add_interval(anchor, cadence.ack_window, tz)
    else:
        raise ValueError(f"{kind} is not re-planned by severity")
    return Plan(kind, max(due, now), anchor, stage)


@dataclass(frozen=True)
class Firing:
    """What a due timer does now: the stage to announce, and the plan after it."""

    stage: str | None
    next_due_at: datetime | None  # None: the timer is done
    next_stage: str | None


def fire(
    kind: FollowUpKind,
    *,
    stage: str | None,
    due_at: datetime,
    anchor: datetime,
    now: datetime,
    cadence: Cadence,
    tz: str,
    posted_at: datetime,
    deadline: datetime,
) -> Firing:
    if kind is FollowUpKind.CHECKIN:
        return Firing(None, next_due_after(due_at, cadence.checkin, now, tz), None)
    if kind is FollowUpKind.ACK:
        return Firing(None, next_due_after(due_at, cadence.ack_window, now, tz), None)
    if kind is FollowUpKind.CUSTOMER_UPDATE:
        span = cadence.customer_update
        overdue_at = add_interval(anchor, span.overdue, tz)
        if span.due == span.overdue:
            return Firing(DUE, next_due_after(due_at, span.due, now, tz), DUE)
        if stage == DUE and now < overdue_at:
            return Firing(DUE, overdue_at, OVERDUE)
        # Overdue (also when downtime skipped past the due nudge): remind again at the due cadence.
        return Firing(OVERDUE, next_due_after(max(due_at, overdue_at), span.due, now, tz), OVERDUE)
    if kind is FollowUpKind.DEADLINE:
        passed = [m for m in deadline_marks(posted_at, deadline) if m[1] <= now]
        announce = passed[-1][0] if passed else stage  # after downtime, only the latest mark is news
        upcoming = next_deadline_mark(posted_at, deadline, after=now)
        return Firing(announce, upcoming[1] if upcoming else None, upcoming[0] if upcoming else None)
    raise ValueError(kind)

"""When each follow-up fires next, and what it says when it fires. Pure: times in, times out.

Four timers per posted brief: the agent's check-in with the receiving team, the agent's customer
update (due at the lower bound, overdue at the upper), the acknowledgement window, and the deadline
marks (three quarters of the time used, one hour before, breach). A timer fired on time advances on
its own grid from the previous due time (no drift by tick lag), and so does one whose send Slack
failed and the next tick retried. A timer nobody tried while it was due (the bot was down, a worker
stalled, its workspace was paused) is a catch-up: it sends one nudge, not a burst, and the next one
comes one full interval after that catch-up, not at the old grid's next slot (which could be
minutes away: two pings close together).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.cadence import Cadence, Interval, add_interval, deadline_marks, next_deadline_mark, next_due_after
from bot.domain.complete_brief import DEFAULT_REMINDERS
from bot.domain.status import EscalationStatus, FollowUpKind

DUE, OVERDUE = "due", "overdue"

# Left untried this long after its due time, a timer was not served by running ticks. The scheduler
# passes its own figure (two tick periods and the jitter: running ticks take a due timer sooner).
LATE_AFTER = timedelta(minutes=1)


def is_catch_up(*, due_at: datetime, now: datetime, tried_at: datetime | None, late_after: timedelta = LATE_AFTER) -> bool:
    """Nobody tried to send this timer for more than `late_after` since it fell due (the bot was down,
    a worker stalled, its workspace was paused): counted from its due time, or from the last tick that
    tried it and could not send (Slack failed), if later. A send retried tick after tick stays on its
    grid; a catch-up starts a fresh interval."""
    since = due_at if tried_at is None else max(due_at, tried_at)
    return now - since > late_after


# Which timers still run in each status; a status not listed (resolved, de-escalated) runs none.
# An incomplete brief's reminders (COMPLETE) run while it is open; completing it ends them.
RUNS_IN = {
    EscalationStatus.OPEN.value: {FollowUpKind.CHECKIN, FollowUpKind.CUSTOMER_UPDATE, FollowUpKind.ACK, FollowUpKind.DEADLINE, FollowUpKind.COMPLETE},
    EscalationStatus.ACKNOWLEDGED.value: {FollowUpKind.CHECKIN, FollowUpKind.CUSTOMER_UPDATE, FollowUpKind.DEADLINE, FollowUpKind.COMPLETE},
    # The team says it is fixed: the agent still owes the customer an update until they close it.
    EscalationStatus.FIXED_PENDING.value: {FollowUpKind.CUSTOMER_UPDATE, FollowUpKind.COMPLETE},
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


def complete_plan(*, posted_at: datetime, reminders: tuple[timedelta, ...] = DEFAULT_REMINDERS) -> Plan:
    """A brief posted before it was complete: the agent's first reminder to complete it (the others follow in `fire`)."""
    return Plan(FollowUpKind.COMPLETE, posted_at + reminders[0], posted_at)


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


def restart_ack(*, now: datetime, cadence: Cadence, tz: str) -> Plan:
    """A brief moved to another team: nobody there has taken it yet, so their acknowledgement window starts now."""
    return Plan(FollowUpKind.ACK, add_interval(now, cadence.ack_window, tz), now)


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
    tried_at: datetime | None = None,
    late_after: timedelta = LATE_AFTER,
    reminders: tuple[timedelta, ...] = DEFAULT_REMINDERS,
) -> Firing:
    if kind is FollowUpKind.COMPLETE:
        # Fixed moments after the first post (15 and 30 min), not a cadence: after downtime the one
        # reminder sent is the latest passed; "final" once the time to complete it is up.
        final = due_at >= anchor + reminders[-1] or now >= anchor + reminders[-1]
        later = [anchor + offset for offset in reminders if anchor + offset > now]
        return Firing("final" if final else "reminder", later[0] if later else None, None)
    catch_up = is_catch_up(due_at=due_at, now=now, tried_at=tried_at, late_after=late_after)

    def then(slot: datetime, interval: Interval) -> datetime:
        """The next nudge of a repeating timer: on its grid, or one full interval after a catch-up."""
        return add_interval(now, interval, tz) if catch_up else next_due_after(slot, interval, now, tz)

    if kind is FollowUpKind.CHECKIN:
        return Firing(None, then(due_at, cadence.checkin), None)
    if kind is FollowUpKind.ACK:
        return Firing(None, then(due_at, cadence.ack_window), None)
    if kind is FollowUpKind.CUSTOMER_UPDATE:
        span = cadence.customer_update
        overdue_at = add_interval(anchor, span.overdue, tz)
        if span.due == span.overdue:
            return Firing(DUE, then(due_at, span.due), DUE)
        if stage == DUE and now < overdue_at:
            # A late "due" nudge: "overdue" is still news, but not minutes later; one reminder
            # interval (the range's lower bound, the rhythm of the overdue reminders) after it.
            return Firing(DUE, max(overdue_at, add_interval(now, span.due, tz)) if catch_up else overdue_at, OVERDUE)
        # Overdue (also when downtime skipped past the due nudge): remind again at the due cadence.
        return Firing(OVERDUE, then(max(due_at, overdue_at), span.due), OVERDUE)
    if kind is FollowUpKind.DEADLINE:
        # Marks are fixed moments toward the deadline, not a cadence: after downtime the latest passed
        # mark is announced once, and the next one keeps its time.
        passed = [m for m in deadline_marks(posted_at, deadline) if m[1] <= now]
        announce = passed[-1][0] if passed else stage  # after downtime, only the latest mark is news
        upcoming = next_deadline_mark(posted_at, deadline, after=now)
        return Firing(announce, upcoming[1] if upcoming else None, upcoming[0] if upcoming else None)
    raise ValueError(kind)

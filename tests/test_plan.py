"""The follow-up rules as pure functions: what fires, and when the next one is due."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.cadence import DEFAULT_CADENCES, add_interval, parse_range
from bot.domain.follow_through import DUE, OVERDUE, fire, initial_plans, is_catch_up, replan, reset_checkin
from bot.domain.status import FollowUpKind

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
HIGH = DEFAULT_CADENCES["high"]
CRITICAL = DEFAULT_CADENCES["critical"]
DEADLINE = T0 + timedelta(hours=8)


def fire_at(kind, now, *, stage=None, due_at, anchor=T0, cadence=HIGH, tried_at=None):
    return fire(kind, stage=stage, due_at=due_at, anchor=anchor, now=now, cadence=cadence, tz="UTC", posted_at=T0, deadline=DEADLINE, tried_at=tried_at)


def test_initial_plans_follow_the_table():
    plans = {p.kind: p for p in initial_plans(posted_at=T0, deadline=DEADLINE, cadence=HIGH, tz="UTC")}
    assert plans[FollowUpKind.CHECKIN].next_due_at == T0 + timedelta(hours=4)
    assert plans[FollowUpKind.CUSTOMER_UPDATE].next_due_at == T0 + timedelta(hours=4)
    assert plans[FollowUpKind.ACK].next_due_at == T0 + timedelta(hours=1)
    assert (plans[FollowUpKind.DEADLINE].stage, plans[FollowUpKind.DEADLINE].next_due_at) == ("three_quarters", T0 + timedelta(hours=6))


def test_no_deadline_timer_when_the_deadline_is_already_past():
    kinds = {p.kind for p in initial_plans(posted_at=T0, deadline=T0 - timedelta(minutes=1), cadence=HIGH, tz="UTC")}
    assert FollowUpKind.DEADLINE not in kinds


def test_checkin_advances_on_its_grid():
    due = T0 + timedelta(hours=4)
    assert fire_at(FollowUpKind.CHECKIN, due + timedelta(seconds=20), due_at=due).next_due_at == T0 + timedelta(hours=8)
    late = fire_at(FollowUpKind.CHECKIN, due + timedelta(hours=9), due_at=due)  # a worker was down 9 h
    assert late.next_due_at == due + timedelta(hours=9) + timedelta(hours=4)  # a full interval after the catch-up


def test_customer_update_is_due_then_overdue_then_reminded_at_the_due_cadence():
    due = T0 + timedelta(hours=4)
    first = fire_at(FollowUpKind.CUSTOMER_UPDATE, due, stage=DUE, due_at=due)
    assert (first.stage, first.next_stage, first.next_due_at) == (DUE, OVERDUE, T0 + timedelta(hours=8))
    second = fire_at(FollowUpKind.CUSTOMER_UPDATE, T0 + timedelta(hours=8), stage=OVERDUE, due_at=T0 + timedelta(hours=8))
    assert (second.stage, second.next_stage, second.next_due_at) == (OVERDUE, OVERDUE, T0 + timedelta(hours=12))


def test_downtime_past_the_upper_bound_announces_overdue_once():
    firing = fire_at(FollowUpKind.CUSTOMER_UPDATE, T0 + timedelta(hours=11), stage=DUE, due_at=T0 + timedelta(hours=4))
    assert firing.stage == OVERDUE and firing.next_due_at == T0 + timedelta(hours=15)  # the 4 h reminder rhythm, from the catch-up


def test_single_value_customer_cadence_never_says_overdue():
    cadence = HIGH.__class__(checkin=HIGH.checkin, customer_update=parse_range("3h"), ack_window=HIGH.ack_window)
    firing = fire_at(FollowUpKind.CUSTOMER_UPDATE, T0 + timedelta(hours=3), stage=DUE, due_at=T0 + timedelta(hours=3), cadence=cadence)
    assert firing.stage == DUE and firing.next_due_at == T0 + timedelta(hours=6)


def test_deadline_marks_fire_in_order_and_only_the_latest_after_downtime():
    first = fire_at(FollowUpKind.DEADLINE, T0 + timedelta(hours=6), stage="three_quarters", due_at=T0 + timedelta(hours=6))
    assert (first.stage, first.next_stage, first.next_due_at) == ("three_quarters", "one_hour", T0 + timedelta(hours=7))
    late = fire_at(FollowUpKind.DEADLINE, T0 + timedelta(hours=9), stage="three_quarters", due_at=T0 + timedelta(hours=6))
    assert (late.stage, late.next_due_at) == ("breach", None)


def test_severity_change_replans_from_the_same_anchor():
    now = T0 + timedelta(minutes=30)
    checkin = replan(FollowUpKind.CHECKIN, anchor=T0, cadence=CRITICAL, tz="UTC", now=now, stage=None)
    assert checkin.next_due_at == T0 + timedelta(hours=2)
    ack = replan(FollowUpKind.ACK, anchor=T0, cadence=CRITICAL, tz="UTC", now=now, stage=None)
    assert ack.next_due_at == now  # the 15-minute window has passed: due at the next tick
    later = replan(FollowUpKind.CUSTOMER_UPDATE, anchor=T0, cadence=CRITICAL, tz="UTC", now=T0 + timedelta(hours=5), stage=DUE)
    assert later.stage == OVERDUE  # 2-4 h on the new cadence: already past the upper bound


def test_a_logged_checkin_restarts_the_interval():
    at = T0 + timedelta(hours=3)
    assert reset_checkin(at=at, cadence=HIGH, tz="UTC").next_due_at == at + timedelta(hours=4)


# --- downtime: one catch-up nudge per timer, then a full interval -----------------------------------

TICK = timedelta(seconds=30)
LATE_AFTER = 2 * TICK + timedelta(seconds=5)  # what the Ticker passes for a 30 s tick
MEDIUM = DEFAULT_CADENCES["medium"]
PARIS = "Europe/Paris"
FRIDAY = T0 - timedelta(days=3)  # 09:00 UTC, 10:00 in Paris


def sends(kind, cadence, *, posted, down, until, tz="UTC", tick=TICK, slack_down=None):
    """When a timer posted at `posted` sends, with a tick every `tick` and none while the bot is
    `down` (from, to): the restarted process's first tick is at `to`. Each tick fires a due timer
    once; while `slack_down` (from, to), Slack fails every send and the next tick retries it."""
    plan = next(p for p in initial_plans(posted_at=posted, deadline=posted + timedelta(days=60), cadence=cadence, tz=tz) if p.kind is kind)
    due, stage, sent, tried_at = plan.next_due_at, plan.stage, [], None
    while due is not None:
        at = posted + -(-(due - posted) // tick) * tick  # the first tick at or after the due time
        if sent:
            at = max(at, sent[-1][0] + tick)  # one claim per tick: a timer left due fires at the next one
        if down[0] <= at < down[1]:
            at = down[1]
        if at > until:
            return sent
        if slack_down and slack_down[0] <= at < slack_down[1]:
            tried_at = at  # claimed, not sent: released for the next tick
            sent.append((at, "failed"))
            continue
        firing = fire(
            kind,
            stage=stage,
            due_at=due,
            anchor=posted,
            now=at,
            cadence=cadence,
            tz=tz,
            posted_at=posted,
            deadline=posted + timedelta(days=60),
            tried_at=tried_at,
            late_after=LATE_AFTER,
        )
        sent.append((at, firing.stage))
        due, stage, tried_at = firing.next_due_at, firing.next_stage, None
    return sent


# (timer, cadence, zone, posted, down from, down to, the interval after the catch-up, the old grid's next slot)
DOWNTIMES = {
    # High: check-in every 4 h. Back 10 minutes before the old grid's next slot each time.
    "check-in, down less than one period": (
        FollowUpKind.CHECKIN,
        HIGH,
        "UTC",
        T0,
        T0 + timedelta(hours=3, minutes=55),
        T0 + timedelta(hours=7, minutes=50),
        HIGH.checkin,
        T0 + timedelta(hours=8),
    ),
    "check-in, down several periods": (
        FollowUpKind.CHECKIN,
        HIGH,
        "UTC",
        T0,
        T0 + timedelta(hours=3),
        T0 + timedelta(hours=19, minutes=50),
        HIGH.checkin,
        T0 + timedelta(hours=20),
    ),
    "check-in, down three days": (
        FollowUpKind.CHECKIN,
        CRITICAL,
        "UTC",
        T0,
        T0 + timedelta(hours=1),
        T0 + timedelta(days=3, hours=1),
        CRITICAL.checkin,
        T0 + timedelta(days=3, hours=2),
    ),
    # High: customer update due at 4 h, overdue at 8 h, then every 4 h.
    "customer update, late due nudge, down less than one period": (
        FollowUpKind.CUSTOMER_UPDATE,
        HIGH,
        "UTC",
        T0,
        T0 + timedelta(hours=3, minutes=55),
        T0 + timedelta(hours=7, minutes=50),
        HIGH.customer_update.due,
        T0 + timedelta(hours=8),
    ),
    "customer update, down several periods": (
        FollowUpKind.CUSTOMER_UPDATE,
        HIGH,
        "UTC",
        T0,
        T0 + timedelta(hours=3),
        T0 + timedelta(hours=19, minutes=50),
        HIGH.customer_update.due,
        T0 + timedelta(hours=20),
    ),
    "customer update, down three days": (
        FollowUpKind.CUSTOMER_UPDATE,
        HIGH,
        "UTC",
        T0,
        T0 + timedelta(hours=3),
        T0 + timedelta(days=3, hours=3),
        HIGH.customer_update.due,
        T0 + timedelta(days=3, hours=4),
    ),
    # Medium (1bd-2bd) in Paris, posted Friday 10:00: due Monday 10:00, overdue Tuesday 10:00, then each business day.
    "business days, down less than one period": (
        FollowUpKind.CUSTOMER_UPDATE,
        MEDIUM,
        PARIS,
        FRIDAY,
        T0 - timedelta(minutes=5),
        T0 + timedelta(hours=23, minutes=50),
        MEDIUM.customer_update.due,
        T0 + timedelta(days=1),
    ),
    "business days, down several periods": (
        FollowUpKind.CUSTOMER_UPDATE,
        MEDIUM,
        PARIS,
        FRIDAY,
        T0 - timedelta(minutes=5),
        T0 + timedelta(days=2, hours=23, minutes=50),
        MEDIUM.customer_update.due,
        T0 + timedelta(days=3),
    ),
    "business days, down three days over the weekend": (
        FollowUpKind.CUSTOMER_UPDATE,
        MEDIUM,
        PARIS,
        FRIDAY,
        FRIDAY + timedelta(hours=3),
        T0 + timedelta(hours=3),
        MEDIUM.customer_update.due,
        T0 + timedelta(days=1),
    ),
    "acknowledgement pings, down several periods": (
        FollowUpKind.ACK,
        CRITICAL,
        "UTC",
        T0,
        T0 + timedelta(minutes=10),
        T0 + timedelta(hours=1, minutes=25),
        CRITICAL.ack_window,
        T0 + timedelta(hours=1, minutes=30),
    ),
}


@pytest.mark.parametrize("case", DOWNTIMES.values(), ids=DOWNTIMES.keys())
def test_after_downtime_one_catch_up_nudge_then_a_full_interval(case):
    kind, cadence, tz, posted, down_from, back, interval, old_next = case
    sent = sends(kind, cadence, posted=posted, down=(down_from, back), until=back + timedelta(days=8), tz=tz)
    times = [at for at, _ in sent]
    assert not [at for at in times if down_from <= at < back]  # nothing while down
    assert times.count(back) == 1  # one catch-up nudge at the restart's first tick, not a burst
    after = times[times.index(back) + 1]
    assert after == add_interval(back, interval, tz)  # one full interval after the catch-up…
    assert old_next < after  # …not the old grid's next slot, minutes after it
    for earlier, later in zip(times[times.index(back) :], times[times.index(back) + 1 :], strict=False):
        assert later == add_interval(earlier, interval, tz)  # then on time, on the new grid


def test_a_catch_up_due_nudge_still_says_overdue_when_that_time_comes():
    # High, back at 7 h 50: the late "due" nudge, then "overdue" a full 4 h later (not at 8 h), then every 4 h.
    sent = sends(
        FollowUpKind.CUSTOMER_UPDATE, HIGH, posted=T0, down=(T0 + timedelta(hours=3), T0 + timedelta(hours=7, minutes=50)), until=T0 + timedelta(hours=20)
    )
    assert [(at - T0, stage) for at, stage in sent] == [
        (timedelta(hours=7, minutes=50), DUE),
        (timedelta(hours=11, minutes=50), OVERDUE),
        (timedelta(hours=15, minutes=50), OVERDUE),
        (timedelta(hours=19, minutes=50), OVERDUE),
    ]


def test_a_business_day_catch_up_keeps_business_day_semantics():
    # Medium in Paris, posted Friday 10:00; the bot is down from Monday 09:55 to Tuesday 09:50.
    sent = sends(
        FollowUpKind.CUSTOMER_UPDATE,
        MEDIUM,
        posted=FRIDAY,
        down=(T0 - timedelta(minutes=5), T0 + timedelta(hours=23, minutes=50)),
        until=T0 + timedelta(days=7),
        tz=PARIS,
    )
    local = [(at.astimezone(ZoneInfo(PARIS)).strftime("%a %H:%M"), stage) for at, stage in sent]
    # Due nudge late on Tuesday 09:50, overdue a business day later, then each business day: the weekend is skipped.
    assert local[:5] == [("Tue 09:50", DUE), ("Wed 09:50", OVERDUE), ("Thu 09:50", OVERDUE), ("Fri 09:50", OVERDUE), ("Mon 09:50", OVERDUE)]


def test_a_catch_up_during_the_weekend_counts_the_next_business_day_from_monday():
    # Down from Friday 12:00 to Saturday 12:00 Paris time: the Friday-due nudge goes out on Saturday;
    # one business day after a weekend moment ends Tuesday 00:00 (the weekend does not count).
    friday = FRIDAY - timedelta(days=3)  # posted the Tuesday before: due Wednesday, overdue Thursday, reminded Friday 10:00
    sent = sends(
        FollowUpKind.CUSTOMER_UPDATE,
        MEDIUM,
        posted=friday,
        down=(FRIDAY + timedelta(hours=-1), FRIDAY + timedelta(days=1, hours=1)),
        until=T0 + timedelta(days=2),
        tz=PARIS,
    )
    local = [at.astimezone(ZoneInfo(PARIS)).strftime("%a %H:%M") for at, _ in sent]
    assert local[-3:] == ["Sat 11:00", "Tue 00:00", "Wed 00:00"]


def test_on_time_nudges_stay_on_the_grid_whatever_the_tick_lag():
    tick = timedelta(seconds=45)  # due times never fall on a tick: each nudge goes out up to 45 s late
    sent = sends(FollowUpKind.CHECKIN, HIGH, posted=T0, down=(T0, T0), until=T0 + timedelta(days=5), tick=tick)
    assert len(sent) == 30
    assert all(timedelta(0) <= at - (T0 + n * timedelta(hours=4)) < tick for n, (at, _) in enumerate(sent, 1))  # no drift


def test_a_send_slack_failed_and_the_ticks_retried_stays_on_its_grid():
    # Slack failed the check-in at every tick for 20 minutes; the ticks ran and retried it: not a catch-up.
    due = T0 + timedelta(hours=4)
    sent = sends(FollowUpKind.CHECKIN, HIGH, posted=T0, down=(T0, T0), until=T0 + timedelta(hours=9), slack_down=(due, due + timedelta(minutes=20)))
    assert [(at - T0, stage) for at, stage in sent if stage != "failed"] == [(timedelta(hours=4, minutes=20), None), (timedelta(hours=8), None)]
    assert len([s for s in sent if s[1] == "failed"]) == 40  # one try per tick


def test_a_catch_up_is_a_due_timer_nobody_tried():
    due = T0 + timedelta(hours=4)
    minute = timedelta(minutes=1)
    assert not is_catch_up(due_at=due, now=due + timedelta(seconds=30), tried_at=None, late_after=minute)  # on time
    assert is_catch_up(due_at=due, now=due + 2 * minute, tried_at=None, late_after=minute)  # down, stalled or paused
    assert not is_catch_up(due_at=due, now=due + 20 * minute, tried_at=due + 19 * minute, late_after=minute)  # Slack failed, retried
    assert is_catch_up(due_at=due, now=due + 3 * minute, tried_at=due + minute, late_after=minute)  # tried, then nothing for a while

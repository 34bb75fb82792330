"""The follow-up rules as pure functions: what fires, and when the next one is due."""

from datetime import UTC, datetime, timedelta

from bot.domain.cadence import DEFAULT_CADENCES, parse_range
from bot.domain.follow_through import DUE, OVERDUE, fire, initial_plans, replan, reset_checkin
from bot.domain.status import FollowUpKind

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
HIGH = DEFAULT_CADENCES["high"]
CRITICAL = DEFAULT_CADENCES["critical"]
DEADLINE = T0 + timedelta(hours=8)


def fire_at(kind, now, *, stage=None, due_at, anchor=T0, cadence=HIGH):
    return fire(kind, stage=stage, due_at=due_at, anchor=anchor, now=now, cadence=cadence, tz="UTC", posted_at=T0, deadline=DEADLINE)


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
    assert late.next_due_at == T0 + timedelta(hours=16)


def test_customer_update_is_due_then_overdue_then_reminded_at_the_due_cadence():
    due = T0 + timedelta(hours=4)
    first = fire_at(FollowUpKind.CUSTOMER_UPDATE, due, stage=DUE, due_at=due)
    assert (first.stage, first.next_stage, first.next_due_at) == (DUE, OVERDUE, T0 + timedelta(hours=8))
    second = fire_at(FollowUpKind.CUSTOMER_UPDATE, T0 + timedelta(hours=8), stage=OVERDUE, due_at=T0 + timedelta(hours=8))
    assert (second.stage, second.next_stage, second.next_due_at) == (OVERDUE, OVERDUE, T0 + timedelta(hours=12))


def test_downtime_past_the_upper_bound_announces_overdue_once():
    firing = fire_at(FollowUpKind.CUSTOMER_UPDATE, T0 + timedelta(hours=11), stage=DUE, due_at=T0 + timedelta(hours=4))
    assert firing.stage == OVERDUE and firing.next_due_at == T0 + timedelta(hours=12)


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

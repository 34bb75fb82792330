import time as wallclock
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.brief import Severity
from bot.domain.cadence import (
    DEFAULT_CADENCES,
    Cadence,
    DurationError,
    Interval,
    IntervalRange,
    add_interval,
    cadence_for,
    deadline_marks,
    next_deadline_mark,
    next_due_after,
    parse_interval,
    parse_range,
    passed_marks,
)

UTC = UTC
H, M = 3600, 60


def local(tz: str, *args: int, fold: int = 0) -> datetime:
    """A wall-clock time in `tz`, as the aware UTC datetime the scheduler stores."""
    return datetime(*args, tzinfo=ZoneInfo(tz), fold=fold).astimezone(UTC)


def wall(moment: datetime, tz: str) -> datetime:
    """The naive wall-clock time of `moment` in `tz`, for readable assertions."""
    return moment.astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def bd(n: int) -> Interval:
    return Interval(business_days=n)


# --- parsing and rendering ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45s", Interval(seconds=45)),
        ("90m", Interval(seconds=90 * M)),
        ("2h", Interval(seconds=2 * H)),
        ("1d", Interval(seconds=24 * H)),
        ("1bd", bd(1)),
        ("2bd", bd(2)),
        ("1h30m", Interval(seconds=90 * M)),
        ("1d2h3m4s", Interval(seconds=24 * H + 2 * H + 3 * M + 4)),
        ("1h 30m", Interval(seconds=90 * M)),
        ("  15m ", Interval(seconds=15 * M)),
        ("0h15m", Interval(seconds=15 * M)),
        ("365d", Interval(seconds=365 * 24 * H)),
    ],
)
def test_accepted_durations(text, expected):
    assert parse_interval(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2 hours", "'2 hours' is not a duration: use forms like 45s, 90m, 2h, 1d or 1bd"),
        ("2", "'2' is not a duration: use forms like"),
        ("h", "'h' is not a duration"),
        ("", "'' is not a duration"),
        ("1.5h", "'1.5h' is not a duration"),
        ("-2h", "'-2h' is not a duration"),
        ("2H", "'2H' is not a duration"),
        ("1w", "'1w' is not a duration"),
        ("2h!", "'2h!' is not a duration"),
        ("0h", "a duration must be more than zero"),
        ("0bd", "a duration must be more than zero"),
        ("0h0m", "a duration must be more than zero"),
        ("1bd4h", "business days cannot be combined with hours, minutes or seconds: '1bd4h'"),
        ("366d", "a duration must be at most 365 days: '366d'"),
        ("400bd", "a duration must be at most 365 days"),
        ("9" * 5000 + "s", "a duration must be at most 365 days"),
    ],
)
def test_malformed_durations_say_why_in_one_line(text, message):
    with pytest.raises(DurationError) as err:
        parse_interval(text)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_duration_error_is_a_value_error():
    # The settings layer catches ValueError from every parser.
    assert issubclass(DurationError, ValueError)


@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        ("2h", "2h"),
        ("90m", "1h30m"),
        ("120m", "2h"),
        ("1bd", "1bd"),
        ("24h", "1d"),
        ("45s", "45s"),
        ("1d2h3m4s", "1d2h3m4s"),
        ("3600s", "1h"),
    ],
)
def test_rendering_is_compact(text, rendered):
    assert str(parse_interval(text)) == rendered


@given(st.one_of(st.integers(1, 365 * 86_400).map(lambda s: Interval(seconds=s)), st.integers(1, 365).map(bd)))
def test_rendering_parses_back(interval):
    assert parse_interval(str(interval)) == interval


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"seconds": 0, "business_days": 0},
        {"seconds": -5},
        {"seconds": 60, "business_days": 1},
        {"business_days": 366},
    ],
)
def test_an_interval_holds_exactly_one_positive_kind(kwargs):
    with pytest.raises(DurationError):
        Interval(**kwargs)


# --- ranges ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "due", "overdue"),
    [
        ("2h-4h", Interval(seconds=2 * H), Interval(seconds=4 * H)),
        ("1bd-2bd", bd(1), bd(2)),
        ("2h - 4h", Interval(seconds=2 * H), Interval(seconds=4 * H)),
        ("3h", Interval(seconds=3 * H), Interval(seconds=3 * H)),
        ("1bd", bd(1), bd(1)),
        ("4h-4h", Interval(seconds=4 * H), Interval(seconds=4 * H)),
        ("90m-2h", Interval(seconds=90 * M), Interval(seconds=2 * H)),
        ("4h-1bd", Interval(seconds=4 * H), bd(1)),  # mixed kinds: 1bd weighs as 24 h for ordering
        ("1d-1bd", Interval(seconds=24 * H), bd(1)),
        ("1bd-30h", bd(1), Interval(seconds=30 * H)),
    ],
)
def test_ranges(text, due, overdue):
    assert parse_range(text) == IntervalRange(due=due, overdue=overdue)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("4h-2h", "a range needs its lower bound first: '4h-2h'"),
        ("2bd-1bd", "a range needs its lower bound first: '2bd-1bd'"),
        ("2d-1bd", "a range needs its lower bound first: '2d-1bd'"),
        ("1bd-4h", "a range needs its lower bound first: '1bd-4h'"),
        ("2h-", "'2h-' is not a range: use forms like 2h-4h or 1bd-2bd"),
        ("-4h", "'-4h' is not a range"),
        ("2h-4h-8h", "'2h-4h-8h' is not a range"),
        ("2 hours-4h", "'2 hours' is not a duration"),
        ("2h-0h", "a duration must be more than zero"),
        ("", "'' is not a duration"),
    ],
)
def test_malformed_ranges_say_why(text, message):
    with pytest.raises(DurationError) as err:
        parse_range(text)
    assert message in str(err.value)


def test_a_range_built_directly_is_checked_too():
    with pytest.raises(DurationError, match="lower bound first"):
        IntervalRange(due=Interval(seconds=4 * H), overdue=Interval(seconds=2 * H))


@pytest.mark.parametrize(
    ("text", "rendered"),
    [("2h-4h", "2h-4h"), ("1bd-2bd", "1bd-2bd"), ("3h", "3h"), ("180m-4h", "3h-4h"), ("2h-2h", "2h")],
)
def test_range_rendering(text, rendered):
    assert str(parse_range(text)) == rendered


# --- adding intervals --------------------------------------------------------------------------


def test_plain_durations_are_elapsed_time_and_come_back_in_utc():
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    result = add_interval(start, Interval(seconds=90 * M), "Europe/Paris")
    assert result == datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
    assert result.tzinfo is UTC


def test_plain_durations_from_a_local_aware_start_count_real_hours_across_dst():
    # Python adds wall-clock time to a ZoneInfo-aware datetime; the cadence must add real hours.
    start = datetime(2026, 3, 29, 1, 30, tzinfo=ZoneInfo("Europe/Paris"))  # 30 min before spring-forward
    result = add_interval(start, Interval(seconds=2 * H), "Europe/Paris")
    assert result - start == timedelta(hours=2)
    assert wall(result, "Europe/Paris") == datetime(2026, 3, 29, 4, 30)
    assert result.tzinfo is UTC


def test_a_plain_day_is_24_hours_even_across_dst():
    start = local("Europe/Paris", 2026, 10, 24, 9, 0)
    result = add_interval(start, Interval(seconds=24 * H), "Europe/Paris")
    assert wall(result, "Europe/Paris") == datetime(2026, 10, 25, 8, 0)


@pytest.mark.parametrize("tz", ["Europe/Paris", "America/Los_Angeles"])
@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (datetime(2026, 3, 13, 17, 0), 1, datetime(2026, 3, 16, 17, 0)),  # Friday 17:00 → Monday 17:00
        (datetime(2026, 3, 12, 17, 0), 1, datetime(2026, 3, 13, 17, 0)),  # Thursday → Friday
        (datetime(2026, 3, 12, 17, 0), 2, datetime(2026, 3, 16, 17, 0)),  # Thursday + 2 → Monday
        (datetime(2026, 3, 9, 8, 15), 5, datetime(2026, 3, 16, 8, 15)),  # a full working week
        (datetime(2026, 3, 11, 23, 59), 7, datetime(2026, 3, 20, 23, 59)),
        (datetime(2026, 3, 14, 15, 0), 1, datetime(2026, 3, 17, 0, 0)),  # Saturday → counts from Monday 00:00
        (datetime(2026, 3, 15, 23, 30), 1, datetime(2026, 3, 17, 0, 0)),  # Sunday, likewise
        (datetime(2026, 3, 14, 15, 0), 2, datetime(2026, 3, 18, 0, 0)),
        (datetime(2026, 3, 16, 0, 0), 1, datetime(2026, 3, 17, 0, 0)),  # Monday 00:00 itself
    ],
)
def test_business_days_skip_the_weekend_in_the_agents_zone(tz, start, days, expected):
    assert wall(add_interval(local(tz, *start.timetuple()[:5]), bd(days), tz), tz) == expected


def test_the_weekend_is_the_agents_not_utcs():
    # Friday 20:00 in Los Angeles is already Saturday 03:00 UTC; for the agent it is still Friday.
    start = local("America/Los_Angeles", 2026, 3, 13, 20, 0)
    assert start.weekday() == 5
    result = add_interval(start, bd(1), "America/Los_Angeles")
    assert wall(result, "America/Los_Angeles") == datetime(2026, 3, 16, 20, 0)
    # The same instant for an agent in Tokyo (Saturday 12:00 there) counts from Monday 00:00.
    assert wall(add_interval(start, bd(1), "Asia/Tokyo"), "Asia/Tokyo") == datetime(2026, 3, 17, 0, 0)


@pytest.mark.parametrize(
    ("tz", "start", "expected", "elapsed_hours"),
    [
        # Clocks go back on Sunday: Friday 17:00 → Monday 17:00 is 73 real hours.
        ("Europe/Paris", (2026, 10, 23, 17, 0), datetime(2026, 10, 26, 17, 0), 73),
        ("America/New_York", (2026, 10, 30, 9, 0), datetime(2026, 11, 2, 9, 0), 73),
        # Clocks go forward on Sunday: 71 real hours.
        ("Europe/Paris", (2026, 3, 27, 17, 0), datetime(2026, 3, 30, 17, 0), 71),
        ("America/New_York", (2026, 3, 6, 9, 0), datetime(2026, 3, 9, 9, 0), 71),
    ],
)
def test_business_days_keep_the_wall_clock_across_dst(tz, start, expected, elapsed_hours):
    begin = local(tz, *start)
    result = add_interval(begin, bd(1), tz)
    assert wall(result, tz) == expected
    assert result - begin == timedelta(hours=elapsed_hours)


def test_a_wall_time_in_a_dst_gap_lands_after_the_gap():
    # Cairo springs forward on Friday 2026-04-24 at 00:00 → 01:00: Friday 00:30 does not exist.
    result = add_interval(local("Africa/Cairo", 2026, 4, 23, 0, 30), bd(1), "Africa/Cairo")
    assert wall(result, "Africa/Cairo") == datetime(2026, 4, 24, 1, 30)
    # Israel springs forward on Friday 2026-03-27 at 02:00 → 03:00.
    result = add_interval(local("Asia/Jerusalem", 2026, 3, 26, 2, 30), bd(1), "Asia/Jerusalem")
    assert wall(result, "Asia/Jerusalem") == datetime(2026, 3, 27, 3, 30)


def test_a_repeated_wall_time_takes_its_first_occurrence():
    # Cairo falls back at the end of Thursday 2026-10-29: 23:00–24:00 happens twice.
    result = add_interval(local("Africa/Cairo", 2026, 10, 28, 23, 30), bd(1), "Africa/Cairo")
    assert result == local("Africa/Cairo", 2026, 10, 29, 23, 30, fold=0)
    assert result == datetime(2026, 10, 29, 20, 30, tzinfo=UTC)


def test_a_start_in_the_second_occurrence_keeps_its_wall_time():
    # Thursday 23:30 Cairo, the second time round (after falling back): the next day at 23:30.
    start = local("Africa/Cairo", 2026, 10, 29, 23, 30, fold=1)
    assert wall(add_interval(start, bd(1), "Africa/Cairo"), "Africa/Cairo") == datetime(2026, 10, 30, 23, 30)


def test_from_one_repeated_hour_to_another_the_first_occurrence_wins():
    # Thursday 2025-10-30 and Thursday 2026-10-29 (260 business days apart) both repeat 23:00–24:00 in
    # Cairo. Starting from the second 23:30 does not carry "second" over to the next year.
    start = local("Africa/Cairo", 2025, 10, 30, 23, 30, fold=1)
    assert start == datetime(2025, 10, 30, 21, 30, tzinfo=UTC)
    assert add_interval(start, bd(260), "Africa/Cairo") == datetime(2026, 10, 29, 20, 30, tzinfo=UTC)


@pytest.mark.parametrize("tz", ["Mars/Olympus_Mons", "", "Europe", "../etc/passwd", "europe/paris"])
def test_an_unknown_time_zone_falls_back_to_utc(tz):
    start = datetime(2026, 3, 13, 17, 0, tzinfo=UTC)  # Friday
    expected = datetime(2026, 3, 16, 17, 0, tzinfo=UTC)
    assert add_interval(start, bd(1), tz) == add_interval(start, bd(1), "UTC") == expected


def test_many_business_days_at_once():
    start = local("Europe/Paris", 2026, 1, 5, 9, 0)  # Monday
    assert wall(add_interval(start, bd(260), "Europe/Paris"), "Europe/Paris") == datetime(2027, 1, 4, 9, 0)


# --- advancing the schedule --------------------------------------------------------------------


def test_after_three_days_down_a_two_hour_cadence_fires_once_on_the_original_grid():
    prev_due = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    now = prev_due + timedelta(days=3, minutes=37)
    assert next_due_after(prev_due, Interval(seconds=2 * H), now, "Europe/Paris") == prev_due + timedelta(hours=74)


@pytest.mark.parametrize(
    ("now_offset", "expected_offset"),
    [
        (timedelta(0), timedelta(hours=2)),  # sent right on time
        (timedelta(minutes=-30), timedelta(hours=2)),  # clock slightly behind: still k = 1
        (timedelta(hours=2), timedelta(hours=4)),  # exactly on a slot: strictly later
        (timedelta(hours=2, microseconds=-1), timedelta(hours=2)),
        (timedelta(hours=5), timedelta(hours=6)),
    ],
)
def test_next_due_is_the_first_slot_strictly_after_now(now_offset, expected_offset):
    prev_due = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    result = next_due_after(prev_due, Interval(seconds=2 * H), prev_due + now_offset, "UTC")
    assert result == prev_due + expected_offset


def test_next_due_for_seconds_is_arithmetic_not_a_loop():
    # 26 years of one-second periods: about 8e8 steps a loop would take; arithmetic is instant.
    prev_due = datetime(2000, 1, 1, tzinfo=UTC)
    now = datetime(2026, 3, 2, 9, 0, 0, 500_000, tzinfo=UTC)
    began = wallclock.perf_counter()
    assert next_due_after(prev_due, Interval(seconds=1), now, "UTC") == datetime(2026, 3, 2, 9, 0, 1, tzinfo=UTC)
    assert wallclock.perf_counter() - began < 0.05


@given(
    step=st.integers(1, 7 * 86_400),
    lag=st.timedeltas(min_value=timedelta(days=-2), max_value=timedelta(days=400)),
)
def test_next_due_stays_on_the_grid(step, lag):
    prev_due = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    now = prev_due + lag
    result = next_due_after(prev_due, Interval(seconds=step), now, "UTC")
    assert result > now
    assert result > prev_due
    assert (result - prev_due) % timedelta(seconds=step) == timedelta(0)
    assert result - timedelta(seconds=step) <= max(now, prev_due)  # no slot skipped


def test_business_day_next_due_after_a_weekend_of_downtime():
    tz = "Europe/Paris"
    prev_due = local(tz, 2026, 3, 12, 10, 0)  # Thursday 10:00
    now = local(tz, 2026, 3, 17, 9, 0)  # the bot was down until Tuesday 09:00
    assert wall(next_due_after(prev_due, bd(1), now, tz), tz) == datetime(2026, 3, 17, 10, 0)
    now = local(tz, 2026, 3, 17, 10, 0)  # exactly on the Tuesday slot
    assert wall(next_due_after(prev_due, bd(1), now, tz), tz) == datetime(2026, 3, 18, 10, 0)
    assert wall(next_due_after(prev_due, bd(2), now, tz), tz) == datetime(2026, 3, 18, 10, 0)  # Mon, Wed


def test_business_day_next_due_across_dst_keeps_the_wall_clock():
    tz = "America/New_York"
    prev_due = local(tz, 2026, 10, 29, 9, 0)  # Thursday, before clocks go back on Sunday
    now = local(tz, 2026, 11, 2, 12, 0)  # Monday noon
    assert wall(next_due_after(prev_due, bd(1), now, tz), tz) == datetime(2026, 11, 3, 9, 0)


def test_business_day_slots_do_not_drift_after_a_dst_gap():
    tz = "Africa/Cairo"
    prev_due = local(tz, 2026, 4, 23, 0, 30)  # Thursday 00:30; Friday 00:30 falls in the gap
    assert wall(next_due_after(prev_due, bd(1), prev_due, tz), tz) == datetime(2026, 4, 24, 1, 30)
    now = local(tz, 2026, 4, 24, 12, 0)
    assert wall(next_due_after(prev_due, bd(1), now, tz), tz) == datetime(2026, 4, 27, 0, 30)  # not 01:30


# --- cadences ----------------------------------------------------------------------------------


def test_default_cadences_match_the_method():
    assert DEFAULT_CADENCES == {
        "critical": Cadence(
            checkin=Interval(seconds=2 * H),
            customer_update=IntervalRange(Interval(seconds=2 * H), Interval(seconds=4 * H)),
            ack_window=Interval(seconds=15 * M),
        ),
        "high": Cadence(
            checkin=Interval(seconds=4 * H),
            customer_update=IntervalRange(Interval(seconds=4 * H), Interval(seconds=8 * H)),
            ack_window=Interval(seconds=1 * H),
        ),
        "medium": Cadence(
            checkin=Interval(seconds=24 * H),
            customer_update=IntervalRange(bd(1), bd(2)),
            ack_window=bd(1),
        ),
    }


def test_every_severity_has_a_cadence():
    assert set(DEFAULT_CADENCES) == {s.value for s in Severity}


@pytest.mark.parametrize("severity", ["critical", "high", "medium", Severity.CRITICAL, Severity.MEDIUM, " High "])
def test_cadence_for_takes_a_value_or_the_enum(severity):
    key = getattr(severity, "value", severity).strip().lower()
    assert cadence_for(severity) is DEFAULT_CADENCES[key]


def test_configured_cadence_wins_for_its_severity_only():
    custom = Cadence(parse_interval("1h"), parse_range("1h-2h"), parse_interval("10m"))
    overrides = {"critical": custom}
    assert cadence_for("critical", overrides) is custom
    assert cadence_for(Severity.CRITICAL, overrides) is custom
    assert cadence_for("high", overrides) is DEFAULT_CADENCES["high"]
    # Settings key their cadences by the Severity enum; a str-valued enum finds the same entry.
    assert cadence_for("critical", {Severity.CRITICAL: custom}) is custom


def test_unknown_severity_is_refused():
    with pytest.raises(ValueError, match="unknown severity 'urgent'"):
        cadence_for("urgent")


# --- deadline warnings -------------------------------------------------------------------------

CREATED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_marks_for_a_day_long_deadline():
    deadline = CREATED + timedelta(hours=24)
    assert deadline_marks(CREATED, deadline) == [
        ("three_quarters", CREATED + timedelta(hours=18)),
        ("one_hour", CREATED + timedelta(hours=23)),
        ("breach", deadline),
    ]


def test_a_short_deadline_puts_the_one_hour_mark_first():
    deadline = CREATED + timedelta(hours=2)
    assert deadline_marks(CREATED, deadline) == [
        ("one_hour", CREATED + timedelta(hours=1)),
        ("three_quarters", CREATED + timedelta(minutes=90)),
        ("breach", deadline),
    ]


@pytest.mark.parametrize("minutes", [40, 60])
def test_a_deadline_within_the_hour_has_no_one_hour_mark(minutes):
    deadline = CREATED + timedelta(minutes=minutes)
    assert deadline_marks(CREATED, deadline) == [
        ("three_quarters", CREATED + timedelta(minutes=minutes * 3 / 4)),
        ("breach", deadline),
    ]


def test_marks_on_the_same_instant_warn_once():
    deadline = CREATED + timedelta(hours=4)  # three quarters and one hour left are both at 3 h
    assert deadline_marks(CREATED, deadline) == [("one_hour", CREATED + timedelta(hours=3)), ("breach", deadline)]


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(hours=-1)])
def test_a_deadline_not_after_creation_has_no_marks(offset):
    assert deadline_marks(CREATED, CREATED + offset) == []


def test_marks_are_exact_to_the_microsecond():
    deadline = CREATED + timedelta(seconds=7, microseconds=3)
    assert deadline_marks(CREATED, deadline)[0] == ("three_quarters", CREATED + timedelta(microseconds=5_250_002))


def test_marks_come_back_in_utc_from_local_inputs():
    paris = ZoneInfo("Europe/Paris")
    marks = deadline_marks(CREATED.astimezone(paris), (CREATED + timedelta(hours=24)).astimezone(paris))
    assert [at.tzinfo for _, at in marks] == [UTC, UTC, UTC]
    assert marks[0][1] == CREATED + timedelta(hours=18)


def test_next_and_passed_marks_split_the_timeline():
    deadline = CREATED + timedelta(hours=24)
    three_quarters, one_hour, breach = deadline_marks(CREATED, deadline)
    assert next_deadline_mark(CREATED, deadline, CREATED) == three_quarters
    assert passed_marks(CREATED, deadline, CREATED) == []
    # Exactly on a mark: it has passed, and the next one is strictly later.
    assert next_deadline_mark(CREATED, deadline, three_quarters[1]) == one_hour
    assert passed_marks(CREATED, deadline, three_quarters[1]) == [three_quarters]
    # After downtime past two marks: both passed, the breach is next.
    later = CREATED + timedelta(hours=23, minutes=30)
    assert passed_marks(CREATED, deadline, later) == [three_quarters, one_hour]
    assert next_deadline_mark(CREATED, deadline, later) == breach
    assert next_deadline_mark(CREATED, deadline, deadline) is None
    assert passed_marks(CREATED, deadline, deadline + timedelta(days=1)) == [three_quarters, one_hour, breach]


# --- naive datetimes ---------------------------------------------------------------------------

NAIVE = datetime(2026, 3, 2, 9, 0)
AWARE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "call",
    [
        lambda: add_interval(NAIVE, Interval(seconds=H), "UTC"),
        lambda: add_interval(NAIVE, bd(1), "Europe/Paris"),
        lambda: next_due_after(NAIVE, Interval(seconds=H), AWARE, "UTC"),
        lambda: next_due_after(AWARE, Interval(seconds=H), NAIVE, "UTC"),
        lambda: next_due_after(AWARE, bd(1), NAIVE, "UTC"),
        lambda: deadline_marks(NAIVE, AWARE + timedelta(hours=4)),
        lambda: deadline_marks(AWARE, NAIVE + timedelta(hours=4)),
        lambda: next_deadline_mark(AWARE, AWARE + timedelta(hours=4), NAIVE),
        lambda: passed_marks(AWARE, AWARE + timedelta(hours=4), NAIVE),
    ],
)
def test_naive_datetimes_are_refused(call):
    with pytest.raises(ValueError, match="timezone-aware"):
        call()

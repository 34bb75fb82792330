"""Follow-through cadence: when the bot nudges the escalating agent, and when a deadline warns.

The method sets the rhythm by severity: check in with the receiving team, update the customer, and
expect an acknowledgement within a window. Every interval is configurable as a duration (`2h`, `90m`,
`1h30m`, `1d`, `1bd`) and customer updates as a range (`2h-4h`: due at 2 h, overdue at 4 h).

Two kinds of time, on purpose:

* plain durations (`s`, `m`, `h`, `d`) are elapsed time: `1d` is 24 hours even across a DST change;
* business days (`bd`) follow the agent's calendar: Saturday and Sunday do not count, and the local
  wall-clock time is kept, so "1 business day" after Friday 17:00 is Monday 17:00 where the agent is.

Everything here is pure: datetimes in, datetimes out, all timezone-aware, results in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class DurationError(ValueError):
    """A configured duration is malformed; the message is one line an admin can act on."""


_FORMS = "use forms like 45s, 90m, 2h, 1d or 1bd"
_UNIT_SECONDS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
# Lower-case only: `1M` could as well mean a month as a minute, so it is refused rather than guessed.
_DURATION_RE = re.compile(r"(?:\d+(?:bd|d|h|m|s)\s*)+")
_PART_RE = re.compile(r"(\d+)(bd|d|h|m|s)")
# A cadence longer than a year is a typo, and the cap keeps datetime arithmetic from overflowing.
_MAX_DAYS = 365
_DAY = 86_400


@dataclass(frozen=True)
class Interval:
    """Either elapsed seconds or business days, never both (exactly one is non-zero)."""

    seconds: int = 0
    business_days: int = 0

    def __post_init__(self) -> None:
        if self.seconds < 0 or self.business_days < 0:
            raise DurationError("a duration must be more than zero")
        if self.seconds and self.business_days:
            raise DurationError("business days cannot be combined with hours, minutes or seconds")
        if not self.seconds and not self.business_days:
            raise DurationError("a duration must be more than zero")
        if self.seconds > _MAX_DAYS * _DAY or self.business_days > _MAX_DAYS:
            raise DurationError(f"a duration must be at most {_MAX_DAYS} days")

    def __str__(self) -> str:
        if self.business_days:
            return f"{self.business_days}bd"
        parts, rest = [], self.seconds
        for unit, size in _UNIT_SECONDS.items():
            count, rest = divmod(rest, size)
            if count:
                parts.append(f"{count}{unit}")
        return "".join(parts)


def _nominal_seconds(interval: Interval) -> int:
    # Only for ordering the bounds of a range: a business day weighs as 24 h.
    return interval.seconds or interval.business_days * _DAY


def parse_interval(text: str) -> Interval:
    """`2h`, `90m`, `45s`, `1d` (24 h), `1bd` (business days), or combinations like `1h30m`."""
    cleaned = text.strip()
    if not _DURATION_RE.fullmatch(cleaned):
        raise DurationError(f"'{cleaned}' is not a duration: {_FORMS}")
    seconds = business_days = 0
    for number, unit in _PART_RE.findall(cleaned):
        if len(number) > 9:  # int() of a runaway digit string is slow and certainly over the cap
            raise DurationError(f"a duration must be at most {_MAX_DAYS} days: '{cleaned}'")
        if unit == "bd":
            business_days += int(number)
        else:
            seconds += int(number) * _UNIT_SECONDS[unit]
    if seconds and business_days:
        raise DurationError(f"business days cannot be combined with hours, minutes or seconds: '{cleaned}'")
    if not seconds and not business_days:
        raise DurationError(f"a duration must be more than zero: '{cleaned}'")
    if seconds > _MAX_DAYS * _DAY or business_days > _MAX_DAYS:
        raise DurationError(f"a duration must be at most {_MAX_DAYS} days: '{cleaned}'")
    return Interval(seconds=seconds, business_days=business_days)


def _check_order(due: Interval, overdue: Interval, shown: str) -> None:
    if _nominal_seconds(due) > _nominal_seconds(overdue):
        raise DurationError(f"a range needs its lower bound first: '{shown}'")


@dataclass(frozen=True)
class IntervalRange:
    """A customer update is due at `due` and overdue at `overdue`; a single value sets both."""

    due: Interval
    overdue: Interval

    def __post_init__(self) -> None:
        _check_order(self.due, self.overdue, f"{self.due}-{self.overdue}")

    def __str__(self) -> str:
        return str(self.due) if self.due == self.overdue else f"{self.due}-{self.overdue}"


def parse_range(text: str) -> IntervalRange:
    """`2h-4h`, `1bd-2bd`, or a single duration (`3h`: due and overdue at once)."""
    cleaned = text.strip()
    parts = [part.strip() for part in cleaned.split("-")]
    if len(parts) == 1:
        single = parse_interval(cleaned)
        return IntervalRange(due=single, overdue=single)
    if len(parts) != 2 or not all(parts):
        raise DurationError(f"'{cleaned}' is not a range: use forms like 2h-4h or 1bd-2bd")
    due, overdue = parse_interval(parts[0]), parse_interval(parts[1])
    _check_order(due, overdue, cleaned)  # before the dataclass does, to quote what the admin typed
    return IntervalRange(due=due, overdue=overdue)


def _utc(moment: datetime, name: str = "datetime") -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment.isoformat()}")
    return moment.astimezone(UTC)


def _zone(tz: str) -> ZoneInfo:
    # The name comes from Slack's users.info; a missing or unknown one must not stop a reminder.
    try:
        return ZoneInfo(tz) if tz else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return ZoneInfo("UTC")


def _add_business_days(day: date, count: int) -> date:
    """`day` is a weekday; step `count` weekdays forward in O(1)."""
    weeks, rest = divmod(count, 5)
    day += timedelta(weeks=weeks)
    for _ in range(rest):
        day += timedelta(days=3 if day.weekday() == 4 else 1)
    return day


def add_interval(start: datetime, interval: Interval, tz: str) -> datetime:
    """`start` plus `interval`, in UTC. Business days are counted in the agent's time zone `tz`.

    Weekend time does not count: a start on Saturday or Sunday is treated as Monday 00:00 local, so
    1 business day after Saturday 15:00 is Tuesday 00:00. Otherwise the local wall-clock time is kept
    (Friday 17:00 + 1bd = Monday 17:00, whatever DST did over the weekend). A local time that does not
    exist or exists twice that day resolves with fold=0: the earlier offset, so a time in a spring-
    forward gap lands that much later (02:30 → 03:30) and a repeated time takes its first occurrence.
    """
    start = _utc(start, "start")
    if interval.seconds:
        # Elapsed time: done in UTC, since aware arithmetic in a local zone would be wall-clock time.
        return start + timedelta(seconds=interval.seconds)
    zone = _zone(tz)
    local = start.astimezone(zone)
    day, clock = local.date(), local.time().replace(tzinfo=None, fold=0)
    if day.weekday() >= 5:
        day, clock = day + timedelta(days=7 - day.weekday()), time(0)
    target = datetime.combine(_add_business_days(day, interval.business_days), clock, tzinfo=zone)
    return target.astimezone(UTC)


def next_due_after(prev_due: datetime, interval: Interval, now: datetime, tz: str) -> datetime:
    """The first `prev_due + k·interval` (k ≥ 1) strictly later than `now`.

    The scheduler advances a timer sent on time with this, so its slots stay on the original grid
    instead of drifting by the tick's lag; after downtime (a catch-up) bot.domain.follow_through
    starts a full interval from the catch-up nudge instead.
    """
    prev_due, now = _utc(prev_due, "prev_due"), _utc(now, "now")
    if interval.seconds:
        step = timedelta(seconds=interval.seconds)
        k = max(1, (now - prev_due) // step + 1)
        return prev_due + k * step
    # Each slot is counted from prev_due (not from the slot before), so a wall time that fell in a
    # DST gap once does not shift every later slot. Steps are O(1), and business-day downtime is short.
    k = 1
    while (candidate := add_interval(prev_due, Interval(business_days=k * interval.business_days), tz)) <= now:
        k += 1
    return candidate


@dataclass(frozen=True)
class Cadence:
    checkin: Interval  # nudge to check in with the receiving team
    customer_update: IntervalRange  # nudge to update the customer: due, then overdue
    ack_window: Interval  # the receiving team should have acknowledged by then


def _cadence(checkin: str, customer_update: str, ack_window: str) -> Cadence:
    return Cadence(parse_interval(checkin), parse_range(customer_update), parse_interval(ack_window))


# The method's table; keyed by `Severity.value` so this module does not depend on the brief model.
DEFAULT_CADENCES: dict[str, Cadence] = {
    "critical": _cadence("2h", "2h-4h", "15m"),
    "high": _cadence("4h", "4h-8h", "1h"),
    "medium": _cadence("1d", "1bd-2bd", "1bd"),
}


def cadence_for(severity: str, overrides: Mapping[str, Cadence] | None = None) -> Cadence:
    """The cadence for a severity value (`"critical"`, `"high"`, `"medium"`), configured ones first."""
    # str() of a `Severity` member is "Severity.CRITICAL", so take its value before normalising.
    key = str(getattr(severity, "value", severity)).strip().lower()
    if overrides and key in overrides:
        return overrides[key]
    if key not in DEFAULT_CADENCES:
        raise ValueError(f"unknown severity '{severity}': expected critical, high or medium")
    return DEFAULT_CADENCES[key]


MarkName = Literal["three_quarters", "one_hour", "breach"]


def deadline_marks(created: datetime, deadline: datetime) -> list[tuple[MarkName, datetime]]:
    """Warnings toward a hard deadline, in time order: 75 % of the time used, 1 h left, breached.

    A mark at or before `created` is dropped (a deadline 40 minutes away has no one-hour mark). On a
    short deadline the one-hour mark may come first; both are kept, in time order. When two marks fall
    on the same instant (a deadline exactly 4 h away) only the more urgent one is kept: one warning.
    """
    created, deadline = _utc(created, "created"), _utc(deadline, "deadline")
    candidates: list[tuple[MarkName, datetime]] = [
        ("three_quarters", created + (deadline - created) * 3 // 4),
        ("one_hour", deadline - timedelta(hours=1)),
        ("breach", deadline),
    ]
    by_time: dict[datetime, MarkName] = {}
    for name, at in candidates:  # later entries are more urgent and win a tie
        if at > created:
            by_time[at] = name
    return [(name, at) for at, name in sorted(by_time.items())]


def next_deadline_mark(created: datetime, deadline: datetime, after: datetime) -> tuple[MarkName, datetime] | None:
    """The first mark strictly after `after`, or None when the breach mark is behind us."""
    after = _utc(after, "after")
    return next(((name, at) for name, at in deadline_marks(created, deadline) if at > after), None)


def passed_marks(created: datetime, deadline: datetime, now: datetime) -> list[tuple[MarkName, datetime]]:
    """The marks at or before `now`, in time order (the complement of `next_deadline_mark`'s)."""
    now = _utc(now, "now")
    return [(name, at) for name, at in deadline_marks(created, deadline) if at <= now]

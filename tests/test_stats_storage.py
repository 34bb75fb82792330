"""The stats aggregates on SQLite and PostgreSQL against known data: counts, medians, on-time shares."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.status import LogKind
from bot.storage import stats
from bot.storage.models import Escalation, EscalationLog

T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # a Monday
TEAM = "T0001"
AGENT = "U0AGENT"


def brief(
    s,
    number: int,
    *,
    created: datetime,
    destination="engineering",
    severity="high",
    status="open",
    ack_after: float | None = None,
    resolve_after: float | None = None,
    deadline: datetime | None = None,
    breached: bool = False,
    team: str = TEAM,
    summary: str | None = None,
) -> Escalation:
    row = Escalation(
        team_id=team,
        number=number,
        destination=destination,
        severity=severity,
        status=status,
        summary=summary or f"Brief {number}",
        narrative="n",
        agent_user_id=AGENT,
        channel_id="C0ENGINEER",
        message_ts=f"1.{number}",
        deadline_at=deadline or created + timedelta(days=2),
        brief={},
        created_at=created,
        updated_at=created,
        posted_at=created,
        acknowledged_at=created + timedelta(minutes=ack_after) if ack_after is not None else None,
        resolved_at=created + timedelta(minutes=resolve_after) if resolve_after is not None else None,
        deadline_state="breached" if breached else None,
    )
    s.add(row)
    s.flush()
    return row


def log(s, row: Escalation, kind: LogKind, at: datetime, *, actor: str = AGENT, data: dict | None = None) -> None:
    s.add(EscalationLog(escalation_id=row.id, at=at, actor=actor, kind=kind.value, text="", data=data))
    s.flush()


def test_counts_medians_and_breaches(db):
    with db.session() as s:
        brief(s, 1, created=T0 + timedelta(hours=1), ack_after=10, resolve_after=60)
        brief(s, 2, created=T0 + timedelta(hours=2), severity="critical", ack_after=30, resolve_after=300, status="resolved")
        brief(s, 3, created=T0 + timedelta(hours=3), destination="security", severity="critical", ack_after=20, status="acknowledged")
        brief(s, 4, created=T0 + timedelta(days=1), destination="product", severity="medium", ack_after=40, deadline=T0 + timedelta(days=3), breached=True)
        brief(s, 5, created=T0 - timedelta(days=1))  # before the window
        brief(s, 6, created=T0 + timedelta(hours=5), team="T0OTHER", ack_after=1)  # another workspace
    with db.session() as s:
        f = stats.figures(s, TEAM, T0, T0 + timedelta(days=7))
    assert f.total == 4
    assert f.by_destination == {"engineering": 2, "security": 1, "product": 1}
    assert f.by_severity == {"high": 1, "critical": 2, "medium": 1}
    assert f.by_status == {"open": 2, "resolved": 1, "acknowledged": 1}
    assert f.acknowledged == 4 and f.median_ack_seconds == pytest.approx(25 * 60, abs=1)  # 10, 20, 30, 40 min
    assert f.resolved == 2 and f.median_resolve_seconds == pytest.approx(180 * 60, abs=1)  # 60 and 300 min
    assert f.deadline_breaches == 1


def test_median_of_an_odd_count_and_of_nothing(db):
    with db.session() as s:
        for n, minutes in enumerate([5, 100, 7], start=1):
            brief(s, n, created=T0 + timedelta(hours=n), ack_after=minutes)
    with db.session() as s:
        f = stats.figures(s, TEAM, T0, T0 + timedelta(days=7))
        empty = stats.figures(s, TEAM, T0 + timedelta(days=30), T0 + timedelta(days=37))
    assert f.median_ack_seconds == pytest.approx(7 * 60, abs=1)
    assert empty.total == 0 and empty.median_ack_seconds is None and empty.median_resolve_seconds is None and empty.checkin_share is None


def test_on_time_check_ins_and_customer_updates(db):
    with db.session() as s:
        row = brief(s, 1, created=T0)
        log(s, row, LogKind.CHECKIN, T0 + timedelta(hours=3))  # before any nudge: on time
        log(s, row, LogKind.NUDGE, T0 + timedelta(hours=7), actor="bot", data={"kind": "checkin", "stage": None})  # missed
        log(s, row, LogKind.CHECKIN, T0 + timedelta(hours=8))  # after the nudge: late
        log(s, row, LogKind.THREAD_REPLY, T0 + timedelta(hours=9))  # the agent's thread reply: a check-in, on time
        log(s, row, LogKind.THREAD_REPLY, T0 + timedelta(hours=9, minutes=5), actor="U0ENGINEER")  # not the agent's
        log(s, row, LogKind.NUDGE, T0 + timedelta(hours=4), actor="bot", data={"kind": "customer_update", "stage": "due"})  # a reminder
        log(s, row, LogKind.CUSTOMER_UPDATE, T0 + timedelta(hours=5))  # inside the range: on time
        log(s, row, LogKind.NUDGE, T0 + timedelta(hours=13), actor="bot", data={"kind": "customer_update", "stage": "overdue"})  # missed
        log(s, row, LogKind.CUSTOMER_UPDATE, T0 + timedelta(hours=14))  # late
    with db.session() as s:
        f = stats.figures(s, TEAM, T0, T0 + timedelta(days=7))
    assert (f.checkins_on_time, f.checkins_missed) == (2, 1)
    assert f.checkin_share == pytest.approx(2 / 3)
    assert (f.customer_updates_on_time, f.customer_updates_missed) == (1, 1)
    assert f.customer_update_share == pytest.approx(0.5)


def test_top_patterns_group_related_briefs_and_never_name_security(db):
    with db.session() as s:
        a = brief(s, 1, created=T0 + timedelta(hours=1), summary="Export times out")
        b = brief(s, 2, created=T0 + timedelta(hours=2), summary="Export times out again")
        c = brief(s, 3, created=T0 + timedelta(hours=3), summary="Export timeout for Initech")
        log(s, b, LogKind.PATTERN, b.created_at, actor="bot", data={"independent_reports": 2, "related": [a.id], "resurfaced": [], "trending_up": False})
        log(s, c, LogKind.PATTERN, c.created_at, actor="bot", data={"independent_reports": 3, "related": [a.id, b.id], "resurfaced": [], "trending_up": True})
        sec = brief(s, 4, created=T0 + timedelta(hours=4), destination="security", summary="Tenant data leak")
        log(s, sec, LogKind.PATTERN, sec.created_at, actor="bot", data={"independent_reports": 5, "related": [], "resurfaced": [], "trending_up": False})
    with db.session() as s:
        f = stats.figures(s, TEAM, T0, T0 + timedelta(days=7))
    assert [(p.ref, p.independent_reports, p.related, p.trending_up) for p in f.patterns] == [("ESC-3", 3, ("ESC-1", "ESC-2"), True)]
    assert "leak" not in repr(f.patterns)


def test_daily_volume_by_severity(db):
    with db.session() as s:
        brief(s, 1, created=T0 + timedelta(hours=1), severity="critical")
        brief(s, 2, created=T0 + timedelta(hours=2), severity="high")
        brief(s, 3, created=T0 + timedelta(days=2, hours=1), severity="high")
        brief(s, 4, created=T0 + timedelta(days=8), severity="high")  # outside
    days = [T0 + timedelta(days=i) for i in range(8)]
    with db.session() as s:
        volume = stats.daily_volume(s, TEAM, days)
    assert volume == {"critical": [1, 0, 0, 0, 0, 0, 0], "high": [1, 0, 1, 0, 0, 0, 0]}

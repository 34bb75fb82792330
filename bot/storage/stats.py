"""Figures for /escalate stats and the weekly digest, computed by SQL aggregates (never by loading briefs).

Definitions (also in the README, "Stats and the weekly digest"), for a window [since, until):

- Briefs: those created in the window, counted by destination, severity, current status and product
  area (the briefs filed with one; "Other" is counted as such).
  Security briefs count in every total; they never appear by name (see `top_patterns`).
- Time to acknowledge: acknowledged_at − posted_at, median over briefs acknowledged in the window.
- Time to resolve: resolved_at − posted_at, median over briefs resolved in the window.
- Deadline breaches: briefs whose deadline fell in the window and that the bot marked breached
  (the deadline passed while the brief was still open).
- Check-ins on time: a check-in is the agent's logged check-in or their reply in the brief's thread.
  It is on time when the bot had not nudged for a check-in on that brief since the previous one (or
  since the brief was posted). Every check-in nudge is one missed due time. Share on time =
  on-time check-ins / (on-time check-ins + check-in nudges), both in the window.
- Customer updates on time: the same, where only the "overdue" nudge (the end of the severity's
  range, e.g. 8 h for High) counts as missed; the earlier "due" reminder is still on time.
- Top recurring patterns: briefs created in the window that pattern matching flagged (recurring,
  resurfaced or trending up), most independent reports first, one line per group of related briefs.

Medians: PostgreSQL's percentile_cont; SQLite has none, so the middle row(s) of the one ordered
column are read with LIMIT/OFFSET (still one small query, not the briefs).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from bot.domain.brief import Destination, format_ref
from bot.domain.stats import Figures, PatternLine
from bot.domain.status import LogKind
from bot.storage.models import Escalation, EscalationLog

PATTERN_LINES = 5


def figures(session: Session, team_id: str, since: datetime, until: datetime) -> Figures:
    created = and_(Escalation.team_id == team_id, Escalation.created_at >= since, Escalation.created_at < until)
    ack_window = and_(Escalation.team_id == team_id, Escalation.acknowledged_at >= since, Escalation.acknowledged_at < until, Escalation.posted_at.is_not(None))
    resolve_window = and_(Escalation.team_id == team_id, Escalation.resolved_at >= since, Escalation.resolved_at < until, Escalation.posted_at.is_not(None))
    checkins = _on_time(session, team_id, since, until, customer=False)
    updates = _on_time(session, team_id, since, until, customer=True)
    return Figures(
        since=since,
        until=until,
        total=session.execute(select(func.count()).select_from(Escalation).where(created)).scalar_one(),
        by_destination=_grouped(session, Escalation.destination, created),
        by_severity=_grouped(session, Escalation.severity, created),
        by_status=_grouped(session, Escalation.status, created),
        by_product_area=_grouped(session, Escalation.product_area, and_(created, Escalation.product_area.is_not(None))),
        acknowledged=_count(session, ack_window),
        median_ack_seconds=median(session, _seconds(session, Escalation.posted_at, Escalation.acknowledged_at), ack_window),
        resolved=_count(session, resolve_window),
        median_resolve_seconds=median(session, _seconds(session, Escalation.posted_at, Escalation.resolved_at), resolve_window),
        deadline_breaches=_count(
            session,
            and_(Escalation.team_id == team_id, Escalation.deadline_at >= since, Escalation.deadline_at < until, Escalation.deadline_state == "breached"),
        ),
        checkins_on_time=checkins[0],
        checkins_missed=checkins[1],
        customer_updates_on_time=updates[0],
        customer_updates_missed=updates[1],
        patterns=top_patterns(session, team_id, since, until),
    )


def _count(session: Session, where) -> int:
    return session.execute(select(func.count()).select_from(Escalation).where(where)).scalar_one()


def _grouped(session: Session, column, where) -> dict[str, int]:
    rows = session.execute(select(column, func.count()).where(where).group_by(column)).all()
    return {str(key): int(n) for key, n in rows}


def _seconds(session: Session, start, end):
    """end − start in seconds, as a SQL expression for this database."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def median(session: Session, expr, where) -> float | None:
    """The median of `expr` over the rows of `where`, computed by the database."""
    if session.get_bind().dialect.name == "postgresql":
        value = session.execute(select(func.percentile_cont(0.5).within_group(expr)).where(where)).scalar_one()
        return None if value is None else float(value)
    n = _count(session, where)
    if n == 0:
        return None
    middle = select(expr.label("v")).where(where).order_by(expr).limit(2 - n % 2).offset((n - 1) // 2).subquery()
    return float(session.execute(select(func.avg(middle.c.v))).scalar_one())


def _on_time(session: Session, team_id: str, since: datetime, until: datetime, *, customer: bool) -> tuple[int, int]:
    """(updates made on time, due times missed) in the window; see the module docstring."""
    update = aliased(EscalationLog)
    previous = aliased(EscalationLog)
    nudge = aliased(EscalationLog)
    brief = aliased(Escalation)

    def is_update(entry):
        if customer:
            return entry.kind == LogKind.CUSTOMER_UPDATE.value
        return or_(entry.kind == LogKind.CHECKIN.value, and_(entry.kind == LogKind.THREAD_REPLY.value, entry.actor == brief.agent_user_id))

    def is_missed(entry):
        kind = entry.data["kind"].as_string()
        missed = and_(entry.kind == LogKind.NUDGE.value, kind == ("customer_update" if customer else "checkin"))
        return and_(missed, entry.data["stage"].as_string() == "overdue") if customer else missed

    # The previous update on the same brief (or the brief's posting time when there is none).
    previous_at = (
        select(func.max(previous.at))
        .where(
            previous.escalation_id == update.escalation_id,
            previous.at < update.at,
            previous.id != update.id,
            (previous.kind == LogKind.CUSTOMER_UPDATE.value)
            if customer
            else or_(previous.kind == LogKind.CHECKIN.value, and_(previous.kind == LogKind.THREAD_REPLY.value, previous.actor == brief.agent_user_id)),
        )
        .correlate(update, brief)  # two levels down: SQLAlchemy would otherwise re-list them in FROM
        .scalar_subquery()
    )
    nudged_since = exists().where(
        nudge.escalation_id == update.escalation_id,
        is_missed(nudge),
        nudge.at < update.at,
        nudge.at > func.coalesce(previous_at, brief.posted_at, brief.created_at),
    )
    on_time = session.execute(
        select(func.count())
        .select_from(update)
        .join(brief, brief.id == update.escalation_id)
        .where(brief.team_id == team_id, update.at >= since, update.at < until, is_update(update), ~nudged_since)
    ).scalar_one()
    missed = session.execute(
        select(func.count())
        .select_from(nudge)
        .join(brief, brief.id == nudge.escalation_id)
        .where(brief.team_id == team_id, nudge.at >= since, nudge.at < until, is_missed(nudge))
    ).scalar_one()
    return int(on_time), int(missed)


def top_patterns(session: Session, team_id: str, since: datetime, until: datetime, limit: int = PATTERN_LINES) -> tuple[PatternLine, ...]:
    """Flagged briefs of the window, biggest first, one per group; never a security brief."""
    reports = EscalationLog.data["independent_reports"].as_integer()
    rows = session.execute(
        select(Escalation.id, Escalation.number, Escalation.summary, EscalationLog.data)
        .join(EscalationLog, EscalationLog.escalation_id == Escalation.id)
        .where(
            Escalation.team_id == team_id,
            Escalation.created_at >= since,
            Escalation.created_at < until,
            Escalation.destination != Destination.SECURITY.value,
            EscalationLog.kind == LogKind.PATTERN.value,
        )
        .order_by(reports.desc(), Escalation.created_at.desc())
        .limit(limit * 4)
    ).all()
    related_ids = {i for *_, data in rows for i in (data or {}).get("related", [])}
    numbers: dict[int, int] = (
        dict(
            session.execute(
                select(Escalation.id, Escalation.number).where(Escalation.id.in_(related_ids), Escalation.destination != Destination.SECURITY.value)
            ).all()
        )
        if related_ids
        else {}
    )
    lines: list[PatternLine] = []
    covered: set[int] = set()
    for escalation_id, number, summary, data in rows:
        data = data or {}
        if escalation_id in covered:
            continue  # a later brief of the same group already stands for it
        related = [i for i in data.get("related", []) if i in numbers]
        covered |= {escalation_id, *related}
        lines.append(
            PatternLine(
                format_ref(number),
                summary,
                int(data.get("independent_reports") or 1),
                tuple(format_ref(numbers[i]) for i in related),
                bool(data.get("trending_up")),
                bool(data.get("resurfaced")),
            )
        )
        if len(lines) == limit:
            break
    return tuple(lines)


def daily_volume(session: Session, team_id: str, day_starts: list[datetime]) -> dict[str, list[int]]:
    """Briefs created per day and severity; day_starts has one more edge than days (local midnights, UTC)."""
    columns = [
        func.sum(case((and_(Escalation.created_at >= start, Escalation.created_at < end), 1), else_=0)) for start, end in zip(day_starts, day_starts[1:])
    ]
    rows = session.execute(
        select(Escalation.severity, *columns)
        .where(Escalation.team_id == team_id, Escalation.created_at >= day_starts[0], Escalation.created_at < day_starts[-1])
        .group_by(Escalation.severity)
    ).all()
    return {str(severity): [int(n or 0) for n in counts] for severity, *counts in rows}

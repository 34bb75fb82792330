"""Reads of many briefs at once: `column IN ids` (one array parameter on PostgreSQL), and the
render preload that lets the tick re-render many briefs from two queries."""

from __future__ import annotations

from sqlalchemy import Integer, any_, bindparam
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, select

from bot.domain.status import LogKind
from bot.storage.models import EscalationLog, FollowUp


def among(session: Session, column, ids) -> object:
    """`column IN ids` for a batch of integer ids. On PostgreSQL `= ANY(array)`: one parameter, so the
    statement's text is the same for any batch size and psycopg parses it once, not 200 placeholders per tick."""
    ids = list(ids)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, ids, type_=postgresql.ARRAY(Integer)))
    return column.in_(ids)


PRELOADED = "preloaded"


def preload_for_render(session: Session, escalation_ids: set[int]) -> None:
    """Rendering many briefs in one read-only session (the tick's re-render): their timers and their
    recorded pattern in two queries, instead of two per brief. `follow_ups` and `last_log_entry`
    answer from this for these briefs until the session ends; never use it in a session that writes them."""
    if not escalation_ids:
        return
    timers: dict[int, dict[str, FollowUp]] = {i: {} for i in escalation_ids}
    for f in session.exec(select(FollowUp).where(among(session, FollowUp.escalation_id, escalation_ids))):
        timers[f.escalation_id][f.kind] = f
    patterns: dict[int, EscalationLog | None] = dict.fromkeys(escalation_ids)
    for e in session.exec(
        select(EscalationLog)
        .where(among(session, EscalationLog.escalation_id, escalation_ids), EscalationLog.kind == LogKind.PATTERN.value)
        .order_by(EscalationLog.id)
    ):
        patterns[e.escalation_id] = e  # the last one wins, as in last_log_entry
    session.info[PRELOADED] = {"follow_ups": timers, ("last_log_entry", LogKind.PATTERN.value): patterns}

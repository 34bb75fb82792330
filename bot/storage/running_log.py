"""The running log of each escalation: who did what, when (the method's "log everything").

Entries forwarded to ticketing systems get their outbox rows in the same transaction (bot.storage.outbox).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from bot.domain.status import LogKind
from bot.storage.batch import PRELOADED, among
from bot.storage.models import EscalationLog
from bot.storage.outbox import enqueue_all

BOT_ACTOR = "bot"
_LOG = EscalationLog.__table__
_INSERT_LOG = _LOG.insert().returning(_LOG.c.id)


def add_log(
    session: Session,
    escalation_id: int,
    *,
    actor: str,
    kind: LogKind | str,
    text: str,
    at: datetime,
    data: dict | None = None,
    follow_up_id: int | None = None,
    due_at: datetime | None = None,
) -> EscalationLog:
    """Every running-log entry is written here (or, for the tick's nudges, by `record_periods`), so each one reaches the outbox (tickets, webhook) in its own transaction."""
    values = dict(
        escalation_id=escalation_id,
        actor=actor,
        kind=kind.value if isinstance(kind, LogKind) else kind,
        text=text,
        at=at,
        data=data,
        follow_up_id=follow_up_id,
        due_at=due_at,
    )
    # A prepared table (Core) INSERT … RETURNING id rather than an object and a flush: two entries
    # per brief, inside SQLite's write lock (0.22 → 0.06 ms each). The entry returned is not in the session.
    entry = EscalationLog(**values)
    entry.id = session.execute(_INSERT_LOG, values).scalar_one()
    queue_outbox(session, [entry])
    return entry


def queue_outbox(session: Session, entries: list[EscalationLog]) -> None:
    """The outbox rows of new log entries (tickets, webhook): the one path every entry takes, single or batched."""
    if entries and session.info.get("outbox_sinks"):
        enqueue_all(session, entries, session.info["outbox_sinks"], private_details=session.info.get("outbox_private_details", False))


def log_entries(session: Session, escalation_id: int) -> list[EscalationLog]:
    return list(session.exec(select(EscalationLog).where(EscalationLog.escalation_id == escalation_id).order_by(EscalationLog.at, EscalationLog.id)))


def last_log_entry(session: Session, escalation_id: int, kind: LogKind) -> EscalationLog | None:
    preloaded = session.info.get(PRELOADED, {}).get(("last_log_entry", kind.value))
    if preloaded is not None and escalation_id in preloaded:
        return preloaded[escalation_id]
    return session.exec(
        select(EscalationLog).where(EscalationLog.escalation_id == escalation_id, EscalationLog.kind == kind.value).order_by(EscalationLog.id.desc()).limit(1)
    ).first()


def last_log_at(session: Session, escalation_id: int, kind: LogKind) -> datetime | None:
    return session.exec(
        select(EscalationLog.at)
        .where(EscalationLog.escalation_id == escalation_id, EscalationLog.kind == kind.value)
        .order_by(EscalationLog.at.desc())
        .limit(1)
    ).first()


def last_log_ats(session: Session, escalation_ids: set[int], kind: LogKind) -> dict[int, datetime]:
    """`last_log_at` for several escalations in one grouped query."""
    if not escalation_ids:
        return {}
    query = (
        select(EscalationLog.escalation_id, func.max(EscalationLog.at))
        .where(among(session, EscalationLog.escalation_id, escalation_ids), EscalationLog.kind == kind.value)
        .group_by(EscalationLog.escalation_id)
    )
    return {eid: at for eid, at in session.execute(query).all() if at is not None}

"""Follow-up timers (check-in, customer update, acknowledgement, deadline) and the tick's claims on them.

The database is the schedule: rows with next_due_at (UTC) and a lease; a tick claims due rows in one
statement, records each period once (a unique key on the follow-up and its due time), and advances
the row to its next due time (design notes: "APScheduler as the timer, the database as the schedule").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, or_, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from bot.domain.status import LogKind
from bot.storage.batch import PRELOADED, among
from bot.storage.models import EscalationLog, FollowUp, Outbox, OutboxState
from bot.storage.running_log import BOT_ACTOR, queue_outbox
from bot.storage.workspaces import escalation_not_paused

# --- follow-ups: the schedule lives in the database --------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """A due follow-up this worker holds the lease on (plain values: safe across threads)."""

    id: int
    escalation_id: int
    kind: str
    due_at: datetime
    stage: str | None
    tried_at: datetime | None = None  # the last tick that claimed it and could not send it


def follow_ups(session: Session, escalation_id: int) -> dict[str, FollowUp]:
    preloaded = session.info.get(PRELOADED, {}).get("follow_ups")
    if preloaded is not None and escalation_id in preloaded:
        return preloaded[escalation_id]
    return {f.kind: f for f in session.exec(select(FollowUp).where(FollowUp.escalation_id == escalation_id))}


def upsert_follow_up(
    session: Session, escalation_id: int, kind: str, *, next_due_at: datetime, anchor_at: datetime, stage: str | None = None, active: bool = True
) -> FollowUp:
    """Plan (or re-plan) one timer; clears any snooze. The lease, if a tick holds one, stays its own."""
    row = session.exec(select(FollowUp).where(FollowUp.escalation_id == escalation_id, FollowUp.kind == kind)).first()
    if row is None:
        row = FollowUp(escalation_id=escalation_id, kind=kind, next_due_at=next_due_at, anchor_at=anchor_at, stage=stage, active=active)
    else:
        row.next_due_at, row.anchor_at, row.stage, row.active, row.snoozed_until = next_due_at, anchor_at, stage, active, None
    session.add(row)
    session.flush()
    return row


def plan_follow_ups(session: Session, escalation_id: int, plans) -> None:
    """upsert_follow_up for several timers of one brief (bot.domain.follow_through.Plan), as one
    INSERT … ON CONFLICT DO UPDATE: a posted brief's timers are new, except when a poster whose
    lease ran out and the next attempt both get here. Inside SQLite's write lock for every brief:
    the ORM's lookup, objects and flush took 1 ms, this 0.12 ms. The lease, if a tick holds one, stays."""
    rows = [
        {
            "escalation_id": escalation_id,
            "kind": p.kind.value,
            "next_due_at": p.next_due_at,
            "anchor_at": p.anchor_at,
            "stage": p.stage,
            "active": True,
            "snoozed_until": None,
        }
        for p in plans
    ]
    if not rows:
        return
    session.execute(_PLAN_FOLLOW_UPS[session.get_bind().dialect.name == "postgresql"], rows)


def _plan_follow_ups(dialect) -> Any:
    table = FollowUp.__table__
    insert = dialect.insert(table)
    return insert.on_conflict_do_update(
        index_elements=[table.c.escalation_id, table.c.kind],
        set_={c: insert.excluded[c] for c in ("next_due_at", "anchor_at", "stage", "active", "snoozed_until")},
    )


_PLAN_FOLLOW_UPS = {False: _plan_follow_ups(sqlite), True: _plan_follow_ups(postgresql)}  # by "is it PostgreSQL"


def deactivate_follow_ups(session: Session, escalation_id: int, kinds: tuple[str, ...] | None = None) -> None:
    query = update(FollowUp).where(FollowUp.escalation_id == escalation_id)
    if kinds:
        query = query.where(FollowUp.kind.in_(kinds))
    session.execute(query.values(active=False))


def claim_due(session: Session, *, now: datetime, owner: str, lease: timedelta, limit: int = 200) -> list[Claimed]:
    """Lease up to `limit` due follow-ups in one statement.

    PostgreSQL: the inner SELECT locks with SKIP LOCKED, so concurrent workers take disjoint rows
    (without it, READ COMMITTED hands one row to several workers). SQLite ignores the lock clause;
    its BEGIN IMMEDIATE transaction serialises workers instead. A paused workspace's timers (the app
    uninstalled there, its token revoked) stay as they are, due, until it is back.
    """
    due = (
        select(FollowUp.id)
        .where(
            FollowUp.active.is_(True),
            FollowUp.next_due_at <= now,
            or_(FollowUp.lease_until.is_(None), FollowUp.lease_until < now),
            escalation_not_paused(FollowUp.escalation_id),
        )
        .order_by(FollowUp.next_due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = session.execute(
        update(FollowUp)
        .where(FollowUp.id.in_(due))
        .values(lease_owner=owner, lease_until=now + lease)
        .returning(FollowUp.id, FollowUp.escalation_id, FollowUp.kind, FollowUp.next_due_at, FollowUp.stage, FollowUp.tried_at)
    ).all()
    return sorted((Claimed(*row) for row in rows), key=lambda c: (c.due_at, c.id))


@dataclass(frozen=True)
class Period:
    """A claimed follow-up's period, with the log entry that records its nudge."""

    claimed: Claimed
    text: str
    data: dict | None = None


# Marks a period whose nudge may not be in Slack: look for it there before sending it again.
UNCONFIRMED = "unconfirmed"


def record_period(session: Session, claimed: Claimed, *, text: str, at: datetime, data: dict | None = None) -> bool:
    """Write the log entry for this period before sending; False if the period was already handled."""
    return bool(record_periods(session, [Period(claimed, text, data)], at=at, unconfirmed=False))


def record_periods(session: Session, periods: list[Period], *, at: datetime, unconfirmed: bool = True) -> set[int]:
    """Write the periods' log entries in one INSERT … ON CONFLICT DO NOTHING RETURNING; the follow-up
    ids whose period was new (the others were handled by another worker or an earlier tick).

    `unconfirmed`: the entries are written marked, and `confirm_periods` clears the mark once the
    nudges are sent, so a crash between the two leaves periods that the next tick checks in Slack
    before sending (rather than periods that count as sent). The outbox rows, written here through
    the same path as every log entry's (`_queue`), carry the entry without the mark.
    """
    if not periods:
        return set()
    rows = [
        {
            "escalation_id": p.claimed.escalation_id,
            "actor": BOT_ACTOR,
            "kind": _period_kind(p.claimed),
            "text": p.text,
            "at": at,
            "data": {**(p.data or {}), UNCONFIRMED: True} if unconfirmed else p.data,
            "follow_up_id": p.claimed.id,
            "due_at": p.claimed.due_at,
        }
        for p in periods
    ]
    table = EscalationLog.__table__
    if session.get_bind().dialect.name == "postgresql":
        # One array per column: the statement's text stays the same for any batch size, so neither
        # SQLAlchemy nor psycopg re-parses a 1,600-placeholder VALUES list on every tick.
        arrays = {c: [r[c] for r in rows] for c in rows[0]}
        arrays["data"] = [json.dumps(d) if d is not None else None for d in arrays["data"]]
        written = dict(session.execute(_INSERT_PERIODS_PG, arrays).all())
    else:
        insert = sqlite.insert(table).values(rows).on_conflict_do_nothing().returning(table.c.follow_up_id, table.c.id)
        written = dict(session.execute(insert).all())
    entries = [
        EscalationLog(
            id=written[p.claimed.id],
            escalation_id=p.claimed.escalation_id,
            actor=BOT_ACTOR,
            kind=_period_kind(p.claimed),
            text=p.text,
            at=at,
            data=p.data,
            follow_up_id=p.claimed.id,
            due_at=p.claimed.due_at,
        )
        for p in periods
        if p.claimed.id in written
    ]
    queue_outbox(session, entries)
    return set(written)


_INSERT_PERIODS_PG = text(
    "INSERT INTO escalation_log (escalation_id, actor, kind, text, at, data, follow_up_id, due_at) "
    "SELECT * FROM unnest(CAST(:escalation_id AS integer[]), CAST(:actor AS varchar[]), CAST(:kind AS varchar[]), CAST(:text AS text[]), "
    "CAST(:at AS timestamptz[]), CAST(:data AS json[]), CAST(:follow_up_id AS integer[]), CAST(:due_at AS timestamptz[])) "
    "ON CONFLICT DO NOTHING RETURNING follow_up_id, id"
)


def _period_kind(claimed: Claimed) -> str:
    return (LogKind.NUDGE if claimed.kind != "deadline" else LogKind.DEADLINE_WARNING).value


def period_entries(session: Session, claimed: list[Claimed]) -> dict[int, EscalationLog]:
    """The log entries of these periods, by follow-up id (one query: each id is claimed once)."""
    if not claimed:
        return {}
    wanted = {(c.id, c.due_at) for c in claimed}
    found = session.exec(
        select(EscalationLog).where(among(session, EscalationLog.follow_up_id, [c.id for c in claimed]), EscalationLog.due_at.in_({c.due_at for c in claimed}))
    )
    return {e.follow_up_id: e for e in found if (e.follow_up_id, e.due_at) in wanted}


def confirm_periods(session: Session, periods: list[Period]) -> None:
    """The nudges are in Slack: clear their entries' mark (one executemany)."""
    if periods:
        table = EscalationLog.__table__
        session.execute(
            update(table).where(table.c.follow_up_id == bindparam("b_id"), table.c.due_at == bindparam("b_due")).values(data=bindparam("b_data")),
            [{"b_id": p.claimed.id, "b_due": p.claimed.due_at, "b_data": p.data} for p in periods],
        )


def period_entry(session: Session, claimed: Claimed) -> EscalationLog | None:
    return session.exec(select(EscalationLog).where(EscalationLog.follow_up_id == claimed.id, EscalationLog.due_at == claimed.due_at)).first()


def forget_period(session: Session, claimed: Claimed) -> None:
    """The send failed: remove the period's entry so a later tick may send it again, and its outbox
    rows not yet delivered with it (nobody is told of a nudge that was not sent)."""
    period = select(EscalationLog.id).where(EscalationLog.follow_up_id == claimed.id, EscalationLog.due_at == claimed.due_at)
    session.execute(delete(Outbox).where(Outbox.log_id.in_(period), Outbox.state == OutboxState.PENDING.value))
    session.execute(delete(EscalationLog).where(EscalationLog.follow_up_id == claimed.id, EscalationLog.due_at == claimed.due_at))


def release(session: Session, claimed: Claimed, *, owner: str) -> None:
    release_all(session, [claimed], owner=owner)


def release_all(session: Session, claimed: list[Claimed], *, owner: str, tried_at: datetime | None = None) -> None:
    """Free the rows; `tried_at`: this tick tried them and could not send (the next tick's retry is not a catch-up)."""
    if claimed:
        values: dict[str, Any] = {"lease_owner": None, "lease_until": None}
        if tried_at is not None:
            values["tried_at"] = tried_at
        session.execute(update(FollowUp).where(among(session, FollowUp.id, [c.id for c in claimed]), FollowUp.lease_owner == owner).values(**values))


def renew_leases(session: Session, claimed: list[Claimed], *, owner: str, until: datetime) -> None:
    """A worker still sending its batch keeps its rows: only a dead (or stalled) worker's leases run out."""
    if claimed:
        session.execute(update(FollowUp).where(among(session, FollowUp.id, [c.id for c in claimed]), FollowUp.lease_owner == owner).values(lease_until=until))


@dataclass(frozen=True)
class Step:
    """Where a claimed timer goes next: next_due_at None means it is done."""

    claimed: Claimed
    next_due_at: datetime | None
    stage: str | None


def advance_all(session: Session, steps: list[Step], *, owner: str) -> None:
    """Move each timer to its next period (None: done) and release the leases: one executemany per
    shape (moved on, done), then one release.

    Only if nothing re-planned the timer meanwhile (a logged check-in, a severity change): their
    plan wins over the grid this tick computed.
    """
    table = FollowUp.__table__
    held = (table.c.id == bindparam("b_id"), table.c.lease_owner == owner, table.c.next_due_at == bindparam("b_due"))
    moved = [{"b_id": s.claimed.id, "b_due": s.claimed.due_at, "b_next": s.next_due_at, "b_stage": s.stage} for s in steps if s.next_due_at is not None]
    done = [{"b_id": s.claimed.id, "b_due": s.claimed.due_at, "b_stage": s.stage} for s in steps if s.next_due_at is None]
    if moved:
        session.execute(update(table).where(*held).values(next_due_at=bindparam("b_next"), stage=bindparam("b_stage")), moved)
    if done:
        session.execute(update(table).where(*held).values(active=False, stage=bindparam("b_stage")), done)
    release_all(session, [s.claimed for s in steps], owner=owner)


def anchors(session: Session, follow_up_ids: list[int]) -> dict[int, datetime]:
    """anchor_at of these follow-ups (those still there)."""
    return dict(session.execute(select(FollowUp.id, FollowUp.anchor_at).where(among(session, FollowUp.id, follow_up_ids))).all()) if follow_up_ids else {}


def snooze(session: Session, follow_up_id: int, *, until: datetime) -> FollowUp | None:
    row = session.get(FollowUp, follow_up_id)
    if row is None:
        return None
    row.next_due_at = until
    row.snoozed_until = until
    session.add(row)
    return row

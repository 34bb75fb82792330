"""Every query the bot makes, as small functions that take the session explicitly.

Callers pass ids, not ORM objects, across threads, and never hold a session across a Slack call.

Workspaces: whatever starts from a Slack request is scoped to its team_id, here (numbers, messages,
search) or through get_for_team(team_id) for ids carried in buttons and modals. The by-id
lookups without a team are for the bot's own work (the tick, refresh) and the command line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, any_, bindparam, delete, func, or_, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer, make_transient_to_detached
from sqlmodel import Session, select

from bot.domain.brief import Brief
from bot.domain.status import EscalationStatus, LogKind, Transition
from bot.storage.models import Escalation, EscalationLog, FollowUp, Outbox, OutboxState
from bot.storage.search import index_new, search_text_of

BOT_ACTOR = "bot"
# Longer than one post with its retries can take; a poster that died frees the brief after it.
DELIVERY_LEASE = timedelta(seconds=120)


# Table (Core) statements built once, for the hot path of every brief: an ORM statement, or a Core
# one built per call (`.values(...)`), costs 3-4 times the SQL itself, and these run inside
# SQLite's one write lock, where every other writer waits (benchmarks/results.md).
_ESCALATION = Escalation.__table__
_LOG = EscalationLog.__table__
_INSERT_LOG = _LOG.insert().returning(_LOG.c.id)
_NEXT_NUMBER = text(
    "INSERT INTO escalation_counter (team_id, last_number) VALUES (:team, 1) "
    "ON CONFLICT (team_id) DO UPDATE SET last_number = escalation_counter.last_number + 1 "
    "RETURNING last_number"
)
_INSERT_ESCALATION = _ESCALATION.insert().returning(_ESCALATION.c.id)
_ESCALATION_COLUMNS = tuple(c.key for c in _ESCALATION.columns if c.key != "id")
_UPDATE_ESCALATION = _ESCALATION.update().where(_ESCALATION.c.id == bindparam("b_id"))  # SET: the columns given when executed
_CLAIM_DELIVERY = (
    _ESCALATION.update()
    .where(
        _ESCALATION.c.id == bindparam("b_id"),
        _ESCALATION.c.status == EscalationStatus.PENDING_DELIVERY.value,
        or_(_ESCALATION.c.delivery_claimed_until.is_(None), _ESCALATION.c.delivery_claimed_until < bindparam("b_now")),
    )
    .values(delivery_claimed_until=bindparam("b_until"), delivery_attempts=_ESCALATION.c.delivery_attempts + 1)
    .returning(_ESCALATION.c.delivery_attempts)
)


@dataclass(frozen=True)
class Created:
    escalation: Escalation
    is_new: bool  # False when the same modal submission was already stored


def next_number(session: Session, team_id: str) -> int:
    """Hand out the next ESC number for a workspace in one atomic statement (SQLite ≥ 3.35 and PostgreSQL)."""
    return session.execute(_NEXT_NUMBER, {"team": team_id}).scalar_one()


def create_escalation(
    session: Session,
    *,
    team_id: str,
    brief: Brief,
    agent_user_id: str,
    channel_id: str,
    now: datetime,
    source_channel_id: str | None = None,
    submission_key: str | None = None,
) -> Created:
    """Store a brief before anything is posted, so a failed post never loses it.

    A repeated submission (same key) is told by the unique key, not by a lookup first: repeats are
    rare, and the lookup was one more statement inside SQLite's one write lock for every brief."""
    brief_json = brief.model_dump(mode="json")
    row = Escalation(
        team_id=team_id,
        number=0,  # numbered inside the savepoint below: a repeat rolls its number back (no gap)
        submission_key=submission_key,
        destination=brief.destination.value,
        severity=brief.severity.value,
        status=EscalationStatus.PENDING_DELIVERY.value,
        summary=brief.summary,
        narrative=brief.narrative,
        agent_user_id=agent_user_id,
        source_channel_id=source_channel_id,
        channel_id=channel_id,
        deadline_at=brief.request.deadline,
        brief=brief_json,
        search_text=search_text_of(brief_json),
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            row.number = next_number(session, team_id)
            # A prepared INSERT rather than the ORM's flush (0.33 → 0.21 ms, inside SQLite's write lock).
            row.id = session.execute(_INSERT_ESCALATION, {column: getattr(row, column) for column in _ESCALATION_COLUMNS}).scalar_one()
    except IntegrityError:
        # The same submission again (Slack's retry, a double click, another replica got it first).
        existing = get_by_submission_key(session, submission_key) if submission_key else None
        if existing is None:
            raise
        return Created(existing, is_new=False)
    make_transient_to_detached(row)  # then in the session as if loaded: no second INSERT, later changes are UPDATEs
    session.add(row)
    index_new(session, row)
    add_log(session, row.id, actor=agent_user_id, kind=LogKind.CREATED, text=f"Escalated to {brief.destination.label}", at=now)
    return Created(row, is_new=True)


def get_by_submission_key(session: Session, submission_key: str) -> Escalation | None:
    return session.exec(select(Escalation).where(Escalation.submission_key == submission_key)).first()


def get_escalation(session: Session, escalation_id: int, *, lock: bool = False) -> Escalation | None:
    """lock: hold the row until commit (PostgreSQL), so two clicks at once act one after the other
    and the second sees the first's change; SQLite's BEGIN IMMEDIATE already serialises writers."""
    return session.get(Escalation, escalation_id, with_for_update=lock or None)


def get_for_team(session: Session, escalation_id: int, team_id: str | None) -> Escalation:
    """The escalation, locked (as get_escalation(lock=True)), only if it belongs to the asking
    workspace: ids in buttons and modals can be replayed or forged. LookupError otherwise.
    `team_id` None: no workspace to check against (the command line, the scheduler)."""
    row = get_escalation(session, escalation_id, lock=True)
    if row is None or (team_id is not None and row.team_id != team_id):
        raise LookupError(f"escalation {escalation_id} does not exist")
    return row


def get_escalations(session: Session, ids) -> dict[int, Escalation]:
    """Several escalations by id in one statement (rows already in the session are reused)."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return {}
    return {row.id: row for row in session.exec(select(Escalation).where(Escalation.id.in_(ids)))}


def newest_id(session: Session) -> int:
    """The newest escalation's id, of any workspace (0 when none). max(id) alone is read off the
    primary key's end, whatever the size; per workspace it walked that workspace's index entries
    (0.25 ms at 3,000 briefs, linear)."""
    return session.execute(select(func.max(Escalation.id))).scalar() or 0


def get_by_number(session: Session, team_id: str, number: int) -> Escalation | None:
    return session.exec(select(Escalation).where(Escalation.team_id == team_id, Escalation.number == number)).first()


def find_by_number(session: Session, number: int) -> list[Escalation]:
    """For the command line, which has no workspace: every workspace's ESC-<number>."""
    return list(session.exec(select(Escalation).where(Escalation.number == number).order_by(Escalation.team_id)))


def transition(session: Session, escalation_id: int, rule: Transition, *, now: datetime) -> bool:
    """Apply a status change of the domain's (bot.domain.status) only if the status is still one of
    its starting statuses, atomically (one UPDATE … WHERE).

    Double clicks, repeated submissions and two people at once: exactly one caller gets True.
    """
    result = session.execute(
        update(Escalation)
        .where(Escalation.id == escalation_id, Escalation.status.in_(rule.from_statuses))
        .values(status=rule.to.value, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    moved = result.rowcount == 1
    if moved:
        row = session.get(Escalation, escalation_id)
        if row is not None:
            session.refresh(row)
    return moved


def claim_delivery(session: Session, escalation_id: int, *, now: datetime, lease: timedelta = DELIVERY_LEASE) -> int:
    """Take the right to post this brief for `lease`, atomically: the attempt number (1 for the first),
    or 0 if it is posted or someone else holds it. Attempts count claims, so a poster that died
    mid-post leaves a trace the next attempt sees (and checks Slack before posting again)."""
    # A table (Core) UPDATE: an escalation already in the session keeps its old attempt count.
    result = session.execute(_CLAIM_DELIVERY, {"b_id": escalation_id, "b_now": now, "b_until": now + lease}).first()
    return int(result[0]) if result else 0


def due_deliveries(session: Session, *, now: datetime, limit: int = 50) -> list[tuple[int, str]]:
    """(id, team_id) of pending briefs whose next automatic delivery attempt has come (and nobody is
    posting them); the team says whose token posts it when the app serves several workspaces."""
    return list(
        session.exec(
            select(Escalation.id, Escalation.team_id)
            .where(
                Escalation.status == EscalationStatus.PENDING_DELIVERY.value,
                Escalation.next_delivery_at.is_not(None),
                Escalation.next_delivery_at <= now,
                or_(Escalation.delivery_claimed_until.is_(None), Escalation.delivery_claimed_until < now),
            )
            .order_by(Escalation.next_delivery_at)
            .limit(limit)
        )
    )


def mark_posted(session: Session, escalation_id: int, *, channel_id: str, ts: str, now: datetime, agent_tz: str | None = None) -> None:
    """One UPDATE: the row (and its whole brief) is not loaded to change these columns. A prepared
    table (Core) UPDATE: the ORM's took 0.28 ms, this 0.06 ms, inside SQLite's write lock."""
    values = dict(
        status=EscalationStatus.OPEN.value,
        channel_id=channel_id,
        message_ts=ts,
        delivery_error=None,
        delivery_claimed_until=None,
        next_delivery_at=None,
        posted_at=now,
        updated_at=now,
    )
    if agent_tz is not None:
        values["agent_tz"] = agent_tz
    if session.execute(_UPDATE_ESCALATION, {"b_id": escalation_id, **values}).rowcount != 1:
        raise LookupError(f"escalation {escalation_id} does not exist")
    add_log(session, escalation_id, actor=BOT_ACTOR, kind=LogKind.POSTED, text=f"Posted to <#{channel_id}>", at=now)


def mark_delivery_failed(session: Session, escalation_id: int, *, error: str, now: datetime, retry_at: datetime | None = None) -> Escalation:
    row = _require(session, escalation_id)
    row.status = EscalationStatus.PENDING_DELIVERY.value
    row.delivery_error = error[:255]
    row.delivery_claimed_until = None
    row.next_delivery_at = retry_at
    row.updated_at = now
    session.add(row)
    add_log(session, escalation_id, actor=BOT_ACTOR, kind=LogKind.DELIVERY_FAILED, text=error, at=now)
    return row


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
    _queue(session, [entry])
    return entry


def _queue(session: Session, entries: list[EscalationLog]) -> None:
    """The outbox rows of new log entries (tickets, webhook): the one path every entry takes, single or batched."""
    if entries and session.info.get("outbox_sinks"):
        from bot.storage.outbox import enqueue_all  # noqa: PLC0415 - a sibling that imports this module

        enqueue_all(session, entries, session.info["outbox_sinks"])


def log_entries(session: Session, escalation_id: int) -> list[EscalationLog]:
    return list(session.exec(select(EscalationLog).where(EscalationLog.escalation_id == escalation_id).order_by(EscalationLog.at, EscalationLog.id)))


def last_log_entry(session: Session, escalation_id: int, kind: LogKind) -> EscalationLog | None:
    preloaded = session.info.get(_PRELOADED, {}).get(("last_log_entry", kind.value))
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


def _among(session: Session, column, ids) -> object:
    """`column IN ids` for a batch of integer ids. On PostgreSQL `= ANY(array)`: one parameter, so the
    statement's text is the same for any batch size and psycopg parses it once, not 200 placeholders per tick."""
    ids = list(ids)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, ids, type_=postgresql.ARRAY(Integer)))
    return column.in_(ids)


_PRELOADED = "preloaded"


def preload_for_render(session: Session, escalation_ids: set[int]) -> None:
    """Rendering many briefs in one read-only session (the tick's re-render): their timers and their
    recorded pattern in two queries, instead of two per brief. `follow_ups` and `last_log_entry`
    answer from this for these briefs until the session ends; never use it in a session that writes them."""
    if not escalation_ids:
        return
    timers: dict[int, dict[str, FollowUp]] = {i: {} for i in escalation_ids}
    for f in session.exec(select(FollowUp).where(_among(session, FollowUp.escalation_id, escalation_ids))):
        timers[f.escalation_id][f.kind] = f
    patterns: dict[int, EscalationLog | None] = dict.fromkeys(escalation_ids)
    for e in session.exec(
        select(EscalationLog)
        .where(_among(session, EscalationLog.escalation_id, escalation_ids), EscalationLog.kind == LogKind.PATTERN.value)
        .order_by(EscalationLog.id)
    ):
        patterns[e.escalation_id] = e  # the last one wins, as in last_log_entry
    session.info[_PRELOADED] = {"follow_ups": timers, ("last_log_entry", LogKind.PATTERN.value): patterns}


def brief_of(row: Escalation) -> Brief:
    return Brief.model_validate(row.brief)


def _require(session: Session, escalation_id: int) -> Escalation:
    row = session.get(Escalation, escalation_id)
    if row is None:
        raise LookupError(f"escalation {escalation_id} does not exist")
    return row


# --- follow-ups: the schedule lives in the database --------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """A due follow-up this worker holds the lease on (plain values: safe across threads)."""

    id: int
    escalation_id: int
    kind: str
    due_at: datetime
    stage: str | None


def find_by_message(session: Session, channel_id: str, ts: str, *, team_id: str | None = None) -> Escalation | None:
    """The brief posted as this message (reactions, thread replies), in the event's workspace when
    given: a channel shared between workspaces has one id in both."""
    query = select(Escalation).where(Escalation.channel_id == channel_id, Escalation.message_ts == ts)
    if team_id:
        query = query.where(Escalation.team_id == team_id)
    return session.exec(query).first()


def follow_ups(session: Session, escalation_id: int) -> dict[str, FollowUp]:
    preloaded = session.info.get(_PRELOADED, {}).get("follow_ups")
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
    its BEGIN IMMEDIATE transaction serialises workers instead.
    """
    due = (
        select(FollowUp.id)
        .where(FollowUp.active.is_(True), FollowUp.next_due_at <= now, or_(FollowUp.lease_until.is_(None), FollowUp.lease_until < now))
        .order_by(FollowUp.next_due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = session.execute(
        update(FollowUp)
        .where(FollowUp.id.in_(due))
        .values(lease_owner=owner, lease_until=now + lease)
        .returning(FollowUp.id, FollowUp.escalation_id, FollowUp.kind, FollowUp.next_due_at, FollowUp.stage)
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
    _queue(session, entries)
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
        select(EscalationLog).where(_among(session, EscalationLog.follow_up_id, [c.id for c in claimed]), EscalationLog.due_at.in_({c.due_at for c in claimed}))
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


def release_all(session: Session, claimed: list[Claimed], *, owner: str) -> None:
    if claimed:
        session.execute(
            update(FollowUp)
            .where(_among(session, FollowUp.id, [c.id for c in claimed]), FollowUp.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
        )


def renew_leases(session: Session, claimed: list[Claimed], *, owner: str, until: datetime) -> None:
    """A worker still sending its batch keeps its rows: only a dead (or stalled) worker's leases run out."""
    if claimed:
        session.execute(update(FollowUp).where(_among(session, FollowUp.id, [c.id for c in claimed]), FollowUp.lease_owner == owner).values(lease_until=until))


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


def escalations_by_id(session: Session, ids: set[int], *, brief: bool = True) -> dict[int, Escalation]:
    """`brief=False`: without the brief's JSON and search text (decoding 200 briefs is most of a
    batch's read), which then raise if touched rather than load one by one."""
    if not ids:
        return {}
    query = select(Escalation).where(_among(session, Escalation.id, ids))
    if not brief:
        query = query.options(defer(Escalation.brief, raiseload=True), defer(Escalation.search_text, raiseload=True))
    return {e.id: e for e in session.exec(query)}


def anchors(session: Session, follow_up_ids: list[int]) -> dict[int, datetime]:
    """anchor_at of these follow-ups (those still there)."""
    return dict(session.execute(select(FollowUp.id, FollowUp.anchor_at).where(_among(session, FollowUp.id, follow_up_ids))).all()) if follow_up_ids else {}


def last_log_ats(session: Session, escalation_ids: set[int], kind: LogKind) -> dict[int, datetime]:
    """`last_log_at` for several escalations in one grouped query."""
    if not escalation_ids:
        return {}
    query = (
        select(EscalationLog.escalation_id, func.max(EscalationLog.at))
        .where(_among(session, EscalationLog.escalation_id, escalation_ids), EscalationLog.kind == kind.value)
        .group_by(EscalationLog.escalation_id)
    )
    return {eid: at for eid, at in session.execute(query).all() if at is not None}


def set_deadline_states(session: Session, states: dict[int, str]) -> None:
    for state in set(states.values()):
        session.execute(update(Escalation).where(_among(session, Escalation.id, [eid for eid, s in states.items() if s == state])).values(deadline_state=state))


def snooze(session: Session, follow_up_id: int, *, until: datetime) -> FollowUp | None:
    row = session.get(FollowUp, follow_up_id)
    if row is None:
        return None
    row.next_due_at = until
    row.snoozed_until = until
    session.add(row)
    return row

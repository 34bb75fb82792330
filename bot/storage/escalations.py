"""Escalation rows: numbering, storing a brief, finding it (always per workspace when the id comes
from Slack: get_for_team), its status transitions, and delivery to its channel.

Every function takes the session explicitly; callers pass ids, not ORM objects, across threads and
never hold a session across a Slack call. The by-id lookups without a team are for the bot's own
work (the tick, refresh) and the command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, or_, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer, make_transient_to_detached
from sqlmodel import Session, select

from bot.domain.brief import Brief
from bot.domain.status import EscalationStatus, LogKind, Transition
from bot.storage.batch import among
from bot.storage.models import Escalation
from bot.storage.running_log import BOT_ACTOR, add_log
from bot.storage.search import index_escalation, index_new, search_text_of
from bot.storage.workspaces import not_paused

# Longer than one post with its retries can take; a poster that died frees the brief after it.
DELIVERY_LEASE = timedelta(seconds=120)


# Table (Core) statements built once, for the hot path of every brief: an ORM statement, or a Core
# one built per call (`.values(...)`), costs 3-4 times the SQL itself, and these run inside
# SQLite's one write lock, where every other writer waits (benchmarks/results.md).
_ESCALATION = Escalation.__table__
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
        missing=",".join(brief.missing) or None,  # posted with *Post now*: what is still to come (complete_by: set when posted)
        product_area=brief.product_area,  # search's area: filter, stats and pattern matching read the column
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
    posting them; their workspace is not paused); the team says whose token posts it when the app
    serves several workspaces."""
    return list(
        session.exec(
            select(Escalation.id, Escalation.team_id)
            .where(
                Escalation.status == EscalationStatus.PENDING_DELIVERY.value,
                Escalation.next_delivery_at.is_not(None),
                Escalation.next_delivery_at <= now,
                or_(Escalation.delivery_claimed_until.is_(None), Escalation.delivery_claimed_until < now),
                not_paused(Escalation.team_id),
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


def brief_of(row: Escalation) -> Brief:
    return Brief.model_validate(row.brief)


def set_complete_by(session: Session, escalation_id: int, when: datetime) -> None:
    """An incomplete brief just posted: when its agent should have completed it (its reminders count from the post)."""
    session.execute(_ESCALATION.update().where(_ESCALATION.c.id == escalation_id, _ESCALATION.c.missing.is_not(None)).values(complete_by=when))


def complete_brief(session: Session, row: Escalation, brief: Brief, *, now: datetime) -> None:
    """A brief posted with *Post now*, now complete: the brief and the columns read from it, re-indexed;
    the marker (missing, complete_by) gone. The caller holds the row (get_for_team) and checked `missing`."""
    row.brief = brief.model_dump(mode="json")
    row.summary, row.narrative, row.deadline_at = brief.summary, brief.narrative, brief.request.deadline
    row.missing, row.complete_by, row.updated_at = None, None, now
    session.add(row)
    session.flush()
    index_escalation(session, row.id)


def _require(session: Session, escalation_id: int) -> Escalation:
    row = session.get(Escalation, escalation_id)
    if row is None:
        raise LookupError(f"escalation {escalation_id} does not exist")
    return row


def find_by_message(session: Session, channel_id: str, ts: str, *, team_id: str | None = None) -> Escalation | None:
    """The brief posted as this message (reactions, thread replies), in the event's workspace when
    given: a channel shared between workspaces has one id in both."""
    query = select(Escalation).where(Escalation.channel_id == channel_id, Escalation.message_ts == ts)
    if team_id:
        query = query.where(Escalation.team_id == team_id)
    return session.exec(query).first()


def escalations_by_id(session: Session, ids: set[int], *, brief: bool = True) -> dict[int, Escalation]:
    """`brief=False`: without the brief's JSON and search text (decoding 200 briefs is most of a
    batch's read), which then raise if touched rather than load one by one."""
    if not ids:
        return {}
    query = select(Escalation).where(among(session, Escalation.id, ids))
    if not brief:
        query = query.options(defer(Escalation.brief, raiseload=True), defer(Escalation.search_text, raiseload=True))
    return {e.id: e for e in session.exec(query)}


def set_deadline_states(session: Session, states: dict[int, str]) -> None:
    for state in set(states.values()):
        session.execute(update(Escalation).where(among(session, Escalation.id, [eid for eid, s in states.items() if s == state])).values(deadline_state=state))

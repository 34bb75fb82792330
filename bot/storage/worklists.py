"""Open briefs for one person, a page at a time: the App Home and /escalate list.

"Overdue" means the deadline has passed or the next check-in is past due; overdue rows come first,
then the nearest deadline. Paging is in SQL (OFFSET/LIMIT), so a person with 500 open briefs costs
one page of rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from bot.domain.status import ACTIVE_STATUSES, EscalationStatus, FollowUpKind
from bot.domain.worklists import Page, Row
from bot.storage.models import Escalation, FollowUp
from bot.storage.types import UTCDateTime

MINE_STATUSES = (EscalationStatus.PENDING_DELIVERY.value, *ACTIVE_STATUSES)  # the agent also sees what did not get out


def mine(session: Session, team_id: str, user_id: str, *, now: datetime, offset: int = 0, limit: int = 10) -> Page:
    """Open briefs this person escalated (the agent)."""
    return _page(
        session,
        and_(Escalation.team_id == team_id, Escalation.agent_user_id == user_id, Escalation.status.in_(MINE_STATUSES)),
        now=now,
        offset=offset,
        limit=limit,
    )


def waiting_on_team(session: Session, team_id: str, user_id: str, channel_ids: set[str], *, now: datetime, offset: int = 0, limit: int = 10) -> Page:
    """Open briefs this person receives: as the owner, or as a member of the destination channel.

    A security brief is posted to the private security channel, so only its members (and its owner)
    find it here: the people involved.
    """
    receives = (
        or_(Escalation.receiving_owner_id == user_id, Escalation.channel_id.in_(sorted(channel_ids)))
        if channel_ids
        else Escalation.receiving_owner_id == user_id
    )
    return _page(
        session,
        and_(Escalation.team_id == team_id, Escalation.agent_user_id != user_id, Escalation.status.in_(ACTIVE_STATUSES), receives),
        now=now,
        offset=offset,
        limit=limit,
    )


def _page(session: Session, where, *, now: datetime, offset: int, limit: int) -> Page:
    checkin = aliased(FollowUp)
    joined = and_(checkin.escalation_id == Escalation.id, checkin.kind == FollowUpKind.CHECKIN.value, checkin.active.is_(True))
    overdue = or_(Escalation.deadline_at < now, and_(checkin.next_due_at.is_not(None), checkin.next_due_at < now))
    flag = case((overdue, 1), else_=0)
    total, late = session.execute(select(func.count(), func.coalesce(func.sum(flag), 0)).select_from(Escalation).outerjoin(checkin, joined).where(where)).one()
    rows = session.execute(
        select(
            Escalation.id,
            Escalation.number,
            Escalation.summary,
            Escalation.severity,
            Escalation.destination,
            Escalation.status,
            func.coalesce(Escalation.posted_at, Escalation.created_at, type_=UTCDateTime()),
            Escalation.deadline_at,
            checkin.next_due_at,
            flag,
            Escalation.channel_id,
            Escalation.message_ts,
            Escalation.agent_user_id,
            Escalation.receiving_owner_id,
            Escalation.missing.is_not(None),  # posted incomplete (Post now)
        )
        .outerjoin(checkin, joined)
        .where(where)
        .order_by(flag.desc(), Escalation.deadline_at, Escalation.id)
        .offset(offset)
        .limit(limit)
    ).all()
    return Page(tuple(Row(*r[:9], bool(r[9]), *r[10:14], bool(r[14])) for r in rows), int(total), int(late), offset, limit)  # type: ignore[call-arg]  # the row is the columns of Row, in order

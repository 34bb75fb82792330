"""The thread parts of long briefs: how many are in Slack, and when the tick posts the rest.

A brief too long for one message continues in its thread (blocks.brief_message). Parts go out in
order; a part Slack refused is tried again by the tick from `next_delivery_at` (the column pending
deliveries use; once a brief is posted it is free), with the same lease as a delivery."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, or_, update
from sqlmodel import Session, select

from bot.domain.status import EscalationStatus
from bot.storage.models import Escalation
from bot.storage.workspaces import not_paused

_T = Escalation.__table__
LEASE = timedelta(minutes=2)


def start(session: Session, escalation_id: int, *, total: int) -> None:
    session.execute(update(_T).where(_T.c.id == escalation_id).values(parts_total=total, parts_posted=0, delivery_attempts=0))


def part_posted(session: Session, escalation_id: int, part: int) -> None:
    session.execute(update(_T).where(_T.c.id == escalation_id, _T.c.parts_posted < part).values(parts_posted=part))


def retry_at(session: Session, escalation_id: int, when: datetime) -> None:
    """The next part failed: the tick tries again from `when` (and the lease is given back)."""
    session.execute(update(_T).where(_T.c.id == escalation_id).values(next_delivery_at=when, delivery_claimed_until=None))


def done(session: Session, escalation_id: int) -> None:
    session.execute(update(_T).where(_T.c.id == escalation_id).values(next_delivery_at=None, delivery_claimed_until=None))


def _missing():
    return and_(
        _T.c.status != EscalationStatus.PENDING_DELIVERY.value,
        _T.c.message_ts.is_not(None),
        _T.c.parts_posted < _T.c.parts_total,
    )


def due(session: Session, *, now: datetime, limit: int = 50) -> list[tuple[int, str]]:
    """(id, team_id) of posted briefs with parts still to post whose retry has come, nobody posting them."""
    return list(
        session.exec(
            select(Escalation.id, Escalation.team_id)
            .where(
                _missing(),
                not_paused(Escalation.team_id),  # an uninstalled workspace's parts wait for a reinstall
                Escalation.next_delivery_at.is_not(None),
                Escalation.next_delivery_at <= now,
                or_(Escalation.delivery_claimed_until.is_(None), Escalation.delivery_claimed_until < now),
            )
            .order_by(Escalation.next_delivery_at)
            .limit(limit)
        )
    )


_CLAIM = (
    update(_T)
    .where(_T.c.id == bindparam("b_id"), _missing(), or_(_T.c.delivery_claimed_until.is_(None), _T.c.delivery_claimed_until < bindparam("b_now")))
    .values(delivery_claimed_until=bindparam("b_until"), delivery_attempts=_T.c.delivery_attempts + 1)
    .returning(_T.c.parts_posted, _T.c.delivery_attempts)
)


def claim(session: Session, escalation_id: int, *, now: datetime, lease: timedelta = LEASE) -> tuple[int, int] | None:
    """Take the right to post this brief's missing parts: (parts already in, this attempt's number), or None."""
    row = session.execute(_CLAIM, {"b_id": escalation_id, "b_now": now, "b_until": now + lease}).first()
    return (int(row[0]), int(row[1])) if row else None

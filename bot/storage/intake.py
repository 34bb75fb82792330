"""Brief submissions accepted but not yet filed (BriefIntake): written before Slack is answered,
marked filed once the brief is stored, and claimed with a lease by whoever files what a crash left."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from bot.storage.models import BriefIntake
from bot.storage.workspaces import not_paused

_TABLE = BriefIntake.__table__


def record(session: Session, *, view_id: str, team_id: str | None, user_id: str | None, job: dict, now: datetime) -> bool:
    """Keep a submission; False if this view was already kept (a double-submitted modal)."""
    values = dict(view_id=view_id, team_id=team_id, user_id=user_id, job=job, received_at=now, attempts=0)
    insert = (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(_TABLE)
    result = session.execute(insert.values(**values).on_conflict_do_nothing(index_elements=["view_id"]))
    return bool(result.rowcount)


def mark_filed(session: Session, view_id: str, *, now: datetime) -> None:
    session.execute(update(_TABLE).where(_TABLE.c.view_id == view_id, _TABLE.c.filed_at.is_(None)).values(filed_at=now, lease_until=None))


def forget(session: Session, view_id: str) -> None:
    """The agent got the form back to submit again: this submission is theirs to repeat, not ours to file."""
    session.execute(_TABLE.delete().where(_TABLE.c.view_id == view_id, _TABLE.c.filed_at.is_(None)))


def claim_unfiled(session: Session, *, now: datetime, received_before: datetime, lease: timedelta, limit: int = 20) -> list[BriefIntake]:
    """Unfiled submissions older than `received_before` that nobody is filing, leased to the caller."""
    rows = list(
        session.exec(
            select(BriefIntake)
            .where(
                BriefIntake.filed_at.is_(None),
                BriefIntake.received_at < received_before,
                or_(BriefIntake.team_id.is_(None), not_paused(BriefIntake.team_id)),  # an uninstalled workspace's wait for a reinstall
                or_(BriefIntake.lease_until.is_(None), BriefIntake.lease_until < now),
            )
            .order_by(BriefIntake.received_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    for row in rows:
        row.lease_until, row.attempts = now + lease, row.attempts + 1
        session.add(row)
    return rows


def note_failure(session: Session, view_id: str, error: str) -> None:
    session.execute(update(_TABLE).where(_TABLE.c.view_id == view_id).values(last_error=error[:255]))


def unfiled(session: Session) -> list[BriefIntake]:
    return list(session.exec(select(BriefIntake).where(BriefIntake.filed_at.is_(None)).order_by(BriefIntake.received_at)))

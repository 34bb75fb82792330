"""Claim-once bookkeeping for the weekly digest (the digest_run table).

The period key is unique, so however many replicas tick, one row exists per digest; a lease on
that row decides which replica works on it, and each step (posted, chart uploaded, done) is
recorded so a replica that takes over after a crash resumes instead of posting again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.storage.models import DigestRun


@dataclass(frozen=True)
class ClaimedDigest:
    id: int
    period_key: str
    message_ts: str | None
    channel_id: str | None
    chart_file_id: str | None


def claim(session: Session, period_key: str, *, owner: str, now: datetime, lease: timedelta) -> ClaimedDigest | None:
    """The run for this period, leased to `owner`; None if it is done or another replica holds it."""
    if session.exec(select(DigestRun.id).where(DigestRun.period_key == period_key)).first() is None:
        try:
            with session.begin_nested():
                session.add(DigestRun(period_key=period_key, created_at=now))
                session.flush()
        except IntegrityError:
            pass  # another replica created it first: the lease below decides
    row = session.execute(
        update(DigestRun)
        .where(DigestRun.period_key == period_key, DigestRun.done_at.is_(None), or_(DigestRun.lease_until.is_(None), DigestRun.lease_until < now))
        .values(lease_owner=owner, lease_until=now + lease)
        .returning(DigestRun.id, DigestRun.period_key, DigestRun.message_ts, DigestRun.channel_id, DigestRun.chart_file_id)
    ).first()
    return ClaimedDigest(*row) if row is not None else None


def record(session: Session, run_id: int, *, owner: str, **values) -> None:
    """Record a finished step (message_ts/channel_id, chart_file_id, done_at) while holding the lease."""
    session.execute(update(DigestRun).where(DigestRun.id == run_id, DigestRun.lease_owner == owner).values(**values))


def release(session: Session, run_id: int, *, owner: str) -> None:
    session.execute(update(DigestRun).where(DigestRun.id == run_id, DigestRun.lease_owner == owner).values(lease_owner=None, lease_until=None))


def get(session: Session, period_key: str) -> DigestRun | None:
    return session.exec(select(DigestRun).where(DigestRun.period_key == period_key)).first()

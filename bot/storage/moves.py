"""Moving a brief to another team (bot.usecases.move): one conditional UPDATE, so of two moves at once
(or a move and an acknowledgement, a de-escalation…) exactly one applies to the brief as it was read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session

from bot.domain.status import MOVE
from bot.storage.models import Escalation


def apply_move(
    session: Session,
    escalation_id: int,
    *,
    source: str,
    from_ts: str,
    target: str,
    channel_id: str,
    ts: str,
    brief: dict,
    moved_from: dict,
    now: datetime,
) -> bool:
    """The brief now lives in `channel_id`/`ts` with `target`'s package; nobody there owns it yet.
    False when it changed since it was read (moved, closed, marked fixed): nothing is written."""
    result = session.execute(
        update(Escalation)
        .where(
            Escalation.id == escalation_id,
            Escalation.destination == source,
            Escalation.message_ts == from_ts,
            Escalation.status.in_(MOVE.from_statuses),
        )
        .values(
            destination=target,
            channel_id=channel_id,
            message_ts=ts,
            status=MOVE.to.value,
            receiving_owner_id=None,
            brief=brief,
            moved_from=moved_from,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    row = session.get(Escalation, escalation_id)
    if row is not None:
        session.refresh(row)
    return True

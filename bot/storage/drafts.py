"""Brief drafts (BriefDraft): what an agent had typed in the brief form, one row per agent and
workspace. Every query here names the agent: no function lists, counts or searches other people's
drafts, and nothing outside this module reads the table (tests/test_drafts.py checks that)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from bot.storage import events
from bot.storage.models import BriefDraft, BriefIntake

_TABLE = BriefDraft.__table__


def save(session: Session, *, team_id: str, user_id: str, view_id: str, fields: dict, tz: str, now: datetime, final: bool = False) -> bool:
    """Keep the agent's draft (replacing an older one); False, and nothing kept, when that view was
    already submitted (a late re-render after the brief went in must not bring the draft back).

    `final`: the state the view closed with. A re-render's state (not final) is saved in the
    background and may be written after the close's, which holds more: once the view has closed,
    a re-render of it keeps nothing (checked again in the upsert itself, so a close that commits
    in between still wins)."""
    if session.exec(select(BriefIntake.view_id).where(BriefIntake.view_id == view_id)).first() is not None:
        return False
    closed = events.recorded(events.VIEW_CLOSED + view_id)
    if not final and session.scalar(select(closed)):
        return False
    values = dict(team_id=team_id, user_id=user_id, view_id=view_id, fields=fields, tz=tz, saved_at=now)
    insert = (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(_TABLE)
    upsert = insert.values(**values).on_conflict_do_update(
        index_elements=["team_id", "user_id"],
        set_=dict(view_id=view_id, fields=fields, tz=tz, saved_at=now),
        where=None if final else ~closed,
    )
    session.execute(upsert)
    return True


def get(session: Session, team_id: str, user_id: str, *, saved_after: datetime) -> BriefDraft | None:
    """The agent's draft if it is younger than `saved_after` and its view was never submitted; an
    older or filed one is deleted on the way (the tick purges the rest)."""
    row = session.get(BriefDraft, (team_id, user_id))
    if row is None:
        return None
    filed = session.exec(select(BriefIntake.view_id).where(BriefIntake.view_id == row.view_id)).first() is not None
    if row.saved_at <= saved_after or filed:
        session.delete(row)
        return None
    return row


def adopt(session: Session, team_id: str, user_id: str, view_id: str) -> None:
    """The draft now lives in `view_id` (the agent continued it there): filing that view deletes it."""
    session.execute(update(_TABLE).where(_TABLE.c.team_id == team_id, _TABLE.c.user_id == user_id).values(view_id=view_id))


def delete(session: Session, team_id: str, user_id: str) -> bool:
    return bool(session.execute(_TABLE.delete().where(_TABLE.c.team_id == team_id, _TABLE.c.user_id == user_id)).rowcount)


def delete_for_view(session: Session, view_id: str) -> bool:
    """The brief of `view_id` was filed: its draft is done with."""
    return bool(session.execute(_TABLE.delete().where(_TABLE.c.view_id == view_id)).rowcount)


def purge(session: Session, *, saved_after: datetime) -> int:
    """Delete every draft not younger than `saved_after` (expired, as in get); the number deleted."""
    return int(session.execute(_TABLE.delete().where(_TABLE.c.saved_at <= saved_after)).rowcount or 0)

"""Paused workspaces: Slack no longer serves the app there (uninstalled, token revoked).

A row in `paused_workspace` holds the workspace's reminders and pending deliveries back: the claim
queries (bot.storage.follow_ups.claim_due, bot.storage.escalations.due_deliveries) leave them out,
so nothing is sent, retried or counted failed for it, and nothing is lost. Deleting the row (a
reinstall, or a probe that finds the token working again) lets the next tick take them up.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from bot.storage.models import Escalation, PausedWorkspace


def pause(session: Session, team_id: str, *, reason: str, at: datetime, probe_at: datetime | None) -> None:
    """Pause the workspace (again: the reason and the next probe are the latest; paused_at stays the first)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(PausedWorkspace.__table__).values(team_id=team_id, reason=reason, paused_at=at, probe_at=probe_at)
    session.execute(insert.on_conflict_do_update(index_elements=["team_id"], set_={"reason": reason, "probe_at": probe_at}))


def resume(session: Session, team_id: str) -> bool:
    """Unpause; True when it was paused."""
    return bool(session.execute(delete(PausedWorkspace).where(PausedWorkspace.team_id == team_id)).rowcount)


def paused(session: Session) -> dict[str, PausedWorkspace]:
    return {row.team_id: row for row in session.exec(select(PausedWorkspace))}


def claim_probes(session: Session, *, now: datetime, next_at: datetime, all_due: bool = False) -> list[str]:
    """The paused workspaces to ask Slack about now (probe_at passed; with `all_due`, every one that
    has a probe time), each moved to `next_at` in the same statement, so one replica asks, not each."""
    when = PausedWorkspace.probe_at.is_not(None) if all_due else PausedWorkspace.probe_at <= now
    rows = session.execute(update(PausedWorkspace).where(when).values(probe_at=next_at).returning(PausedWorkspace.team_id))
    return sorted(team for (team,) in rows)


def not_paused(team_id: ColumnElement) -> ColumnElement[bool]:
    """A WHERE clause: this team column's workspace is not paused. The subquery is not correlated: it
    runs once per statement, on a table that is nearly always empty."""
    return team_id.not_in(select(PausedWorkspace.team_id))


def escalation_not_paused(escalation_id: ColumnElement) -> ColumnElement[bool]:
    """The same for a row that refers to its escalation (a follow-up timer)."""
    return escalation_id.not_in(select(Escalation.id).join(PausedWorkspace, PausedWorkspace.team_id == Escalation.team_id))

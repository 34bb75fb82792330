"""Slack events and one-shot submissions already handled: Slack retries an event it thinks was
lost, and a replayed or double-sent submission must act once. Kept a few days (the tick prunes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Exists, delete, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.storage.models import SlackEvent

VIEW_CLOSED = "closed:"  # + a view id: its view_closed, recorded by bot.slack.dedupe before any listener (bot.storage.drafts reads it)


def first_delivery_of_event(session: Session, event_id: str, *, team_id: str, now: datetime) -> bool:
    """Record a Slack event as handled; False if it was already (a retry, or another replica got it)."""
    try:
        with session.begin_nested():
            session.add(SlackEvent(event_id=event_id[:64], team_id=team_id[:32], received_at=now))
            session.flush()
        return True
    except IntegrityError:
        return False


def recorded(event_id: str) -> Exists:
    """Whether `event_id` was recorded, as a clause to use inside a statement."""
    return select(SlackEvent.event_id).where(SlackEvent.event_id == event_id).exists()


def prune_events(session: Session, *, before: datetime) -> int:
    """Forget handled events older than Slack's retry window (it retries for minutes, not days)."""
    return session.execute(delete(SlackEvent).where(SlackEvent.received_at < before)).rowcount

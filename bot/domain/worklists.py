"""A person's open briefs, a page at a time, as the App Home and /escalate list show them
(read by bot.storage.worklists, rendered by blocks.home)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Row:
    escalation_id: int
    number: int
    summary: str
    severity: str
    destination: str
    status: str
    since: datetime  # posted (or stored, if not yet posted)
    deadline_at: datetime
    next_checkin_at: datetime | None
    overdue: bool
    channel_id: str
    message_ts: str | None
    agent_user_id: str
    receiving_owner_id: str | None
    incomplete: bool = False  # posted with *Post now*, not completed yet (bot.domain.complete_brief)


@dataclass(frozen=True)
class Page:
    rows: tuple[Row, ...]
    total: int
    overdue: int
    offset: int
    limit: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.rows) < self.total

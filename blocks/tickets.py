"""The brief's tickets: status, priority, organisation and SLA from the ticketing system, and the
earlier escalations of the same ticket. Pure: the caller hands in the data and link templates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from blocks.kit import Blocks
from blocks.text import escape, slack_date
from bot.domain.tickets import TicketSystem, linkify

MAX_EARLIER = 5


@dataclass(frozen=True)
class TicketLine:
    label: str  # #12345 | SUP-123
    system: str  # Zendesk | Jira
    url: str | None = None
    status: str | None = None
    priority: str | None = None
    organization: str | None = None
    sla_name: str | None = None
    sla_due_at: datetime | None = None
    unavailable: bool = False  # the system did not answer in time when the brief was posted


@dataclass(frozen=True)
class EarlierLine:
    ticket: str
    ref: str  # ESC-7
    status: str
    created_at: datetime


@dataclass(frozen=True)
class TicketsView:
    templates: dict[TicketSystem, str] = field(default_factory=dict)
    tickets: list[TicketLine] = field(default_factory=list)
    earlier: list[EarlierLine] = field(default_factory=list)


def linked(mrkdwn: str, view: TicketsView | None) -> str:
    """Escaped text with its bare ticket references turned into links."""
    return linkify(mrkdwn, view.templates) if view else mrkdwn


def ticket_blocks(view: TicketsView | None, *, now: datetime | None = None) -> Blocks:
    """One context line per ticket and one for earlier escalations; nothing without tickets."""
    if view is None or not view.tickets:
        return []
    lines = [_ticket_line(t, now) for t in view.tickets]
    if view.earlier:
        shown = view.earlier[:MAX_EARLIER]
        more = len(view.earlier) - len(shown)
        earlier = ", ".join(f"{e.ref} ({escape(e.ticket)}, {slack_date(e.created_at, '{date_short}')}, {e.status.lower()})" for e in shown)
        lines.append(f":repeat: *Escalated before for this ticket:* {earlier}" + (f" and {more} more" if more > 0 else ""))
    text = "\n".join(lines)[:3000]
    return [{"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}]


def _ticket_line(t: TicketLine, now: datetime | None) -> str:
    name = f"<{t.url}|{escape(t.label)}>" if t.url else escape(t.label)
    parts = [f":ticket: *{t.system} {name}*"]
    if t.status:
        parts.append(f"Status: {escape(t.status)}")
    if t.priority:
        parts.append(f"Priority: {escape(t.priority)}")
    if t.organization:
        parts.append(f"Organisation: {escape(t.organization)}")
    if t.sla_due_at:
        breached = now is not None and t.sla_due_at <= now
        what = escape(t.sla_name or "SLA")
        parts.append(f":red_circle: {what} breached {slack_date(t.sla_due_at)}" if breached else f"{what} due {slack_date(t.sla_due_at)}")
    if t.unavailable:
        parts.append(f"_{t.system} did not answer in time; details not shown_")
    return " · ".join(parts)

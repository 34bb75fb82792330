"""What the brief shows about a linked ticket, whichever system it came from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class TicketFacts:
    status: str | None = None
    priority: str | None = None
    organization: str | None = None
    sla_name: str | None = None  # the SLA metric due first (Zendesk metric, JSM SLA name)
    sla_due_at: datetime | None = None  # when it breaches (aware UTC)
    sla_breached: bool = False

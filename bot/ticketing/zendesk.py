"""Zendesk Support, through its documented REST API (Tickets API).

- Show ticket, with side-loads: GET /api/v2/tickets/{id}.json?include=organizations,slas
  https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/#show-ticket
  https://developer.zendesk.com/documentation/ticketing/using-the-zendesk-api/side_loading/
  (`organizations` adds a top-level list; `slas` adds ticket.slas.policy_metrics[], each with
  metric, stage (active | paused | achieved) and breach_at; SLA policies:
  https://developer.zendesk.com/api-reference/ticketing/business-rules/sla_policies/)
- Internal note: PUT /api/v2/tickets/{id}.json with {"ticket": {"comment": {"body": …, "public": false}}}
  https://developer.zendesk.com/rest_api/docs/support/ticket_comments/ ("Ticket comments
  are created … by including a comment object in the ticket object when … updating the ticket";
  public false makes it an internal note)
- Auth: basic auth with "{email}/token" as the user and the API token as the password
  https://developer.zendesk.com/api-reference/introduction/security-and-auth/#api-token
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.ticketing.facts import TicketFacts
from bot.ticketing.http import TicketingError, basic_auth, request_json


class ZendeskClient:
    system = "zendesk"

    def __init__(self, base_url: str, email: str, api_token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._auth = basic_auth(f"{email}/token", api_token)

    def fetch(self, ticket_id: str, *, timeout: float) -> TicketFacts:
        url = f"{self.base_url}/api/v2/tickets/{int(ticket_id)}.json?include=organizations,slas"
        body = request_json("GET", url, headers={"Authorization": self._auth}, timeout=timeout, what=f"Zendesk #{ticket_id}").body or {}
        ticket = body.get("ticket") or {}
        if not ticket:
            raise TicketingError(f"Zendesk #{ticket_id}: no ticket in the answer")
        org_name = next((o.get("name") for o in body.get("organizations") or [] if o.get("id") == ticket.get("organization_id")), None)
        name, due = _first_breach(((ticket.get("slas") or {}).get("policy_metrics")) or [])
        # Breached or not is judged against the bot's clock by the caller (sla_prefill, the brief).
        return TicketFacts(status=ticket.get("status"), priority=ticket.get("priority"), organization=org_name, sla_name=name, sla_due_at=due)

    def add_note(self, ticket_id: str, text: str, *, timeout: float) -> None:
        url = f"{self.base_url}/api/v2/tickets/{int(ticket_id)}.json"
        payload = {"ticket": {"comment": {"body": text, "public": False}}}
        request_json("PUT", url, headers={"Authorization": self._auth}, payload=payload, timeout=timeout, what=f"Zendesk #{ticket_id}")


def _first_breach(metrics: list[dict]) -> tuple[str | None, datetime | None]:
    """The active SLA metric that breaches first (achieved or paused ones have no running clock)."""
    best: tuple[str | None, datetime | None] = (None, None)
    for metric in metrics:
        if metric.get("stage") not in (None, "active") or not metric.get("breach_at"):
            continue
        due = parse_time(metric["breach_at"])
        if due and (best[1] is None or due < best[1]):
            best = (str(metric.get("metric") or "SLA").replace("_", " "), due)
    return best


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)

"""Jira Cloud and Jira Service Management, through their documented REST APIs.

- Get issue: GET /rest/api/3/issue/{key}?fields=status,priority[,<organizations field>]
  https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-get
- Add comment: POST /rest/api/3/issue/{key}/comment, body in Atlassian Document Format
  https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comments/#api-rest-api-3-issue-issueidorkey-comment-post
  https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/
  The comment's `properties` carry sd.public.comment = {"internal": true}: the property Jira Service
  Management reads to keep a comment internal (agents only); other projects just store it. (The
  comment schema's `properties` field is on the page above; JSM's own API would take public: false.)
- SLAs (JSM): GET /rest/servicedeskapi/request/{key}/sla → values[].ongoingCycle.breachTime
  https://developer.atlassian.com/cloud/jira/service-desk/rest/api-group-request/#api-rest-servicedeskapi-request-issueidorkey-sla-get
  404 for an issue outside a service project: no SLA then, not an error.
- Auth: basic auth with the account email and an API token
  https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/
- The requester's organisation is JSM's "Organizations" custom field, whose id differs per site
  (JIRA_ORGANIZATION_FIELD, e.g. customfield_10002): its value is a list of {"name": …}.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from bot.ticketing.facts import TicketFacts
from bot.ticketing.http import TicketingError, basic_auth, request_json
from bot.ticketing.zendesk import parse_time


class JiraClient:
    system = "jira"

    def __init__(self, base_url: str, email: str, api_token: str, *, organization_field: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.organization_field = organization_field
        self._auth = basic_auth(email, api_token)

    def fetch(self, key: str, *, timeout: float) -> TicketFacts:
        fields = ["status", "priority"] + ([self.organization_field] if self.organization_field else [])
        url = f"{self.base_url}/rest/api/3/issue/{quote(key)}?fields={','.join(fields)}"
        body = request_json("GET", url, headers={"Authorization": self._auth}, timeout=timeout, what=f"Jira {key}").body or {}
        f = body.get("fields") or {}
        orgs = f.get(self.organization_field) if self.organization_field else None
        organization = ", ".join(o.get("name", "") for o in orgs if isinstance(o, dict) and o.get("name")) if isinstance(orgs, list) else None
        name, due, breached = self._sla(key, timeout=timeout)
        return TicketFacts(
            status=(f.get("status") or {}).get("name"),
            priority=(f.get("priority") or {}).get("name"),
            organization=organization or None,
            sla_name=name,
            sla_due_at=due,
            sla_breached=breached,
        )

    def _sla(self, key: str, *, timeout: float) -> tuple[str | None, datetime | None, bool]:
        url = f"{self.base_url}/rest/servicedeskapi/request/{quote(key)}/sla"
        try:
            body = request_json("GET", url, headers={"Authorization": self._auth}, timeout=timeout, what=f"Jira {key} SLA").body or {}
        except TicketingError as exc:
            if exc.status in (403, 404):  # not a service project, or no agent licence: no SLA to show
                return None, None, False
            raise
        best: tuple[str | None, datetime | None, bool] = (None, None, False)
        for sla in body.get("values") or []:
            cycle = sla.get("ongoingCycle") or {}
            if not cycle or cycle.get("paused"):
                continue
            due = parse_time((cycle.get("breachTime") or {}).get("iso8601"))
            if due and (best[1] is None or due < best[1]):
                best = (sla.get("name"), due, bool(cycle.get("breached")))
        return best

    def add_note(self, key: str, text: str, *, timeout: float) -> None:
        url = f"{self.base_url}/rest/api/3/issue/{quote(key)}/comment"
        payload = {"body": adf(text), "properties": [{"key": "sd.public.comment", "value": {"internal": True}}]}
        request_json("POST", url, headers={"Authorization": self._auth}, payload=payload, timeout=timeout, what=f"Jira {key}")


def adf(text: str) -> dict:
    """Plain text as an Atlassian Document Format document: one paragraph per non-empty line."""
    paragraphs = [{"type": "paragraph", "content": [{"type": "text", "text": line}]} for line in text.splitlines() if line.strip()]
    return {"type": "doc", "version": 1, "content": paragraphs or [{"type": "paragraph", "content": []}]}

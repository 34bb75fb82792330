"""Stand-ins for Zendesk, Jira (with JSM SLAs) and a webhook receiver, on 127.0.0.1.

Each one checks what a real one would refuse (path, auth header, content type, body shape) and
records every request; a request the real API would reject is answered like the real one would
(401/400/404) and also recorded as a violation, so tests fail on shape errors even if the bot
copes with the error. Fault injection: `fail_next(n, status)`, `fail_always(status)`, `delay`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    raw: bytes
    status: int = 0


@dataclass
class _Faults:
    fail_next: int = 0
    fail_status: int = 500
    always: int | None = None
    delay: float = 0.0


class StandIn:
    """A threaded HTTP server; subclasses implement `route` and `expected_auth`."""

    name = "stand-in"

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        self.faults = _Faults()
        self._lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args) -> None:  # quiet
                pass

            def _handle(self) -> None:
                stand_in._serve(self)

            do_GET = do_POST = do_PUT = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- fault injection ---

    def fail_next(self, n: int, status: int = 500) -> None:
        self.faults.fail_next, self.faults.fail_status = n, status

    def fail_always(self, status: int | None = 500) -> None:
        self.faults.always = status

    def delay(self, seconds: float) -> None:
        self.faults.delay = seconds

    # --- what was received ---

    def calls(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if (method is None or r.method == method) and (path is None or re.fullmatch(path, r.path))]

    def assert_no_violations(self) -> None:
        assert not self.violations, f"{self.name} saw requests the real API would refuse: {self.violations}"

    # --- serving ---

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        raw = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        rec = Recorded(h.command, parts.path, parse_qs(parts.query), {k.lower(): v for k, v in h.headers.items()}, body, raw)
        status, answer = self._answer(rec)
        rec.status = status
        with self._lock:
            self.requests.append(rec)
        if self.faults.delay:
            time.sleep(self.faults.delay)
        data = json.dumps(answer).encode() if answer is not None else b""
        try:
            h.send_response(status)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            pass

    def _answer(self, rec: Recorded) -> tuple[int, Any]:
        auth_problem = self.check_auth(rec)
        if auth_problem:
            self.violations.append(f"{rec.method} {rec.path}: {auth_problem}")
            return 401, {"error": "Couldn't authenticate you"}
        if rec.body is not None and not rec.headers.get("content-type", "").startswith("application/json"):
            self.violations.append(f"{rec.method} {rec.path}: body without Content-Type application/json")
            return 415, {"error": "unsupported media type"}
        if self.faults.always is not None:
            return self.faults.always, {"error": "injected"}
        with self._lock:
            if self.faults.fail_next > 0:
                self.faults.fail_next -= 1
                return self.faults.fail_status, {"error": "injected"}
        try:
            return self.route(rec)
        except _Refused as exc:
            self.violations.append(f"{rec.method} {rec.path}: {exc}")
            return exc.status, {"errors": str(exc)}

    def check_auth(self, rec: Recorded) -> str | None:
        return None

    def route(self, rec: Recorded) -> tuple[int, Any]:  # pragma: no cover - overridden
        raise NotImplementedError


class _Refused(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _basic(user: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


# --- Zendesk -------------------------------------------------------------------------------------


class FakeZendesk(StandIn):
    name = "stand-in Zendesk"
    EMAIL, TOKEN = "agent@acme.example", "zd-token-123"

    def __init__(self) -> None:
        super().__init__()
        self.tickets: dict[int, dict] = {}
        self.organizations: dict[int, dict] = {}
        self.notes: list[tuple[int, dict]] = []

    def add_ticket(
        self,
        ticket_id: int,
        *,
        status: str = "open",
        priority: str | None = "high",
        organization: str | None = None,
        sla_breach_at: str | None = None,
        metric: str = "next_reply_time",
    ) -> None:
        org_id = None
        if organization:
            org_id = 9000 + len(self.organizations)
            self.organizations[org_id] = {"id": org_id, "name": organization}
        ticket: dict[str, Any] = {"id": ticket_id, "status": status, "priority": priority, "organization_id": org_id, "subject": f"Ticket {ticket_id}"}
        ticket["_slas"] = [{"breach_at": sla_breach_at, "stage": "active", "metric": metric, "hours": 8}] if sla_breach_at else []
        self.tickets[ticket_id] = ticket

    def check_auth(self, rec: Recorded) -> str | None:
        # Zendesk API tokens: basic auth, user "{email}/token", password the token.
        if rec.headers.get("authorization") != _basic(f"{self.EMAIL}/token", self.TOKEN):
            return f"bad Authorization header {rec.headers.get('authorization')!r}"
        return None

    def route(self, rec: Recorded) -> tuple[int, Any]:
        m = re.fullmatch(r"/api/v2/tickets/(\d+)\.json", rec.path)
        if not m:
            raise _Refused(f"no such endpoint {rec.path}", 404)
        ticket = self.tickets.get(int(m.group(1)))
        if ticket is None:
            return 404, {"error": "RecordNotFound", "description": "Not found"}
        if rec.method == "GET":
            include = ",".join(rec.query.get("include", [])).split(",")
            out = {k: v for k, v in ticket.items() if not k.startswith("_")}
            answer: dict[str, Any] = {"ticket": out}
            if "slas" in include:
                out["slas"] = {"policy_metrics": ticket["_slas"]}
            if "organizations" in include:
                org = self.organizations.get(ticket["organization_id"])
                answer["organizations"] = [org] if org else []
            return 200, answer
        if rec.method == "PUT":
            comment = ((rec.body or {}).get("ticket") or {}).get("comment")
            if not isinstance(comment, dict) or not isinstance(comment.get("body"), str) or not comment["body"].strip():
                raise _Refused("PUT needs {'ticket': {'comment': {'body': <text>, ...}}}", 422)
            if comment.get("public") is not False:
                raise _Refused("a note from the bot must be internal: comment.public must be false")
            self.notes.append((ticket["id"], comment))
            return 200, {"ticket": {k: v for k, v in ticket.items() if not k.startswith("_")}, "audit": {"events": [{"type": "Comment", "public": False}]}}
        raise _Refused(f"method {rec.method} not allowed", 405)


# --- Jira (platform v3 + JSM service desk API) ------------------------------------------------------


class FakeJira(StandIn):
    name = "stand-in Jira"
    EMAIL, TOKEN = "agent@acme.example", "jira-token-456"
    ORG_FIELD = "customfield_10002"

    def __init__(self) -> None:
        super().__init__()
        self.issues: dict[str, dict] = {}
        self.slas: dict[str, list[dict]] = {}
        self.comments: list[tuple[str, dict]] = []

    def add_issue(
        self,
        key: str,
        *,
        status: str = "In Progress",
        priority: str = "High",
        organization: str | None = None,
        sla_breach_at: str | None = None,
        sla_name: str = "Time to resolution",
        service_desk: bool = True,
    ) -> None:
        fields: dict[str, Any] = {
            "status": {"name": status, "statusCategory": {"key": "indeterminate"}},
            "priority": {"name": priority, "id": "2"},
            "summary": f"Issue {key}",
            self.ORG_FIELD: [{"id": 1, "name": organization}] if organization else [],
        }
        self.issues[key] = {"id": str(10000 + len(self.issues)), "key": key, "fields": fields}
        if service_desk:
            cycle = (
                {
                    "breached": False,
                    "paused": False,
                    "withinCalendarHours": True,
                    "breachTime": {"iso8601": sla_breach_at, "epochMillis": 0, "friendly": "soon"},
                }
                if sla_breach_at
                else None
            )
            self.slas[key] = [{"id": "1", "name": sla_name, **({"ongoingCycle": cycle} if cycle else {}), "completedCycles": []}]

    def check_auth(self, rec: Recorded) -> str | None:
        if rec.headers.get("authorization") != _basic(self.EMAIL, self.TOKEN):
            return f"bad Authorization header {rec.headers.get('authorization')!r}"
        return None

    def route(self, rec: Recorded) -> tuple[int, Any]:
        if m := re.fullmatch(r"/rest/api/3/issue/([A-Z][A-Z0-9_]+-\d+)", rec.path):
            if rec.method != "GET":
                raise _Refused(f"method {rec.method} not allowed", 405)
            issue = self.issues.get(m.group(1))
            if issue is None:
                return 404, {"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}
            wanted = ",".join(rec.query.get("fields", [])).split(",")
            return 200, {**issue, "fields": {k: v for k, v in issue["fields"].items() if k in wanted}}
        if m := re.fullmatch(r"/rest/api/3/issue/([A-Z][A-Z0-9_]+-\d+)/comment", rec.path):
            if rec.method != "POST":
                raise _Refused(f"method {rec.method} not allowed", 405)
            if m.group(1) not in self.issues:
                return 404, {"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}
            self._check_adf((rec.body or {}).get("body"))
            props = (rec.body or {}).get("properties") or []
            if {"key": "sd.public.comment", "value": {"internal": True}} not in props:
                raise _Refused("a note from the bot must be internal: properties needs sd.public.comment {internal: true}")
            self.comments.append((m.group(1), rec.body))
            return 201, {"id": str(len(self.comments)), "body": rec.body["body"], "jsdPublic": False}
        if m := re.fullmatch(r"/rest/servicedeskapi/request/([A-Z][A-Z0-9_]+-\d+)/sla", rec.path):
            if m.group(1) not in self.slas:
                return 404, {"errorMessage": "The request could not be found", "i18nErrorMessage": {}}
            values = self.slas[m.group(1)]
            return 200, {"size": len(values), "start": 0, "limit": 50, "isLastPage": True, "values": values}
        raise _Refused(f"no such endpoint {rec.path}", 404)

    @staticmethod
    def _check_adf(doc: Any) -> None:
        # v3 comment bodies must be Atlassian Document Format, not a string (v2's format).
        if not isinstance(doc, dict) or doc.get("type") != "doc" or doc.get("version") != 1 or not isinstance(doc.get("content"), list):
            raise _Refused("comment body must be an ADF document {type: doc, version: 1, content: [...]}")
        for node in doc["content"]:
            if node.get("type") != "paragraph":
                raise _Refused(f"unexpected top-level ADF node {node.get('type')!r}")
            for inline in node.get("content", []):
                if inline.get("type") != "text" or not inline.get("text"):
                    raise _Refused("ADF text nodes need non-empty text")


# --- webhook receiver ----------------------------------------------------------------------------


class FakeWebhook(StandIn):
    name = "stand-in webhook receiver"
    SECRET = "whsec-0123456789abcdef"
    PATH = "/hooks/escalations"

    @property
    def url(self) -> str:
        return self.base_url + self.PATH

    def route(self, rec: Recorded) -> tuple[int, Any]:
        if rec.method != "POST" or rec.path != self.PATH:
            raise _Refused(f"{rec.method} {rec.path}", 404)
        ts = rec.headers.get("x-escalation-timestamp", "")
        expected = "sha256=" + hmac.new(self.SECRET.encode(), ts.encode() + b"." + rec.raw, hashlib.sha256).hexdigest()
        if not ts.isdigit() or not hmac.compare_digest(expected, rec.headers.get("x-escalation-signature", "")):
            raise _Refused("bad signature", 401)
        if not rec.headers.get("x-escalation-delivery"):
            raise _Refused("no delivery id")
        return 204, None

    def entries(self) -> list[dict]:
        return [r.body for r in self.calls("POST") if r.status == 204]

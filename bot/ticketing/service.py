"""Ticketing use cases: link a brief's tickets, fetch their facts before posting, and send the
outbox (ticket notes, webhook calls) from the scheduler tick.

Nothing here runs in Slack's request path. Facts are fetched after ack, in parallel, within
`FETCH_BUDGET` seconds: a slow or failing system costs the post at most that, and the brief goes
out without its facts. Notes and webhook calls are outbox rows, written with their log entry and
sent by the tick (claimed with a lease, retried with backoff); one that gives up writes
"ticket update failed" in the brief's running log.
"""

from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from blocks.tickets import EarlierLine, TicketLine, TicketsView
from bot.clock import Clock
from bot.domain.brief import Brief, Destination
from bot.domain.status import EscalationStatus, LogKind
from bot.domain.tickets import TicketHosts, TicketRef, TicketSystem, find_refs, ticket_url
from bot.storage import outbox as store
from bot.storage import running_log
from bot.storage.db import Database
from bot.ticketing.facts import TicketFacts
from bot.ticketing.http import TicketingError
from bot.ticketing.jira import JiraClient
from bot.ticketing.webhook import WebhookSender
from bot.ticketing.zendesk import ZendeskClient

log = logging.getLogger(__name__)

FETCH_BUDGET = 2.0  # seconds a post may wait for ticket facts
SEND_TIMEOUT = 10.0  # one note or webhook call (in the tick, never in a Slack request)
LEASE = timedelta(minutes=2)  # longer than a batch of sends; a crashed worker's rows free up after it
BATCH = 50
# Waits after the 1st, 2nd, … failed attempt; after the last one the work is given up.
BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(minutes=30), timedelta(hours=2))
MAX_ATTEMPTS = len(BACKOFF) + 1


@dataclass
class DrainReport:
    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    gave_up: int = 0
    errors: list[str] = field(default_factory=list)


class Ticketing:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        hosts: TicketHosts,
        templates: dict[TicketSystem, str],
        zendesk: ZendeskClient | None = None,
        jira: JiraClient | None = None,
        webhook: WebhookSender | None = None,
        owner: str = "ticketing",
    ) -> None:
        self.db = db
        self.clock = clock
        self.hosts = hosts
        self.templates = templates
        self.clients = {c.system: c for c in (zendesk, jira) if c is not None}
        self.webhook = webhook
        self.owner = owner
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="ticket-fetch")

    @classmethod
    def from_settings(cls, settings, db: Database, clock: Clock, *, owner: str = "ticketing") -> Ticketing:
        zendesk = ZendeskClient(settings.zendesk_url, settings.zendesk_email, settings.zendesk_api_token) if settings.zendesk_enabled else None
        jira = (
            JiraClient(settings.jira_base_url, settings.jira_email, settings.jira_api_token, organization_field=settings.jira_organization_field)
            if settings.jira_enabled
            else None
        )
        webhook = WebhookSender(settings.webhook_url, settings.webhook_secret) if settings.webhook_url else None
        return cls(
            db,
            clock,
            hosts=TicketHosts.from_urls(settings.zendesk_url, settings.jira_base_url),
            templates=settings.ticket_templates,
            zendesk=zendesk,
            jira=jira,
            webhook=webhook,
            owner=owner,
        )

    @property
    def sinks(self) -> frozenset[str]:
        """Where log entries are forwarded: the enabled ticketing systems and the webhook."""
        return frozenset(self.clients) | ({store.WEBHOOK} if self.webhook else set())

    # --- references ------------------------------------------------------------------------------

    def refs_in(self, brief: Brief) -> list[TicketRef]:
        text = "\n".join([brief.summary, brief.narrative, *brief.references])
        return find_refs(text, self.hosts)

    def link(self, session, escalation, brief: Brief) -> None:
        """Record the brief's tickets, in the transaction that stores the brief."""
        refs = self.refs_in(brief)
        if refs:
            store.link_tickets(session, escalation, refs, now=self.clock.now())

    # --- facts -----------------------------------------------------------------------------------

    def refresh_facts(self, escalation_id: int, *, budget: float = FETCH_BUDGET) -> None:
        """Ask each enabled system about the brief's tickets, all at once, waiting at most `budget`."""
        with self.db.session() as s:
            links = [(link.id, link.system, link.key) for link in store.ticket_links(s, escalation_id) if link.system in self.clients]
        if not links:
            return
        futures = {self._pool.submit(self.clients[system].fetch, key, timeout=budget): (link_id, system, key) for link_id, system, key in links}
        done, late = wait(futures, timeout=budget)
        now = self.clock.now()
        with self.db.session() as s:
            for future, (link_id, system, key) in futures.items():
                if future in late:
                    log.info("%s %s: no answer within %s s; posting without its facts", system, key, budget)
                    store.save_facts(s, link_id, now=now, error=f"no answer within {budget:g} s")
                    continue
                try:
                    facts: TicketFacts = future.result()
                except TicketingError as exc:
                    log.warning("ticket facts for %s %s: %s", system, key, exc)
                    store.save_facts(s, link_id, now=now, error=str(exc))
                except Exception as exc:  # noqa: BLE001 - a vendor's odd answer must not stop the post
                    log.exception("ticket facts for %s %s failed", system, key)
                    store.save_facts(s, link_id, now=now, error=type(exc).__name__)
                else:
                    store.save_facts(
                        s,
                        link_id,
                        now=now,
                        status=facts.status,
                        priority=facts.priority,
                        organization=facts.organization,
                        sla_name=facts.sla_name,
                        sla_due_at=facts.sla_due_at,
                    )

    def facts_for(self, ref: TicketRef, *, budget: float = FETCH_BUDGET) -> TicketFacts | None:
        """One ticket's facts now (the modal's SLA pre-fill), or None if off, slow or failing."""
        client = self.clients.get(ref.system.value)
        if client is None:
            return None
        future = self._pool.submit(client.fetch, ref.key, timeout=budget)
        try:
            return future.result(timeout=budget)
        except Exception as exc:  # noqa: BLE001 - the form opens without the pre-fill
            log.info("no facts for %s: %s", ref.label, exc)
            return None

    def view(self, session, escalation_id: int) -> TicketsView:
        """What the brief shows about its tickets: pure data for blocks/."""
        lines = []
        for link in store.ticket_links(session, escalation_id):
            ref = TicketRef(TicketSystem(link.system), link.key)
            lines.append(
                TicketLine(
                    label=ref.label,
                    system=ref.system.label,
                    url=ticket_url(ref, self.templates),
                    status=link.status,
                    priority=link.priority,
                    organization=link.organization,
                    sla_name=link.sla_name,
                    sla_due_at=link.sla_due_at,
                    unavailable=bool(link.fetch_error) and link.status is None and link.system in self.clients,
                )
            )
        earlier = [
            EarlierLine(ticket=e.ticket.label, ref=e.ref, status=EscalationStatus(e.status).label, created_at=e.created_at)
            for e in store.earlier_escalations(session, escalation_id)
        ]
        return TicketsView(templates=self.templates, tickets=lines, earlier=earlier)

    # --- the outbox --------------------------------------------------------------------------------

    def drain(self) -> DrainReport:
        """Send what is due (called by every scheduler tick; replicas share the work through leases)."""
        report = DrainReport()
        now = self.clock.now()
        with self.db.session() as s:
            work = store.claim_outbox(s, now=now, owner=self.owner, lease=LEASE, limit=BATCH)
        report.claimed = len(work)
        for item in work:
            try:
                self._send(item, now)
            except TicketingError as exc:
                self._failed(item, str(exc), permanent=exc.permanent, report=report, now=now)
            except Exception as exc:  # noqa: BLE001 - one bad row must not stop the others
                log.exception("outbox %s failed", item.id)
                self._failed(item, f"{type(exc).__name__}: {exc}", permanent=False, report=report, now=now)
            else:
                with self.db.session() as s:
                    store.mark_delivered(s, item.id, owner=self.owner, now=self.clock.now())
                report.delivered += 1
        return report

    def _send(self, item: store.ClaimedWork, now: datetime) -> None:
        if item.sink == store.WEBHOOK:
            if self.webhook is None:
                raise TicketingError("the webhook is no longer configured", permanent=True)
            self.webhook.send(item.payload, delivery_id=str(item.id), timestamp=int(now.timestamp()), timeout=SEND_TIMEOUT)
            return
        client = self.clients.get(item.sink)
        if client is None:
            raise TicketingError(f"{item.sink} is no longer configured", permanent=True)
        client.add_note(item.target, note_text(item.payload), timeout=SEND_TIMEOUT)

    def _failed(self, item: store.ClaimedWork, error: str, *, permanent: bool, report: DrainReport, now: datetime) -> None:
        attempt = item.attempts + 1
        give_up = permanent or attempt >= MAX_ATTEMPTS
        retry_at = None if give_up else now + BACKOFF[attempt - 1]
        report.errors.append(f"{item.id}: {error}")
        with self.db.session() as s:
            store.mark_attempt_failed(s, item.id, owner=self.owner, error=error, retry_at=retry_at)
            if give_up:
                what = "Webhook call failed" if item.sink == store.WEBHOOK else "Ticket update failed"
                where = "" if item.sink == store.WEBHOOK else f" for {_label(item)}"
                kind = item.payload.get("entry", {}).get("kind", "?")
                tries = f"after {attempt} attempt{'s' if attempt > 1 else ''}"
                running_log.add_log(
                    s,
                    item.escalation_id,
                    actor=running_log.BOT_ACTOR,
                    kind=LogKind.SYNC_FAILED,
                    text=f"{what}{where} ({kind.replace('_', ' ')}), {tries}: {error}",
                    at=self.clock.now(),
                    data={"outbox_id": item.id, "sink": item.sink, "target": item.target},
                )
        if give_up:
            log.warning("outbox %s (%s %s) given up: %s", item.id, item.sink, item.target, error)
            report.gave_up += 1
        else:
            log.info("outbox %s (%s %s) attempt %s failed, retry at %s: %s", item.id, item.sink, item.target, attempt, retry_at, error)
            report.retrying += 1

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _label(item: store.ClaimedWork) -> str:
    system = TicketSystem(item.sink)
    return f"{system.label} {TicketRef(system, item.target).label}"


_HEADLINES = {
    LogKind.POSTED.value: "Escalated in Slack as {ref} ({severity}) to {destination}: {summary}",
    LogKind.ACKNOWLEDGED.value: "{ref} acknowledged by the receiving team",
    LogKind.SEVERITY_CHANGED.value: "{ref} severity changed",
    LogKind.DEESCALATED.value: "{ref} de-escalated",
    LogKind.RESOLVED.value: "{ref} resolved",
}


def note_text(payload: dict) -> str:
    """An internal note for the ticket: what happened, in plain text (no Slack markup)."""
    esc, entry = payload["escalation"], payload["entry"]
    if payload.get("details_withheld"):  # a security brief: what happened and where to look, nothing more
        status = EscalationStatus(esc["status"]).label.lower() if esc["status"] in {s.value for s in EscalationStatus} else esc["status"]
        lines = [f"{esc['ref']} ({str(esc['severity']).capitalize()}, {status}): {entry['kind'].replace('_', ' ')}. Details are kept in Slack."]
        if esc.get("link"):
            lines.append(esc["link"])
        lines.append(f"(escalation-brief running log, {entry['at'][:16].replace('T', ' ')} UTC)")
        return "\n".join(lines)
    fields = {"ref": esc["ref"], "severity": str(esc["severity"]).capitalize(), "destination": Destination(esc["destination"]).label, "summary": esc["summary"]}
    headline = _HEADLINES.get(entry["kind"], "{ref}: " + entry["kind"].replace("_", " ")).format(**fields)
    lines = [headline]
    if entry.get("text") and entry["kind"] != LogKind.POSTED.value:
        lines.append(plain(entry["text"]))
    for key in ("lessons", "lessons_learned", "resolution", "reason"):
        value = (entry.get("data") or {}).get(key)
        if isinstance(value, str) and value.strip() and value not in entry.get("text", ""):
            lines.append(f"{key.replace('_', ' ').capitalize()}: {plain(value)}")
    lines.append(f"(escalation-brief running log, {entry['at'][:16].replace('T', ' ')} UTC)")
    return "\n".join(lines)


def plain(mrkdwn: str) -> str:
    """Slack markup to plain text: <@U1> → @U1, <#C1> → #C1, <url|label> → label (url)."""
    text = re.sub(r"<@([UW][A-Z0-9]+)>", r"@\1", mrkdwn)
    text = re.sub(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>", lambda m: "#" + (m.group(2) or m.group(1)), text)
    text = re.sub(r"<(https?://[^|>]+)\|([^>]+)>", r"\2 (\1)", text)
    text = re.sub(r"<(https?://[^>]+)>", r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")

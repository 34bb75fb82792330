"""One scheduler tick: claim what is due, send it, advance it. Safe with any number of workers.

APScheduler is only the clock that calls `Ticker.tick`; the schedule is the follow_up table. A
period is recorded in the running log (unique per follow-up and due time) before its nudge is
sent, so neither a second worker nor a retry after a crash can send it twice.
"""

from __future__ import annotations

import contextvars
import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from blocks import followup as views
from bot.clock import Clock
from bot.backoff import UNREADABLE, maybe_posted
from bot.domain.brief import Destination, Severity, format_ref
from bot.domain.cadence import Cadence
from bot.escalations import Escalations
from bot.followthrough.plan import OVERDUE, RUNS_IN, fire
from bot.slack.gateway import NUDGE_EVENT_TYPE, SlackCallFailed, SlackGateway
from bot.slack.teams import current_team
from bot.storage import queries
from bot.storage.db import Database
from bot.storage.models import FollowUp, FollowUpKind, LogKind

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)  # longer than one batch of sends; a crashed worker's rows free up after it
BATCH = 200
EVENT_MEMORY = timedelta(days=1)  # handled Slack event ids kept this long (Slack retries for minutes)


@dataclass
class TickReport:
    claimed: int = 0
    sent: int = 0
    skipped: int = 0  # period already handled elsewhere, or the escalation no longer runs this timer
    failed: int = 0
    delivered: int = 0  # pending briefs posted by their automatic retry
    errors: list[str] = field(default_factory=list)
    outbox: object = None  # bot.ticketing.service.DrainReport, when ticketing is on


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Ticker:
    def __init__(self, db: Database, gateway: SlackGateway, clock: Clock, escalations: Escalations, cadences: dict[Severity, Cadence], *, owner: str | None = None, ticketing=None) -> None:
        self.db = db
        self.gateway = gateway
        self.clock = clock
        self.escalations = escalations
        self.cadences = cadences
        self.owner = owner or worker_id()
        self.ticketing = ticketing  # its outbox (ticket notes, webhook) is sent on the same tick

    def tick(self) -> TickReport:
        report = TickReport()
        now = self.clock.now()
        report.delivered = self.escalations.retry_due()  # briefs still pending delivery, when due
        with self.db.session() as s:
            queries.prune_events(s, before=now - EVENT_MEMORY)
            claimed = queries.claim_due(s, now=now, owner=self.owner, lease=LEASE, limit=BATCH)
        report.claimed = len(claimed)
        for item in claimed:
            try:
                self._one(item, now, report)
            except Exception as exc:  # noqa: BLE001 - one bad row must not stop the others
                log.exception("follow-up %s failed", item.id)
                report.failed += 1
                report.errors.append(f"{item.id}: {exc}")
                with self.db.session() as s:
                    queries.release(s, item, owner=self.owner)
        if self.ticketing is not None:
            try:
                report.outbox = self.ticketing.drain()
            except Exception:  # noqa: BLE001 - ticketing never stops the follow-through
                log.exception("outbox drain failed")
        return report

    def _one(self, item: queries.Claimed, now: datetime, report: TickReport) -> None:
        # _nudge sets the brief's workspace (its token, with several workspaces) once it has read the
        # row; a copied context keeps that setting from leaking into the next follow-up.
        contextvars.copy_context().run(self._nudge, item, now, report)

    def _nudge(self, item: queries.Claimed, now: datetime, report: TickReport) -> None:
        kind = FollowUpKind(item.kind)
        with self.db.session() as s:
            row = queries.get_escalation(s, item.escalation_id)
            follow_up = s.get(FollowUp, item.id)
            current_team.set(row.team_id if row is not None else None)
            if row is None or follow_up is None or kind not in RUNS_IN.get(row.status, set()):
                queries.advance(s, item, owner=self.owner, next_due_at=None, stage=item.stage)  # nothing to nudge, ever
                report.skipped += 1
                return
            cadence = self.cadences[Severity(row.severity)]
            firing = fire(kind, stage=item.stage, due_at=item.due_at, anchor=follow_up.anchor_at, now=now, cadence=cadence, tz=row.agent_tz,
                          posted_at=row.posted_at or row.created_at, deadline=row.deadline_at)
            ref = format_ref(row.number)
            last_customer_update = queries.last_log_at(s, row.id, LogKind.CUSTOMER_UPDATE)
            security = row.destination == Destination.SECURITY.value
            text, blocks, channel, thread_ts = self._compose(kind, firing.stage, row, ref, cadence, item, now, last_customer_update, security=security)
            # The period's log entry is written before sending. One left "unconfirmed" by a send
            # whose answer never came means: look for that nudge in Slack before sending it again.
            entry = queries.period_entry(s, item)
            unsure = entry is not None and bool((entry.data or {}).get("unconfirmed"))
            handled = not unsure if entry is not None else not queries.record_period(s, item, text=text, at=now, data={"kind": kind.value, "stage": firing.stage})
            if handled:  # sent by another worker or an earlier tick
                queries.advance(s, item, owner=self.owner, next_due_at=firing.next_due_at, stage=firing.next_stage)
                report.skipped += 1
                return
            agent, brief_channel = row.agent_user_id, row.channel_id
        key = {"follow_up_id": item.id, "due_at": item.due_at.isoformat()}
        try:
            found = self._already_sent(channel, key, thread_ts) if unsure else None
            if found is None:
                if security and kind is FollowUpKind.CHECKIN:  # the agent may not be in the security channel
                    text, blocks = self._with_link(text, blocks, brief_channel, row.message_ts)
                self.gateway.post_message(channel, text=text, blocks=blocks, thread_ts=thread_ts, metadata={"event_type": NUDGE_EVENT_TYPE, "event_payload": key})
        except SlackCallFailed as exc:
            log.warning("%s %s nudge not sent: %s (will retry)", ref, kind.value, exc.error)
            with self.db.session() as s:
                if unsure or maybe_posted(exc.error):
                    queries.mark_period_unconfirmed(s, item)  # it may be in Slack already: check first next time
                else:
                    queries.forget_period(s, item)
                queries.release(s, item, owner=self.owner)
            report.failed += 1
            return
        if kind is FollowUpKind.ACK:  # the agent hears it too; best effort, the period is sent
            dm_text, dm_blocks = views.ack_dm(ref=ref, channel_id=brief_channel, waited=self._waited(item, row, now))
            try:
                self.gateway.post_message(agent, text=dm_text, blocks=dm_blocks)
            except SlackCallFailed as exc:
                log.warning("%s ack DM to %s not sent: %s", ref, agent, exc.error)
        with self.db.session() as s:
            if unsure:
                queries.confirm_period(s, item)
            queries.advance(s, item, owner=self.owner, next_due_at=firing.next_due_at, stage=firing.next_stage)
            if kind is FollowUpKind.DEADLINE:
                escalation = queries.get_escalation(s, item.escalation_id)
                escalation.deadline_state = "breached" if firing.stage == "breach" else "at_risk"
                s.add(escalation)
        report.sent += 1
        self.escalations.refresh(item.escalation_id)  # next check-in due, deadline state

    def _already_sent(self, channel: str, key: dict, thread_ts: str | None) -> tuple[str, str] | None:
        try:
            return self.gateway.find_posted(channel, NUDGE_EVENT_TYPE, key, thread_ts=thread_ts)
        except SlackCallFailed as exc:
            if exc.error in UNREADABLE or exc.error == "thread_not_found":  # no way to look: send
                return None
            raise

    def _with_link(self, text: str, blocks: list[dict], channel: str, ts: str | None) -> tuple[str, list[dict]]:
        """A security brief's nudge by DM carries its ID and a link, never its details."""
        link = self.gateway.permalink(channel, ts) if ts else None
        if not link:
            return text, blocks
        return text, [*blocks, {"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{link}|Open the brief> (in the security channel)"}]}]

    def _compose(self, kind: FollowUpKind, stage: str | None, row, ref: str, cadence: Cadence, item: queries.Claimed, now: datetime,
                 last_customer_update: datetime | None, *, security: bool = False):
        thread = row.message_ts
        if kind is FollowUpKind.CHECKIN:
            text, blocks = views.checkin_nudge(ref=ref, agent=row.agent_user_id, escalation_id=row.id, follow_up_id=item.id, every=str(cadence.checkin),
                                               last_update=row.last_update_at, in_thread=not security)
            if security:  # by DM to the agent: the security channel's thread may be closed to them
                return text, blocks, row.agent_user_id, None
            return text, blocks, row.channel_id, thread
        if kind is FollowUpKind.CUSTOMER_UPDATE:
            text, blocks = views.customer_update_nudge(ref=ref, escalation_id=row.id, follow_up_id=item.id, overdue=stage == OVERDUE,
                                                       every=str(cadence.customer_update), last_customer_update=last_customer_update)
            return text, blocks, row.agent_user_id, None
        if kind is FollowUpKind.ACK:
            text, blocks = views.ack_ping(ref=ref, severity=Severity(row.severity), waited=self._waited(item, row, now))
            return text, blocks, row.channel_id, thread
        text, blocks = views.deadline_notice(mark=stage or "breach", ref=ref, agent=row.agent_user_id, owner=row.receiving_owner_id, deadline=row.deadline_at)
        return text, blocks, row.channel_id, thread

    @staticmethod
    def _waited(item: queries.Claimed, row, now: datetime) -> str:
        minutes = int(((now - (row.posted_at or row.created_at)).total_seconds()) // 60)
        return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"


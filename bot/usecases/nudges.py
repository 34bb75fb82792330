"""One scheduler tick: claim what is due, send it, advance it. Safe with any number of workers.

APScheduler is only the clock that calls `Ticker.tick`; the schedule is the follow_up table. A
period is recorded in the running log (unique per follow-up and due time) before its nudge is
sent, so neither a second worker nor a retry after a crash can send it twice.

The bookkeeping is per batch, not per row: one read of the claimed rows' briefs, one INSERT of all
new periods (with their outbox rows), the sends (outside any session), then one transaction that
advances the sent timers and clears their periods' "unconfirmed" mark, and at most one re-render
of each posted brief whose visible state changed.

The crash window: a worker that dies after writing the periods and before the last send leaves
periods without messages, up to a batch of them. They are written "unconfirmed", so once the lease
runs out the next tick looks for each nudge in Slack (its message metadata) before sending it:
the ones already sent are not doubled, the others are sent late rather than lost.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from blocks import follow_through as views
from blocks.complete_brief import complete_reminder
from bot.clock import Clock
from bot.domain.brief import Destination, Severity, format_ref
from bot.domain.cadence import Cadence
from bot.domain.follow_through import OVERDUE, RUNS_IN, Firing, fire
from bot.domain.status import FollowUpKind, LogKind
from bot.slack_api.backoff import UNREADABLE, maybe_posted, workspace_gone
from bot.slack_api.gateway import NUDGE_EVENT_TYPE, SlackCallFailed, SlackGateway
from bot.slack_api.workspace import current_team
from bot.storage import batch, drafts, escalations, events, follow_ups, running_log
from bot.storage.db import Database
from bot.usecases.escalate import Escalations, file_unfiled
from bot.usecases.workspaces import Workspaces

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)  # a crashed worker's rows free up after it
LEASE_RENEW = timedelta(seconds=30)  # while a batch is being sent (Slack paces posts: 200 may take minutes)
BATCH = 200
JITTER = timedelta(seconds=5)  # the most bot.runtime.scheduler delays a tick, so replicas spread out
EVENT_MEMORY = timedelta(days=1)  # handled Slack event ids kept this long (Slack retries for minutes)


@dataclass
class TickReport:
    claimed: int = 0
    sent: int = 0
    skipped: int = 0  # period already handled elsewhere, or the escalation no longer runs this timer
    failed: int = 0
    held: int = 0  # not sent: the workspace was paused during this tick (a paused workspace's timers are not claimed)
    paused: list[str] = field(default_factory=list)  # workspaces paused this tick: Slack refused their token
    resumed: list[str] = field(default_factory=list)  # paused workspaces whose token works again (a probe)
    delivered: int = 0  # pending briefs posted by their automatic retry
    recovered: int = 0  # submissions acked but left unfiled by a crash, filed now
    completed: int = 0  # long briefs whose missing thread parts are all posted now
    errors: list[str] = field(default_factory=list)
    outbox: object = None  # bot.ticketing.service.DrainReport, when ticketing is on


FORGET, UNSURE = "forget", "unsure"  # a send that failed: it is not in Slack / it may be


@dataclass
class Nudge:
    """One due timer's message, composed from the batch's read (plain values: no session needed)."""

    item: follow_ups.Claimed
    kind: FollowUpKind
    firing: Firing
    ref: str
    team: str | None
    text: str
    blocks: list[dict]
    channel: str
    thread_ts: str | None
    security: bool
    agent: str
    brief_channel: str
    brief_ts: str | None
    waited: str
    period: follow_ups.Period
    unsure: bool = False  # its period was written by a send whose answer never came: look in Slack first

    @property
    def step(self) -> follow_ups.Step:
        return follow_ups.Step(self.item, self.firing.next_due_at, self.firing.next_stage)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Ticker:
    def __init__(
        self,
        db: Database,
        gateway: SlackGateway,
        clock: Clock,
        escalations: Escalations,
        cadences: dict[Severity, Cadence],
        *,
        owner: str | None = None,
        ticketing=None,
        tick_every: timedelta = timedelta(seconds=30),
        workspaces: Workspaces | None = None,
        drafts_keep: timedelta | None = None,
    ) -> None:
        self.drafts_keep = drafts_keep  # ESCALATION_DRAFT_DAYS: older drafts are purged each tick
        self.db = db
        self.gateway = gateway
        self.clock = clock
        self.escalations = escalations
        self.cadences = cadences
        self.owner = owner or worker_id()
        self.ticketing = ticketing  # its outbox (ticket notes, webhook) is sent on the same tick
        # Running ticks take a due timer within one period and the scheduler's jitter (at most 5 s):
        # one left untried longer than twice that fires as a catch-up (bot.domain.follow_through).
        self.late_after = 2 * tick_every + JITTER
        self.workspaces = workspaces or Workspaces(db, gateway, clock)  # uninstalled or revoked: paused, probed

    def tick(self) -> TickReport:
        report = TickReport()
        now = self.clock.now()
        report.resumed = self.workspaces.probe()  # first: a workspace back now is served by this very tick
        report.recovered = file_unfiled(self.escalations)  # submissions acked but never filed (a crash)
        report.delivered = self.escalations.retry_due(pause=functools.partial(self._pause, report))  # briefs still pending delivery, when due
        report.completed = self.escalations.post_missing_parts()  # long briefs' thread parts Slack refused earlier
        with self.db.session() as s:
            events.prune_events(s, before=now - EVENT_MEMORY)
            if self.drafts_keep is not None:
                drafts.purge(s, saved_after=now - self.drafts_keep)
            claimed = follow_ups.claim_due(s, now=now, owner=self.owner, lease=LEASE, limit=BATCH)
        report.claimed = len(claimed)
        if claimed:
            try:
                self._batch(claimed, now, report)
            except Exception as exc:  # noqa: BLE001 - the database failed mid-batch: free the rows for the next tick
                log.exception("tick of %d follow-ups failed", len(claimed))
                report.failed += len(claimed)
                report.errors.append(str(exc))
                with self.db.session() as s:
                    follow_ups.release_all(s, claimed, owner=self.owner, tried_at=now)
        if self.ticketing is not None:
            try:
                report.outbox = self.ticketing.drain()
            except Exception:  # noqa: BLE001 - ticketing never stops the follow-through
                log.exception("outbox drain failed")
        return report

    def _pause(self, report: TickReport, team_id: str, error: str) -> bool:
        """Slack refused the workspace's token: pause it (no call for it for the rest of this tick, nor after)."""
        if not self.workspaces.pause(team_id, error):
            return False
        report.paused.append(team_id)
        return True

    def _batch(self, claimed: list[follow_ups.Claimed], now: datetime, report: TickReport) -> None:
        steps: list[follow_ups.Step] = []  # timers to advance (sent, skipped or handled elsewhere)
        with self.db.session() as s:  # read the batch, compose every nudge, record the new periods
            rows = escalations.escalations_by_id(s, {c.escalation_id for c in claimed}, brief=False)
            anchors = follow_ups.anchors(s, [c.id for c in claimed])
            customer = running_log.last_log_ats(s, {c.escalation_id for c in claimed if c.kind == FollowUpKind.CUSTOMER_UPDATE.value}, LogKind.CUSTOMER_UPDATE)
            nudges: list[Nudge] = []
            broken: list[follow_ups.Claimed] = []  # released below, with the rows whose send failed
            for item in claimed:
                try:
                    nudge = self._plan(item, rows.get(item.escalation_id), anchors.get(item.id), now, customer)
                except Exception as exc:  # noqa: BLE001 - one bad row must not stop the others
                    log.error("follow-up %s failed", item.id, exc_info=exc)
                    report.failed += 1
                    report.errors.append(f"{item.id}: {exc}")
                    broken.append(item)
                    continue
                if nudge is None:  # nothing to nudge, ever
                    steps.append(follow_ups.Step(item, None, item.stage))
                    report.skipped += 1
                else:
                    nudges.append(nudge)
            new = follow_ups.record_periods(s, [n.period for n in nudges], at=now)
            earlier = follow_ups.period_entries(s, [n.item for n in nudges if n.item.id not in new])
            to_send: list[Nudge] = []
            for nudge in nudges:
                entry = earlier.get(nudge.item.id)
                nudge.unsure = entry is not None and bool((entry.data or {}).get(follow_ups.UNCONFIRMED))
                if nudge.item.id in new or nudge.unsure:
                    to_send.append(nudge)
                else:  # sent by another worker or an earlier tick
                    steps.append(nudge.step)
                    report.skipped += 1
        outcomes = self._send_all(to_send, claimed, now, report)  # Slack, outside any session
        sent = [n for n, ok in zip(to_send, outcomes) if ok is True]
        with self.db.session() as s:
            follow_ups.confirm_periods(s, [n.period for n in sent])
            follow_ups.advance_all(s, steps + [n.step for n in sent], owner=self.owner)
            escalations.set_deadline_states(
                s, {n.item.escalation_id: "breached" if n.firing.stage == "breach" else "at_risk" for n in sent if n.kind is FollowUpKind.DEADLINE}
            )
            for nudge, outcome in zip(to_send, outcomes):
                if outcome == FORGET:
                    follow_ups.forget_period(s, nudge.item)
                # UNSURE: the entry keeps its "unconfirmed" mark: check Slack first next time
            follow_ups.release_all(s, broken + [n.item for n, ok in zip(to_send, outcomes) if ok is not True], owner=self.owner, tried_at=now)
        report.sent += len(sent)
        # Re-render each brief once, and only when what it shows moved: the next check-in time, the deadline state.
        self._refresh({n.item.escalation_id: n.team for n in sent if n.kind in (FollowUpKind.CHECKIN, FollowUpKind.DEADLINE) and n.team not in report.paused})

    def _send_all(self, nudges: list[Nudge], claimed: list[follow_ups.Claimed], now: datetime, report: TickReport) -> list[object]:
        """Each nudge in its own copied context (its workspace's token does not leak to the next).

        The batch's periods are all written, "unconfirmed", before the first send: a worker whose
        lease ran out while still sending would let another take its rows, find them unconfirmed,
        and send what this one is about to. So the lease is renewed while sending (one UPDATE every
        LEASE_RENEW): only a worker that died, or stalled longer than LEASE in one call, loses its rows.
        """
        outcomes: list[object] = []
        renewed = time.monotonic()
        for nudge in nudges:
            if time.monotonic() - renewed >= LEASE_RENEW.total_seconds():
                with self.db.session() as s:
                    follow_ups.renew_leases(s, claimed, owner=self.owner, until=self.clock.now() + LEASE)
                renewed = time.monotonic()
            outcomes.append(contextvars.copy_context().run(self._send, nudge, now, report))
        return outcomes

    def _plan(self, item: follow_ups.Claimed, row, anchor: datetime | None, now: datetime, customer: dict[int, datetime]) -> Nudge | None:
        """What this due timer sends now, or None when its escalation no longer runs it."""
        kind = FollowUpKind(item.kind)
        if row is None or anchor is None or kind not in RUNS_IN.get(row.status, set()):
            return None
        if kind is FollowUpKind.COMPLETE and row.missing is None:  # completed meanwhile: no more reminders
            return None
        cadence = self.cadences[Severity(row.severity)]
        firing = fire(
            kind,
            stage=item.stage,
            due_at=item.due_at,
            anchor=anchor,
            now=now,
            cadence=cadence,
            tz=row.agent_tz,
            posted_at=row.posted_at or row.created_at,
            deadline=row.deadline_at,
            tried_at=item.tried_at,
            late_after=self.late_after,
            reminders=self.escalations.post_now.reminders,
        )
        ref = format_ref(row.number)
        security = row.destination == Destination.SECURITY.value
        text, blocks, channel, thread_ts = self._compose(kind, firing.stage, row, ref, cadence, item, now, customer.get(row.id), security=security)
        return Nudge(
            item,
            kind,
            firing,
            ref,
            row.team_id,
            text,
            blocks,
            channel,
            thread_ts,
            security,
            row.agent_user_id,
            row.channel_id,
            row.message_ts,
            self._waited(item, row, now),
            follow_ups.Period(item, text, {"kind": kind.value, "stage": firing.stage}),
        )

    def _send(self, n: Nudge, now: datetime, report: TickReport) -> object:
        """Send one nudge in its workspace (run in a copied context: the setting does not leak to the
        next row). True when it is in Slack; FORGET or UNSURE when not (or maybe not)."""
        current_team.set(n.team)
        if n.team in report.paused:  # its token was refused earlier in this batch: no call, wait for it to be back
            report.held += 1
            return UNSURE if n.unsure else FORGET
        key = {"follow_up_id": n.item.id, "due_at": n.item.due_at.isoformat()}
        text, blocks = n.text, n.blocks
        try:
            found = self._already_sent(n.channel, key, n.thread_ts) if n.unsure else None
            if found is None:
                if n.security and n.kind is FollowUpKind.CHECKIN:  # the agent may not be in the security channel
                    text, blocks = self._with_link(text, blocks, n.brief_channel, n.brief_ts)
                self.gateway.post_message(
                    n.channel, text=text, blocks=blocks, thread_ts=n.thread_ts, metadata={"event_type": NUDGE_EVENT_TYPE, "event_payload": key}
                )
        except SlackCallFailed as exc:
            if workspace_gone(exc.error) and n.team and self._pause(report, n.team, exc.error):  # not this nudge's failure: the workspace is gone
                report.held += 1
                return UNSURE if n.unsure else FORGET
            log.warning("%s %s nudge not sent: %s (will retry)", n.ref, n.kind.value, exc.error)
            report.failed += 1
            return UNSURE if n.unsure or maybe_posted(exc.error) else FORGET  # maybe in Slack already: check first next time
        except Exception as exc:  # noqa: BLE001 - one bad row must not stop the others; was it sent? check first next time
            log.error("follow-up %s failed", n.item.id, exc_info=exc)
            report.failed += 1
            report.errors.append(f"{n.item.id}: {exc}")
            return UNSURE
        if n.kind is FollowUpKind.ACK:  # the agent hears it too; best effort, the period is sent
            dm_text, dm_blocks = views.ack_dm(ref=n.ref, channel_id=n.brief_channel, waited=n.waited)
            try:
                self.gateway.post_message(n.agent, text=dm_text, blocks=dm_blocks)
            except SlackCallFailed as exc:
                log.warning("%s ack DM to %s not sent: %s", n.ref, n.agent, exc.error)
        return True

    def _refresh(self, briefs: dict[int, str | None]) -> None:
        """The posted briefs as they read now, rendered in one session, then one chat.update each (best effort)."""
        if not briefs:
            return
        updates = []
        try:
            with self.db.session() as s:  # read only: rendering many briefs from two preloading queries
                batch.preload_for_render(s, set(briefs))
                for row in escalations.escalations_by_id(s, set(briefs)).values():
                    if row.message_ts:
                        updates.append((row.team_id, row.channel_id, row.message_ts, *self.escalations.render(s, row)))
        except Exception:  # noqa: BLE001 - the database is the record; the brief catches up on its next change
            log.exception("could not re-render %d briefs", len(briefs))
            return
        for team, channel, ts, text, blocks in updates:
            contextvars.copy_context().run(self._update, team, channel, ts, text, blocks)

    def _update(self, team: str | None, channel: str, ts: str, text: str, blocks: list[dict]) -> None:
        current_team.set(team)
        try:
            self.gateway.update_message(channel, ts, text=text, blocks=blocks)
        except SlackCallFailed as exc:
            log.warning("could not update the brief %s/%s: %s", channel, ts, exc.error)

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

    def _compose(
        self,
        kind: FollowUpKind,
        stage: str | None,
        row,
        ref: str,
        cadence: Cadence,
        item: follow_ups.Claimed,
        now: datetime,
        last_customer_update: datetime | None,
        *,
        security: bool = False,
    ):
        thread = row.message_ts
        if kind is FollowUpKind.CHECKIN:
            text, blocks = views.checkin_nudge(
                ref=ref,
                agent=row.agent_user_id,
                escalation_id=row.id,
                follow_up_id=item.id,
                every=str(cadence.checkin),
                last_update=row.last_update_at,
                in_thread=not security,
            )
            if security:  # by DM to the agent: the security channel's thread may be closed to them
                return text, blocks, row.agent_user_id, None
            return text, blocks, row.channel_id, thread
        if kind is FollowUpKind.CUSTOMER_UPDATE:
            text, blocks = views.customer_update_nudge(
                ref=ref,
                escalation_id=row.id,
                follow_up_id=item.id,
                overdue=stage == OVERDUE,
                every=str(cadence.customer_update),
                last_customer_update=last_customer_update,
            )
            return text, blocks, row.agent_user_id, None
        if kind is FollowUpKind.COMPLETE:  # by DM to the agent, with *Complete the brief*
            text, blocks = complete_reminder(
                ref=ref, escalation_id=row.id, missing=(row.missing or "").split(","), complete_by=row.complete_by, final=stage == "final"
            )
            return text, blocks, row.agent_user_id, None
        if kind is FollowUpKind.ACK:
            text, blocks = views.ack_ping(ref=ref, severity=Severity(row.severity), waited=self._waited(item, row, now))
            return text, blocks, row.channel_id, thread
        text, blocks = views.deadline_notice(mark=stage or "breach", ref=ref, agent=row.agent_user_id, owner=row.receiving_owner_id, deadline=row.deadline_at)
        return text, blocks, row.channel_id, thread

    @staticmethod
    def _waited(item: follow_ups.Claimed, row, now: datetime) -> str:
        minutes = int(((now - (row.posted_at or row.created_at)).total_seconds()) // 60)
        return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"

"""Escalate: file a brief (store, post, tell the agent), deliver it again, export it, re-render it.

`accept_brief` keeps a validated submission (an intake row) before Slack is answered; `file_brief`
is what follows the ack, and `file_unfiled` (start-up and every tick) files whatever a crash left
between the two. Synchronous, so the same code runs on a worker
thread of the serving process (tests, Socket Mode, `ESCALATION_BRIEF_PROCESSES=0`) and in a brief
worker process (bot.runtime.brief_worker). Idempotent by the modal's view id: a job handed over
twice (a worker died mid-way) stores and posts one brief.

Order matters and is the point of this module: the brief is stored (and committed) before any
Slack call posts it, no database session is held across a Slack call, and a failed post leaves a
stored brief marked pending delivery with the agent told what to do.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from blocks import ids
from blocks.brief_message import BriefState, brief_message, continuation_text
from blocks.brief_modal import ModalContext, brief_modal, draft_from_state, initial_from_state
from blocks.complete_brief import complete_prompt
from blocks.move import history_of
from blocks.notices import delivery_failed_notice, not_delivered_view, not_saved_notice, posted_confirmation, posted_view
from blocks.pattern_links import suggestion_blocks, with_suggestions
from blocks.patterns import pattern_lines
from blocks.plaintext import brief_text
from bot.clock import Clock
from bot.domain.brief import Brief, Destination, Severity, format_ref
from bot.domain.cadence import Cadence
from bot.domain.complete_brief import PostNow
from bot.domain.follow_through import complete_plan, initial_plans
from bot.domain.lifecycle import DeescalationReason, humanise
from bot.domain.patterns import Suggestion
from bot.domain.product_areas import matching_hint
from bot.domain.routing import Tier, route
from bot.domain.status import ACTIVE_STATUSES, CLOSED_STATUSES, EscalationStatus, FollowUpKind, LogKind
from bot.domain.visibility import may_name_in
from bot.logs import error_reference
from bot.slack_api.backoff import UNREADABLE, retry_delay, workspace_gone, worth_telling
from bot.slack_api.gateway import BRIEF_EVENT_TYPE, CONTINUATION_EVENT_TYPE, SlackCallFailed, SlackGateway
from bot.slack_api.workspace import serving_team
from bot.storage import continuations, drafts, escalations, follow_ups, intake, running_log
from bot.storage.db import Database
from bot.storage.running_log import BOT_ACTOR
from bot.usecases.pattern_links import offer_suggestions
from bot.usecases.patterns import Pattern, Patterns
from bot.usecases.permissions import ACTION, Guard, verb

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    escalation_id: int
    ref: str
    channel_id: str
    posted: bool
    ts: str | None = None
    error: str | None = None
    permalink: str | None = None
    flags: tuple[str, ...] = ()  # recurring pattern, resurfaced, trending up (mrkdwn lines)
    suggestions: tuple[Suggestion, ...] = ()  # "possibly the same problem", as its agent may see them (bot.usecases.pattern_links)
    duplicate: bool = False  # a repeated submission of a brief already stored: nothing was done
    route_note: str | None = None  # why it went to another team than asked (tier rules)
    in_progress: bool = False  # another request is posting it right now
    missing: tuple[str, ...] = ()  # posted with *Post now*: what the agent still has to add (bot.domain.complete_brief)
    complete_by: datetime | None = None


@dataclass(frozen=True)
class _Claim:
    """The right to post one stored brief (escalations.claim_delivery), with what posting it needs."""

    escalation_id: int
    attempt: int  # 1 for the first
    previous_error: str | None
    brief: Brief
    ref: str
    channel: str
    agent: str
    routed_to: Destination
    deadline_state: str | None

    @classmethod
    def of(cls, row, attempt: int, brief: Brief | None = None) -> _Claim:
        return cls(
            row.id,
            attempt,
            row.delivery_error,
            brief or escalations.brief_of(row),
            format_ref(row.number),
            row.channel_id,
            row.agent_user_id,
            Destination(row.destination),
            row.deadline_state,
        )


class Escalations:
    def __init__(
        self,
        db: Database,
        gateway: SlackGateway,
        clock: Clock,
        channels: dict[Destination, str],
        cadences: dict[Severity, Cadence],
        *,
        enforce_tiers: bool = True,
        patterns: Patterns | None = None,
        ticketing=None,
        rng: random.Random | None = None,
        guard: Guard | None = None,
        post_now: PostNow | None = None,
    ) -> None:
        self.post_now = post_now or PostNow()  # an incomplete brief's reminders and time to complete it
        self.guard = guard  # who may export a brief or retry its delivery (None: tools without Slack, e.g. benchmarks)
        self.rng = rng or random.Random()  # backoff jitter; tests pass a seeded one
        self.enforce_tiers = enforce_tiers
        self.ticketing = ticketing  # bot.ticketing.service.Ticketing, or None
        self.patterns = patterns
        self.db = db
        self.gateway = gateway
        self.clock = clock
        self.channels = channels
        self.cadences = cadences

    def escalate(
        self,
        *,
        team_id: str,
        agent_user_id: str,
        brief: Brief,
        source_channel_id: str | None = None,
        submission_key: str | None = None,
        tier: Tier = Tier.L2,
    ) -> Delivery:
        target = route(brief.destination, self.channels, tier=tier, enforce_tiers=self.enforce_tiers)
        # Searched before the write transaction, which then only checks briefs stored meanwhile.
        hint = matching_hint(brief.product_area)  # the product area is a hint to matching ("Other" is none)
        prior = self.patterns.prior(team_id, brief.model_dump(mode="json"), at=self.clock.now(), product_area=hint) if self.patterns is not None else None
        with self.db.session() as session:
            created = escalations.create_escalation(
                session,
                team_id=team_id,
                brief=brief,
                agent_user_id=agent_user_id,
                channel_id=target.channel_id,
                source_channel_id=source_channel_id,
                submission_key=submission_key,
                now=self.clock.now(),
            )
            escalation_id = created.escalation.id
            pattern = None
            if created.is_new and self.patterns is not None:
                pattern = self.patterns.record(session, created.escalation, prior)
            if created.is_new and self.ticketing is not None:
                self.ticketing.link(session, created.escalation, brief)
            if created.is_new and target.note:
                created.escalation.destination = target.destination.value
                session.add(created.escalation)
                running_log.add_log(
                    session,
                    escalation_id,
                    actor=BOT_ACTOR,
                    kind=LogKind.CREATED,
                    text=f"Routed to {target.destination.label}: {target.note}",
                    at=self.clock.now(),
                )
            if created.is_new:  # claimed here, in the storing transaction: one transaction fewer per brief
                attempt = escalations.claim_delivery(session, escalation_id, now=self.clock.now())
                claim = _Claim.of(created.escalation, attempt, brief) if attempt else None
        if not created.is_new:
            # The first submission owns the posting; a repeat only reports where things stand.
            log.info("duplicate submission %s for escalation %s ignored", submission_key, escalation_id)
            return replace(self._delivery_of(escalation_id), duplicate=True)
        if claim is None:  # not possible for a brief just stored, unless another replica's tick took it
            return replace(self._delivery_of(escalation_id), in_progress=True, route_note=target.note)
        # The pattern just found is the one recorded (an unflagged one is recorded as nothing): no reload.
        known = (pattern if pattern.flagged else Pattern()) if pattern is not None else None
        return replace(self._post(claim, known), route_note=target.note)

    def deliver(self, escalation_id: int, *, team_id: str | None = None, pattern: Pattern | None = None) -> Delivery:
        """Post a stored brief to its channel; idempotent once posted.

        Called at once after storing, by the agent's Try again button, and by the tick for briefs
        whose automatic retry is due. A failure schedules the next automatic attempt (backoff,
        never before Retry-After). An attempt after one whose answer never came first looks for the
        brief in the channel by its metadata and adopts that message instead of posting twice.
        """
        with self.db.session() as session:
            row = escalations.get_for_team(session, escalation_id, team_id)
            pending = row.status == EscalationStatus.PENDING_DELIVERY.value
            attempt = escalations.claim_delivery(session, escalation_id, now=self.clock.now()) if pending else 0
            if attempt:
                claim = _Claim.of(row, attempt)
                if pattern is None and self.patterns is not None:
                    pattern = self.patterns.recorded(session, escalation_id)
        # Outside the session: _delivery_of opens its own (nested, it would wait on SQLite's write lock).
        if not pending:  # posted already (by another replica, a double click): nothing done here
            return replace(self._delivery_of(escalation_id), duplicate=True)
        if not attempt:
            return replace(self._delivery_of(escalation_id), in_progress=True)
        return self._post(claim, pattern)

    def _post(self, claim: _Claim, pattern: Pattern | None) -> Delivery:
        """Post a claimed brief, then record it posted and start its timers (or record the failure)."""
        escalation_id, attempt, brief, ref, channel, agent = claim.escalation_id, claim.attempt, claim.brief, claim.ref, claim.channel, claim.agent
        flags = pattern_lines(pattern) if pattern else []
        agent_tz = self.gateway.user_timezone(agent)  # business days and local times are the agent's
        tickets = self._tickets(escalation_id, fetch=True)
        # The timers start now, so the brief goes out already showing its first check-in: the
        # message render() would give once posted, without a chat.update right after the post.
        now = self.clock.now()
        plans = initial_plans(posted_at=now, deadline=brief.request.deadline, cadence=self.cadences[brief.severity], tz=agent_tz)
        checkin = next(p.next_due_at for p in plans if p.kind is FollowUpKind.CHECKIN)
        complete_by = now + self.post_now.within if brief.missing else None  # posted incomplete: reminders from this first post
        if brief.missing:
            plans.append(complete_plan(posted_at=now, reminders=self.post_now.reminders))
        state = BriefState(status=EscalationStatus.OPEN.label, next_checkin_at=checkin, deadline_state=claim.deadline_state, complete_by=complete_by)
        rendered = brief_message(
            ref=ref,
            brief=brief,
            agent_user_id=agent,
            escalation_id=escalation_id,
            today=now.date(),
            state=state,
            routed_to=claim.routed_to,
            flags=flags,
            tickets=tickets,
            now=now,
        )
        try:
            # Any earlier attempt may have reached Slack (a timeout, a death mid-post, a failed check):
            # look first. Retries are rare, so one conversations.history per retry is cheap.
            found = self._already_posted(escalation_id, channel) if attempt > 1 else None
            if found:
                log.info("%s was already in %s (ts %s): adopting it", ref, found[0], found[1])
                channel, ts = found
            else:
                channel, ts = self.post_brief_message(channel, rendered, escalation_id, ref)
        except SlackCallFailed as exc:
            return self._failed(escalation_id, ref, channel, agent, exc, attempt=attempt, previous_error=claim.previous_error)

        with self.db.session() as session:
            escalations.mark_posted(session, escalation_id, channel_id=channel, ts=ts, now=self.clock.now(), agent_tz=agent_tz)
            if rendered.continuations:
                continuations.start(session, escalation_id, total=len(rendered.continuations))
            follow_ups.plan_follow_ups(session, escalation_id, plans)
            if complete_by is not None:
                escalations.set_complete_by(session, escalation_id, complete_by)
            # An adopted message was rendered by an earlier attempt: bring it up to date.
            update = self.render(session, escalations.get_escalation(session, escalation_id), flags=flags) if found else None
        if update is not None:
            self.update_posted(escalation_id, channel, ts, *update)
        if rendered.continuations and not self.post_parts(escalation_id, ref, channel, ts, rendered.continuations, already=0, attempt=1):
            self.refresh(escalation_id)  # the brief says parts are missing until the tick has posted them
        permalink = self.gateway.permalink(channel, ts)
        if pattern is not None and pattern.recurring:
            self._note_earlier_threads(escalation_id, ref, pattern, permalink, destination=claim.routed_to.value, channel=channel)
        suggestions = offer_suggestions(self, escalation_id, ref=ref, agent=agent, channel=channel, ts=ts)
        text, blocks = posted_confirmation(ref=ref, summary=brief.summary, channel_id=channel, permalink=permalink, flags=flags)
        if brief.missing:  # posted incomplete: the agent completes it from here, the form's result, the brief or a reminder
            blocks = [*blocks[:1], *complete_prompt(ref=ref, escalation_id=escalation_id, missing=brief.missing, complete_by=complete_by), *blocks[1:]]
        self._tell(agent, text, with_suggestions(blocks, suggestion_blocks(escalation_id, suggestions, now=self.clock.now())))
        return Delivery(
            escalation_id,
            ref,
            channel,
            posted=True,
            ts=ts,
            permalink=permalink,
            flags=tuple(flags),
            suggestions=suggestions,
            missing=brief.missing,
            complete_by=complete_by,
        )

    def _already_posted(self, escalation_id: int, channel: str) -> tuple[str, str] | None:
        try:
            return self.gateway.find_posted(channel, BRIEF_EVENT_TYPE, {"escalation_id": escalation_id})
        except SlackCallFailed as exc:
            if exc.error in UNREADABLE:  # no way to look (it may post in public channels it cannot read): post
                return None
            raise

    def _failed(self, escalation_id: int, ref: str, channel: str, agent: str, exc: SlackCallFailed, *, attempt: int, previous_error: str | None) -> Delivery:
        """Keep it pending, schedule the next automatic attempt, and tell the agent once per problem."""
        now = self.clock.now()
        retry_at = now + retry_delay(attempt, retry_after=exc.retry_after, rng=self.rng)
        log.warning("%s not delivered to %s (attempt %s): %s; next try at %s", ref, channel, attempt, exc.error, retry_at.isoformat())
        with self.db.session() as session:
            escalations.mark_delivery_failed(session, escalation_id, error=exc.error, now=now, retry_at=retry_at)
        if worth_telling(exc.error, previous_error):
            text, blocks = delivery_failed_notice(ref=ref, error=exc.error, channel_id=channel, escalation_id=escalation_id)
            self._tell(agent, text, blocks)
        return Delivery(escalation_id, ref, channel, posted=False, error=exc.error)

    def retry_due(self, *, limit: int = 50, pause: Callable[[str, str], object] | None = None) -> int:
        """Deliver every pending brief whose next attempt has come; the number posted. The claim in
        deliver() makes this safe with several replicas ticking at once. A workspace whose token
        Slack refuses is handed to `pause` (team, error), and its other briefs are not tried: they
        wait, pending, until it is back (a paused workspace's briefs are not due)."""
        with self.db.session() as session:
            due = escalations.due_deliveries(session, now=self.clock.now(), limit=limit)
        posted = 0
        gone: set[str] = set()
        for escalation_id, team_id in due:
            if team_id in gone:
                continue
            try:
                with serving_team(team_id):  # its workspace's token (several workspaces; no effect with one)
                    delivery = self.deliver(escalation_id)
                # Only what this call posted: another replica's claim (in_progress) may already read as posted.
                posted += delivery.posted and not delivery.duplicate and not delivery.in_progress
                if not delivery.posted and workspace_gone(delivery.error) and pause is not None:
                    gone.add(team_id)
                    pause(team_id, delivery.error or "")
            except Exception:  # noqa: BLE001 - one bad brief must not stop the others
                log.exception("delivery retry of escalation %s failed", escalation_id)
        return posted

    def post_missing_parts(self, *, limit: int = 50) -> int:
        """Post the thread parts Slack refused earlier, for every brief whose retry has come (the tick);
        the number of briefs now complete. Leased, so replicas ticking together post each part once."""
        with self.db.session() as session:
            due = continuations.due(session, now=self.clock.now(), limit=limit)
        completed = 0
        for escalation_id, team_id in due:
            try:
                with serving_team(team_id):
                    completed += self._continue(escalation_id)
            except Exception:  # noqa: BLE001 - one bad brief must not stop the others
                log.exception("posting the missing parts of escalation %s failed", escalation_id)
        return completed

    def _continue(self, escalation_id: int) -> bool:
        with self.db.session() as session:
            claimed = continuations.claim(session, escalation_id, now=self.clock.now())
            row = escalations.get_escalation(session, escalation_id) if claimed else None
            if claimed is None or row is None or not row.message_ts:
                return False
            ref, channel, ts, parts = format_ref(row.number), row.channel_id, row.message_ts, self.rendered(session, row).continuations
        already, attempts = claimed
        if not self.post_parts(escalation_id, ref, channel, ts, parts, already=already, attempt=attempts + 1):
            return False
        self.refresh(escalation_id)  # the "still being posted" notice goes
        return True

    def post_brief_message(self, channel: str, rendered, escalation_id: int, ref: str) -> tuple[str, str]:
        """Post a rendered brief's first message, with the metadata that finds it again ((channel, ts))."""
        return self.gateway.post_message(
            channel,
            text=rendered.text,
            blocks=rendered.blocks,
            metadata={"event_type": BRIEF_EVENT_TYPE, "event_payload": {"escalation_id": escalation_id, "ref": ref}},
        )

    def post_parts(self, escalation_id: int, ref: str, channel: str, ts: str, parts: list, *, already: int, attempt: int) -> bool:
        """Post the thread parts after the first `already`, in order (True when all are in). On a refusal
        the rest wait for the tick (backoff, never before Retry-After): a part is never skipped, and
        on a retry the first part is looked for in the thread first (its answer may have been lost)."""
        total = len(parts)
        for part in range(already + 1, total + 1):
            key = {"escalation_id": escalation_id, "part": part}
            try:
                found = self._part_in_thread(channel, ts, key) if attempt > 1 and part == already + 1 else None
                if not found:
                    self.gateway.post_message(
                        channel,
                        text=continuation_text(ref, part, total),
                        blocks=parts[part - 1],
                        thread_ts=ts,
                        metadata={"event_type": CONTINUATION_EVENT_TYPE, "event_payload": key},
                    )
            except SlackCallFailed as exc:
                when = self.clock.now() + retry_delay(attempt, retry_after=exc.retry_after, rng=self.rng)
                with self.db.session() as session:
                    continuations.retry_at(session, escalation_id, when)
                log.warning("%s part %s/%s not posted (%s): the tick tries again at %s", ref, part, total, exc.error, when.isoformat())
                return False
            with self.db.session() as session:
                continuations.part_posted(session, escalation_id, part)
        with self.db.session() as session:
            continuations.done(session, escalation_id)
        return True

    def _part_in_thread(self, channel: str, ts: str, key: dict) -> bool:
        try:
            return self.gateway.find_posted(channel, CONTINUATION_EVENT_TYPE, key, thread_ts=ts) is not None
        except SlackCallFailed as exc:
            if exc.error in UNREADABLE:  # no way to look: post (a rare double part beats a missing one)
                return False
            raise

    def _note_earlier_threads(self, escalation_id: int, ref: str, pattern, permalink: str | None, *, destination: str, channel: str) -> None:
        """Tell each earlier brief's thread that one more independent report arrived; never a
        security brief's ID or link in a thread outside its own channel."""
        link = f"<{permalink}|{ref}>" if permalink else ref
        for related in pattern.related:
            if not related.message_ts or not may_name_in(destination, channel, related.channel_id):
                continue
            text = f":repeat: {link} reports the same symptom: *{pattern.independent_reports} independent reports* now."
            try:
                self.gateway.post_message(
                    related.channel_id, text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}], thread_ts=related.message_ts
                )
            except SlackCallFailed as exc:
                log.warning("pattern note to %s failed: %s", related.ref, exc.error)
                continue
            with self.db.session() as session:
                running_log.add_log(
                    session, related.escalation_id, actor=BOT_ACTOR, kind=LogKind.PATTERN_NOTE, text=f"{ref} reports the same symptom", at=self.clock.now()
                )

    def export_for(self, escalation_id: int, user: str, *, team_id: str | None = None) -> tuple[str, str, str | None]:
        """*Export as text*, times in the reader's zone: (ref, text, None) for someone involved, logged;
        ("", "", what to tell them) for anyone else (before any Slack call about them)."""
        if self.guard is not None and (refusal := self.guard.refusal(escalation_id, user, verb(ACTION, ids.ACTION_EXPORT), team_id=team_id)):
            return "", "", refusal
        ref, text = self.export_text(escalation_id, tz=self.gateway.user_timezone(user), actor=user, team_id=team_id)
        return ref, text, None

    def retry_for(self, escalation_id: int, user: str, *, team_id: str | None = None) -> Delivery | str:
        """*Try again* on a brief that did not get out: the delivery, or what to tell someone not involved."""
        if self.guard is not None and (refusal := self.guard.refusal(escalation_id, user, verb(ACTION, ids.ACTION_RETRY_DELIVERY), team_id=team_id)):
            return refusal
        return self.deliver(escalation_id, team_id=team_id)

    def export_text(self, escalation_id: int, *, tz: str = "UTC", actor: str | None = None, team_id: str | None = None) -> tuple[str, str]:
        """(ref, the brief as plain text in the method's structure), logged when a person exported it."""
        with self.db.session() as session:
            row = escalations.get_for_team(session, escalation_id, team_id)
            ref = format_ref(row.number)
            if actor:
                running_log.add_log(session, escalation_id, actor=actor, kind=LogKind.EXPORTED, text="Exported as text", at=self.clock.now())
            return ref, brief_text(escalations.brief_of(row), ref=ref, tz=tz)

    def render(self, session, row, *, flags: list[str] | None = None) -> tuple[str, list[dict]]:
        """The brief's first message as it should read now (status, owner, last update, next check-in).
        `flags`: the pattern's lines when the caller has them already (saves reloading them)."""
        rendered = self.rendered(session, row, flags=flags)
        return rendered.text, rendered.blocks

    def rendered(self, session, row, *, flags: list[str] | None = None):
        """The brief as it should read now: its first message and its thread parts (blocks.brief_message.RenderedBrief)."""
        plans = follow_ups.follow_ups(session, row.id)
        checkin = plans.get(FollowUpKind.CHECKIN.value)
        status = EscalationStatus(row.status)
        state = BriefState(
            status=self._status_text(session, row, status),
            phase="closed" if status.value in CLOSED_STATUSES else "fixed" if status is EscalationStatus.FIXED_PENDING else "active",
            acknowledged=row.receiving_owner_id is not None,
            owner=row.receiving_owner_id,
            last_update_at=row.last_update_at,
            last_update_by=row.last_update_by,
            last_update_text=row.last_update_text,
            next_checkin_at=checkin.next_due_at if checkin and checkin.active and status.value in ACTIVE_STATUSES else None,
            deadline_state=row.deadline_state,
            parts_missing=max(0, row.parts_total - row.parts_posted),
            complete_by=row.complete_by,
            history=history_of(row.moved_from),  # moved from another team: who, why, the earlier message
        )
        if flags is None:
            flags = pattern_lines(self.patterns.recorded(session, row.id)) if self.patterns else []
        tickets = self.ticketing.view(session, row.id) if self.ticketing is not None else None
        return brief_message(
            ref=format_ref(row.number),
            brief=escalations.brief_of(row),
            agent_user_id=row.agent_user_id,
            escalation_id=row.id,
            today=self.clock.now().date(),
            state=state,
            routed_to=Destination(row.destination),
            flags=flags,
            tickets=tickets,
            now=self.clock.now(),
        )

    @staticmethod
    def _status_text(session, row, status: EscalationStatus) -> str:
        """De-escalated with its reason; resolved with how long it took; otherwise the status's label."""
        if status is EscalationStatus.DEESCALATED:
            entry = running_log.last_log_entry(session, row.id, LogKind.DEESCALATED)
            reason = (entry.data or {}).get("reason") if entry else None
            return f":leftwards_arrow_with_hook: De-escalated: {DeescalationReason(reason).label}" if reason else "De-escalated"
        if status is EscalationStatus.RESOLVED and row.resolved_at:
            return f":white_check_mark: Resolved in {humanise(row.resolved_at - (row.posted_at or row.created_at))}"
        return status.label

    def refresh(self, escalation_id: int) -> None:
        """Update the posted brief in place; best effort (the database is the record)."""
        with self.db.session() as session:
            row = escalations.get_escalation(session, escalation_id)
            if row is None or not row.message_ts:
                return
            channel, ts = row.channel_id, row.message_ts
            text, blocks = self.render(session, row)
        self.update_posted(escalation_id, channel, ts, text, blocks)

    def update_posted(self, escalation_id: int, channel: str, ts: str, text: str, blocks: list[dict]) -> None:
        """Replace the posted brief's message; best effort (the database is the record)."""
        try:
            self.gateway.update_message(channel, ts, text=text, blocks=blocks)
        except SlackCallFailed as exc:
            log.warning("could not update the brief %s: %s", escalation_id, exc.error)

    def _tickets(self, escalation_id: int, *, fetch: bool):
        """The linked tickets as the brief shows them; `fetch` first asks the ticketing systems
        (bounded by a short budget: a slow system delays the post by at most that)."""
        if self.ticketing is None:
            return None
        if fetch:
            self.ticketing.refresh_facts(escalation_id)
        with self.db.session() as session:
            return self.ticketing.view(session, escalation_id)

    def _delivery_of(self, escalation_id: int) -> Delivery:
        with self.db.session() as session:
            row = escalations.get_escalation(session, escalation_id)
            assert row is not None
            return Delivery(
                escalation_id,
                format_ref(row.number),
                row.channel_id,
                posted=row.status == EscalationStatus.OPEN.value,
                ts=row.message_ts,
                error=row.delivery_error,
            )

    def _tell(self, user_id: str, text: str, blocks: list[dict]) -> None:
        """A DM to the agent: best effort, because the brief itself is already safe."""
        try:
            self.gateway.post_message(user_id, text=text, blocks=blocks)
        except SlackCallFailed as exc:
            log.warning("could not DM %s: %s", user_id, exc.error)


# --- after an accepted submission ----------------------------------------------------------------


@dataclass(frozen=True)
class BriefJob:
    """A validated submission, as the ack left it (picklable: it may cross to a worker process)."""

    team_id: str | None
    user_id: str | None
    view_id: str  # the modal: where the result is shown, and the brief's submission key
    brief: Brief
    context: ModalContext
    values: dict  # the modal's state, to give everything back if storing fails
    tier: Tier


INTAKE_GRACE = timedelta(seconds=15)  # a younger submission may still be on its way in the process that acked it
INTAKE_LEASE = timedelta(minutes=2)  # a replica filing what a crash left: others leave it alone this long


def job_record(job: BriefJob) -> dict:
    """The job as JSON for the intake row (the worker-process path pickles it instead)."""
    return {
        "team_id": job.team_id,
        "user_id": job.user_id,
        "view_id": job.view_id,
        "brief": job.brief.model_dump(mode="json"),
        "context": job.context.model_dump(mode="json"),
        "values": job.values,
        "tier": job.tier.value if job.tier else None,
    }


def job_of(record: dict) -> BriefJob:
    return BriefJob(
        team_id=record.get("team_id"),
        user_id=record.get("user_id"),
        view_id=record["view_id"],
        brief=Brief.model_validate(record["brief"]),
        context=ModalContext.model_validate(record.get("context") or {}),
        values=record.get("values") or {},
        tier=Tier(record["tier"]) if record.get("tier") else None,  # type: ignore[arg-type]
    )


def accept_brief(escalations: Escalations, job: BriefJob) -> None:
    """Before Slack is answered: the validated submission is in the database (raises if it cannot be),
    so a crash after the ack cannot lose what the agent was told is saving."""
    with escalations.db.session() as session:
        intake.record(session, view_id=job.view_id, team_id=job.team_id, user_id=job.user_id, job=job_record(job), now=escalations.clock.now())


def file_brief(services, job: BriefJob) -> None:
    """Store and post the brief, then replace the modal's "saving" view with the outcome."""
    file_job(services.escalations, job)


def file_job(escalations: Escalations, job: BriefJob) -> None:
    gateway, db, clock = escalations.gateway, escalations.db, escalations.clock
    try:
        delivery = escalations.escalate(
            team_id=job.team_id or "",  # Slack sends both with every submission
            agent_user_id=job.user_id or "",
            brief=job.brief,
            source_channel_id=job.context.source_channel_id,
            submission_key=job.view_id,
            tier=job.tier,
        )
    except Exception:  # noqa: BLE001 - the brief must come back to the agent whatever failed
        ref = error_reference()
        log.exception("storing a brief failed [%s]", ref)
        notice = not_saved_notice(ref)
        restored = brief_modal(
            destination=job.brief.destination,
            eng_kind=draft_from_state(job.values).get("eng_kind"),
            context=job.context,
            initial=initial_from_state(job.values),
            notice=notice,
            post_now=escalations.post_now,
        )
        try:  # the agent has it all back to submit again: it is theirs to repeat, not the tick's to file
            with db.session() as session:
                intake.forget(session, job.view_id)
        except Exception:  # noqa: BLE001 - then the tick files it, once (the view id is its key)
            log.warning("could not forget intake %s", job.view_id, exc_info=True)
        gateway.update_view(job.view_id, restored)
        return
    with db.session() as session:
        intake.mark_filed(session, job.view_id, now=clock.now())
        drafts.delete_for_view(session, job.view_id)  # the draft this form was (bot.usecases.drafts) is filed
    if delivery.duplicate or delivery.in_progress:
        return  # the first submission reports the result in this same modal
    if delivery.posted:
        result = posted_view(ref=delivery.ref, channel_id=delivery.channel_id, permalink=delivery.permalink, note=delivery.route_note, flags=delivery.flags)
        if delivery.missing:  # posted incomplete: the agent completes it from here
            prompt = complete_prompt(ref=delivery.ref, escalation_id=delivery.escalation_id, missing=delivery.missing, complete_by=delivery.complete_by)
            result = {**result, "blocks": [*result["blocks"][:1], *prompt, *result["blocks"][1:]]}
        result["blocks"] = with_suggestions(result["blocks"], suggestion_blocks(delivery.escalation_id, delivery.suggestions, now=clock.now()))
    else:
        result = not_delivered_view(ref=delivery.ref, error=delivery.error or "unknown_error", channel_id=delivery.channel_id)
    gateway.update_view(job.view_id, result)


def file_unfiled(escalations: Escalations, *, grace: timedelta = INTAKE_GRACE) -> int:
    """File every accepted submission a crash left unfiled (start-up, and every tick); the number filed.
    Safe with several replicas: rows are leased, and a brief is stored once per view id whoever files it."""
    db, clock = escalations.db, escalations.clock
    now = clock.now()
    with db.session() as session:
        claimed = [(row.view_id, row.job) for row in intake.claim_unfiled(session, now=now, received_before=now - grace, lease=INTAKE_LEASE)]
    filed = 0
    for view_id, record in claimed:
        try:
            job = job_of(record)
            with serving_team(job.team_id):  # its workspace's token (several workspaces)
                file_job(escalations, job)
            filed += 1
            log.info("filed submission %s left unfiled (a crash or a restart)", view_id)
        except Exception as exc:  # noqa: BLE001 - one bad row must not stop the others; its lease lapses and it is tried again
            log.exception("filing submission %s failed", view_id)
            with db.session() as session:
                intake.note_failure(session, view_id, f"{type(exc).__name__}: {exc}")
    return filed

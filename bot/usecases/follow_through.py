"""What people do after a brief is posted, as use cases the listeners call (sync, off the event loop).

Every action is written to the running log first, then told in the brief's thread (and by DM where
the method says so), then the posted brief is refreshed in place. Slack failures after the log
entry are logged and never undo the recorded fact.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from blocks import follow_through as views
from blocks import ids
from blocks.lifecycle import fixed_dm
from bot.clock import Clock
from bot.domain import follow_through as plan
from bot.domain.brief import Severity, format_ref
from bot.domain.cadence import Cadence
from bot.domain.status import ACKNOWLEDGE, ACTIVE_STATUSES, CLOSED_STATUSES, MARK_FIXED, EscalationStatus, FollowUpKind, LogKind
from bot.slack_api.gateway import SlackCallFailed, SlackGateway
from bot.storage import escalations, follow_ups, running_log
from bot.storage.db import Database
from bot.storage.models import Escalation, FollowUp
from bot.usecases.escalate import Escalations
from bot.usecases.permissions import ACTION, NOT_FOUND, VIEW, Guard, no_such_ref, verb

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What the person who acted should be told (ephemerally), if anything."""

    ref: str
    message: str | None = None


class FollowThrough:
    def __init__(self, db: Database, gateway: SlackGateway, clock: Clock, escalations: Escalations, cadences: dict[Severity, Cadence], guard: Guard) -> None:
        self.guard = guard
        self.db = db
        self.gateway = gateway
        self.clock = clock
        self.escalations = escalations
        self.cadences = cadences

    # --- the receiving team --------------------------------------------------------------------

    def acknowledge(self, escalation_id: int, user: str, *, team_id: str | None = None, via: str = "button") -> Outcome:
        """The clicker (or :eyes: reactor) becomes the receiving owner; the ack pings stop."""
        if refused := self.refused(escalation_id, user, verb(ACTION, ids.ACTION_ACKNOWLEDGE), team_id=team_id):
            return refused
        now = self.clock.now()
        with self.db.session() as s:
            row = escalations.get_for_team(s, escalation_id, team_id)
            ref = format_ref(row.number)
            if closed := _closed(row):
                return Outcome(ref, closed)
            if row.receiving_owner_id == user:
                return Outcome(ref, f"You already own {ref}.")
            previous = row.receiving_owner_id
            escalations.transition(
                s, escalation_id, ACKNOWLEDGE, now=now
            )  # open -> acknowledged; a new owner of an acknowledged or fixed brief keeps its status
            row.receiving_owner_id, row.acknowledged_at, row.updated_at = user, row.acknowledged_at or now, now
            s.add(row)
            follow_ups.deactivate_follow_ups(s, escalation_id, (FollowUpKind.ACK.value,))
            text = f"Acknowledged by <@{user}> via {via}" + (f" (was <@{previous}>)" if previous else "")
            running_log.add_log(s, escalation_id, actor=user, kind=LogKind.ACKNOWLEDGED, text=text, at=now)
            channel, ts = row.channel_id, row.message_ts
            rendered = self.escalations.render(s, row) if ts else None  # in this session: no second one to refresh the message
        self.notify_thread((channel, ts), f":eyes: <@{user}> acknowledged *{ref}* and is the receiving owner now.")
        if rendered is not None and ts:
            self.escalations.update_posted(escalation_id, channel, ts, *rendered)
        return Outcome(ref)

    def mark_fixed(self, escalation_id: int, user: str, *, team_id: str | None = None) -> Outcome:
        """Fixed pending the agent's confirmation: the agent is asked to confirm with the customer and close it."""
        if refused := self.refused(escalation_id, user, verb(ACTION, ids.ACTION_MARK_FIXED), team_id=team_id):
            return refused
        now = self.clock.now()
        with self.db.session() as s:
            row = escalations.get_for_team(s, escalation_id, team_id)
            ref = format_ref(row.number)
            if not escalations.transition(s, escalation_id, MARK_FIXED, now=now):
                return Outcome(ref, _closed(row) or f"{ref} is {EscalationStatus(row.status).label.lower()} already.")
            row.receiving_owner_id = row.receiving_owner_id or user
            s.add(row)
            running_log.add_log(s, escalation_id, actor=user, kind=LogKind.FIXED, text=f"Marked fixed by <@{user}>, pending the agent's confirmation", at=now)
            agent, thread = row.agent_user_id, (row.channel_id, row.message_ts)
        self.notify_thread(thread, f":white_check_mark: <@{user}> marked *{ref}* fixed. <@{agent}>, please confirm with the customer.")
        self.dm(*fixed_dm(ref=ref, by=user, escalation_id=escalation_id), user=agent)
        self.escalations.refresh(escalation_id)
        return Outcome(ref)

    def note_form(self, escalation_id: int, user: str, action_id: str, *, team_id: str | None = None) -> Outcome:
        """Before a note modal opens (Ask for info, Post update, Log check-in, Log customer update): the ref, or why not."""
        if refused := self.refused(escalation_id, user, verb(ACTION, action_id), team_id=team_id):
            return refused
        with self.db.session() as s:
            return Outcome(format_ref(escalations.get_for_team(s, escalation_id, team_id).number))

    def post_update(self, escalation_id: int, user: str, text: str, *, team_id: str | None = None) -> Outcome:
        if refused := self.refused(escalation_id, user, verb(VIEW, ids.VIEW_POST_UPDATE), team_id=team_id):
            return refused
        return self._note(escalation_id, user, text, team_id=team_id, kind=LogKind.TEAM_UPDATE, headline=":memo: Update from <@{user}> on *{ref}*:")

    def ask_for_info(self, escalation_id: int, user: str, question: str, *, team_id: str | None = None) -> Outcome:
        """The question goes in the thread, and the agent is told by DM."""
        if refused := self.refused(escalation_id, user, verb(VIEW, ids.VIEW_ASK_INFO), team_id=team_id):
            return refused
        outcome = self._note(
            escalation_id,
            user,
            question,
            team_id=team_id,
            kind=LogKind.INFO_REQUESTED,
            headline=":question: <@{user}> asks <@{agent}> on *{ref}*:",
            counts_as_update=False,
        )
        with self.db.session() as s:
            row = escalations.get_for_team(s, escalation_id, team_id)
            agent, channel, ts = row.agent_user_id, row.channel_id, row.message_ts
        link = self.gateway.permalink(channel, ts) if ts else None  # never a Slack call inside a session
        where = f" <{link}|Answer in the thread>." if link else ""
        self.dm(f":question: <@{user}> needs information on *{outcome.ref}*:\n{views.quoted(question)}\n{where}".rstrip(), user=agent)
        return outcome

    # --- the escalating agent ------------------------------------------------------------------

    def log_checkin(self, escalation_id: int, user: str, text: str, *, team_id: str | None = None) -> Outcome:
        if refused := self.refused(escalation_id, user, verb(VIEW, ids.VIEW_LOG_CHECKIN), team_id=team_id):
            return refused
        outcome = self._note(escalation_id, user, text, team_id=team_id, kind=LogKind.CHECKIN, headline=":handshake: Check-in by <@{user}> on *{ref}*:")
        self._reset(escalation_id, FollowUpKind.CHECKIN)
        return outcome

    def log_customer_update(self, escalation_id: int, user: str, text: str, *, team_id: str | None = None) -> Outcome:
        if refused := self.refused(escalation_id, user, verb(VIEW, ids.VIEW_LOG_CUSTOMER_UPDATE), team_id=team_id):
            return refused
        outcome = self._note(
            escalation_id,
            user,
            text,
            team_id=team_id,
            kind=LogKind.CUSTOMER_UPDATE,
            headline=":speech_balloon: <@{user}> updated the customer on *{ref}*:",
            counts_as_update=False,
        )
        self._reset(escalation_id, FollowUpKind.CUSTOMER_UPDATE)
        return outcome

    def severity_form(self, escalation_id: int, user: str, *, team_id: str | None = None) -> tuple[str, Severity, str | None]:
        """(ref, current severity, None) when `user` may open the severity modal; the third item says why not otherwise."""
        if refused := self.refused(escalation_id, user, verb(ACTION, ids.ACTION_CHANGE_SEVERITY), team_id=team_id):
            return "", Severity.MEDIUM, refused.message
        with self.db.session() as s:
            row = escalations.get_for_team(s, escalation_id, team_id)
            return format_ref(row.number), Severity(row.severity), _closed(row)

    def change_severity(self, escalation_id: int, user: str, severity: Severity, reason: str, *, team_id: str | None = None) -> Outcome:
        """Re-assess severity: both timers (and the ack window) re-planned at once on the new cadence.
        A closed brief has no cadence left to re-plan: it is re-opened first."""
        if refused := self.refused(escalation_id, user, verb(VIEW, ids.VIEW_CHANGE_SEVERITY), team_id=team_id):
            return refused
        now = self.clock.now()
        with self.db.session() as s:
            row = escalations.get_for_team(s, escalation_id, team_id)
            ref, old = format_ref(row.number), Severity(row.severity)
            if closed := _closed(row):
                return Outcome(ref, closed)
            if old is severity:
                return Outcome(ref, f"{ref} is already {severity.label}.")
            brief = escalations.brief_of(row).model_copy(update={"severity": severity})
            row.severity, row.brief, row.updated_at = severity.value, brief.model_dump(mode="json"), now
            s.add(row)
            cadence = self.cadences[severity]
            for kind, follow_up in follow_ups.follow_ups(s, escalation_id).items():
                if not follow_up.active or kind in (FollowUpKind.DEADLINE.value, FollowUpKind.COMPLETE.value):  # fixed moments, not a cadence
                    continue
                p = plan.replan(FollowUpKind(kind), anchor=follow_up.anchor_at, cadence=cadence, tz=row.agent_tz, now=now, stage=follow_up.stage)
                follow_ups.upsert_follow_up(s, escalation_id, kind, next_due_at=p.next_due_at, anchor_at=p.anchor_at, stage=p.stage)
            running_log.add_log(
                s,
                escalation_id,
                actor=user,
                kind=LogKind.SEVERITY_CHANGED,
                text=f"{old.label} → {severity.label}: {reason}",
                at=now,
                data={"from": old.value, "to": severity.value},
            )
            thread = (row.channel_id, row.message_ts)
        self.notify_thread(
            thread, f"{severity.emoji} <@{user}> changed the severity of *{ref}* from {old.label} to *{severity.label}*:\n{views.quoted(reason)}"
        )
        self.escalations.refresh(escalation_id)
        return Outcome(ref)

    def snooze(self, follow_up_id: int, user: str, minutes: int, *, team_id: str | None = None) -> Outcome:
        """Move a reminder later. A closed brief's reminders have stopped: nothing to snooze."""
        with self.db.read_session() as s:
            follow_up = s.get(FollowUp, follow_up_id)
            escalation_id = follow_up.escalation_id if follow_up is not None else None
        if escalation_id is None:
            return Outcome("", NOT_FOUND)
        if refused := self.refused(escalation_id, user, verb(ACTION, ids.ACTION_SNOOZE_PATTERN), team_id=team_id):
            return refused
        now = self.clock.now()
        with self.db.session() as s:
            follow_up = s.get(FollowUp, follow_up_id)
            if follow_up is None:  # its brief was deleted since
                return Outcome("", NOT_FOUND)
            row = escalations.get_for_team(s, escalation_id, team_id)
            if row.status in CLOSED_STATUSES:
                ref = format_ref(row.number)
                return Outcome(ref, f"{ref} is {EscalationStatus(row.status).label.lower()}: its reminders have stopped, there is nothing to snooze.")
            until = now + timedelta(minutes=minutes)
            follow_ups.snooze(s, follow_up_id, until=until)
            what = (
                "check-in"
                if follow_up.kind == FollowUpKind.CHECKIN.value
                else "customer update"
                if follow_up.kind == FollowUpKind.CUSTOMER_UPDATE.value
                else follow_up.kind
            )
            running_log.add_log(s, row.id, actor=user, kind=LogKind.SNOOZED, text=f"{what} reminder snoozed for {minutes} min", at=now)
            ref = format_ref(row.number)
        self.escalations.refresh(row.id)
        return Outcome(ref, f":zzz: {ref}: {what} reminder snoozed for {minutes} minutes.")

    def thread_reply(self, channel: str, thread_ts: str, user: str, text: str, *, team_id: str | None = None) -> bool:
        """A reply in a brief's thread: logged; from the agent it counts as a check-in. False if not a brief."""
        now = self.clock.now()
        with self.db.session() as s:
            row = escalations.find_by_message(s, channel, thread_ts, team_id=team_id)
            if row is None:
                return False
            running_log.add_log(s, row.id, actor=user, kind=LogKind.THREAD_REPLY, text=text[:3000], at=now)
            is_agent, escalation_id = user == row.agent_user_id, row.id
            if not is_agent:
                row.last_update_at, row.last_update_by, row.last_update_text = now, user, text[:3000]
                s.add(row)
        if is_agent:
            self._reset(escalation_id, FollowUpKind.CHECKIN)
        self.escalations.refresh(escalation_id)
        return True

    def reaction(self, channel: str, ts: str, user: str, emoji: str, *, ack_emoji: str, fixed_emoji: str, team_id: str | None = None) -> bool:
        with self.db.session() as s:
            row = escalations.find_by_message(s, channel, ts, team_id=team_id)
            if row is None:
                return False
            escalation_id, team_id = row.id, row.team_id
            running_log.add_log(s, row.id, actor=user, kind=LogKind.REACTION, text=f":{emoji}:", at=self.clock.now())
        outcome = None
        if emoji == ack_emoji:
            outcome = self.acknowledge(escalation_id, user, team_id=team_id, via=f":{emoji}:")
        elif emoji == fixed_emoji:
            outcome = self.mark_fixed(escalation_id, user, team_id=team_id)
        if outcome is not None and outcome.message:
            try:  # a reaction has no response_url: tell the reactor where they reacted, only to them
                self.gateway.post_ephemeral(channel, user, text=outcome.message, thread_ts=None)
            except SlackCallFailed as exc:
                log.info("could not tell %s about their reaction: %s", user, exc.error)
        return True

    def running_log(self, escalation_id: int, user: str, *, team_id: str | None = None) -> tuple[str, list[tuple[datetime, str, str, str]], str | None]:
        """(ref, entries, None) for someone involved; ("", [], what to tell them) for anyone else."""
        if refused := self.refused(escalation_id, user, verb(ACTION, ids.ACTION_VIEW_LOG), team_id=team_id):
            return "", [], refused.message
        with self.db.read_session() as s:
            row = escalations.get_for_team(s, escalation_id, team_id)
            return format_ref(row.number), [(e.at, e.actor, e.kind, e.text) for e in running_log.log_entries(s, escalation_id)], None

    def running_log_by_number(self, team_id: str, number: int, user: str) -> tuple[str, list[tuple[datetime, str, str, str]], str | None]:
        """`/escalate log ESC-<number>`: as running_log; an unknown number and a hidden brief get the same answer."""
        found = self.guard.parties_by_number(team_id, number)
        if found is None:
            return "", [], no_such_ref(number)
        ref, entries, refusal = self.running_log(found.escalation_id, user, team_id=team_id)
        return ref, entries, (no_such_ref(number) if refusal == NOT_FOUND else refusal)

    # --- shared ----------------------------------------------------------------------------------

    def refused(self, escalation_id: int, user: str, what: str, *, team_id: str | None) -> Outcome | None:
        """An Outcome telling `user` they may not `what` this brief (logged), or None when they may."""
        message = self.guard.refusal(escalation_id, user, what, team_id=team_id)
        return Outcome("", message) if message else None

    def _note(self, escalation_id: int, user: str, text: str, *, team_id: str | None, kind: LogKind, headline: str, counts_as_update: bool = True) -> Outcome:
        now = self.clock.now()
        with self.db.session() as s:
            row = escalations.get_for_team(s, escalation_id, team_id)
            ref = format_ref(row.number)
            running_log.add_log(s, escalation_id, actor=user, kind=kind, text=text, at=now)
            if counts_as_update:
                row.last_update_at, row.last_update_by, row.last_update_text = now, user, text
            row.updated_at = now
            s.add(row)
            thread, agent = (row.channel_id, row.message_ts), row.agent_user_id
        self.notify_thread(thread, headline.format(user=user, agent=agent, ref=ref) + "\n" + views.quoted(text))
        self.escalations.refresh(escalation_id)
        return Outcome(ref)

    def _reset(self, escalation_id: int, kind: FollowUpKind) -> None:
        now = self.clock.now()
        with self.db.session() as s:
            row = escalations.get_escalation(s, escalation_id)
            if row is None or row.status not in ACTIVE_STATUSES:
                return
            cadence = self.cadences[Severity(row.severity)]
            p = (plan.reset_checkin if kind is FollowUpKind.CHECKIN else plan.reset_customer_update)(at=now, cadence=cadence, tz=row.agent_tz)
            follow_ups.upsert_follow_up(s, escalation_id, kind.value, next_due_at=p.next_due_at, anchor_at=p.anchor_at, stage=p.stage)
        self.escalations.refresh(escalation_id)

    def notify_thread(self, thread: tuple[str, str | None], text: str) -> None:
        channel, ts = thread
        if not ts:
            return
        try:
            self.gateway.post_message(channel, text=text, blocks=views.thread_note(text)[1], thread_ts=ts)
        except SlackCallFailed as exc:
            log.warning("thread note failed in %s: %s", channel, exc.error)

    def dm(self, text: str, blocks: list[dict] | None = None, *, user: str) -> None:
        try:
            self.gateway.post_message(user, text=text, blocks=blocks or views.thread_note(text)[1])
        except SlackCallFailed as exc:
            log.warning("DM to %s failed: %s", user, exc.error)


def _closed(row: Escalation) -> str | None:
    """Why an action that changes who handles the brief, or how urgently, waits for a re-open (None: the brief is not closed).
    Notes (updates, check-ins, customer updates, questions) are still welcome on a closed brief: they only add to its record."""
    if row.status not in CLOSED_STATUSES:
        return None
    ref = format_ref(row.number)
    return f"{ref} is {EscalationStatus(row.status).label.lower()}: re-open it first."

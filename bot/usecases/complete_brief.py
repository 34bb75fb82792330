"""Complete a brief posted with *Post now*: the form pre-filled with what was given, then the same
posted message updated in place (chat.update of its ts, plus any thread parts it now needs), the
running log told, the reminders stopped and the marker gone.

Only the escalating agent and the admins may complete a brief (ACCESS: Who.AGENT). Completing is
once: the row is held (get_for_team) and its `missing` checked in the same transaction, so a double
submission or a replay finds it complete and changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from blocks import ids
from blocks.complete_brief import complete_modal
from blocks.kit import View
from bot.domain.brief import Brief, Severity, format_ref
from bot.domain.cadence import next_deadline_mark
from bot.domain.complete_brief import missing_text
from bot.domain.status import FollowUpKind, LogKind
from bot.domain.validation import draft_of
from bot.storage import escalations, follow_ups, running_log
from bot.usecases.escalate import Escalations
from bot.usecases.permissions import ACTION, NOT_FOUND, VIEW, verb

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Completed:
    ref: str
    done: bool = False  # completed now (by this call)
    message: str | None = None  # what to tell the person instead (a refusal, "complete already")
    permalink: str | None = None


class CompleteBriefs:
    def __init__(self, escalations: Escalations, *, default_currency: str = "USD") -> None:
        self.escalations = escalations
        self.db, self.gateway, self.clock, self.guard = escalations.db, escalations.gateway, escalations.clock, escalations.guard
        self.default_currency = default_currency

    def _refusal(self, escalation_id: int, user: str, kind: str, id_: str, team_id: str | None) -> str | None:
        if self.guard is None:
            return None
        return self.guard.refusal(escalation_id, user, verb(kind, id_), team_id=team_id, agent_only=True)

    def form_for(self, escalation_id: int, user: str, *, team_id: str | None = None) -> View | str:
        """*Complete the brief*: the form pre-filled with what the brief says, or what to tell the clicker."""
        if refusal := self._refusal(escalation_id, user, ACTION, ids.ACTION_COMPLETE_BRIEF, team_id):
            return refusal
        with self.db.read_session() as s:
            row = escalations.get_escalation(s, escalation_id)
            if row is None:  # deleted since the guard read it
                return NOT_FOUND
            ref = format_ref(row.number)
            if row.missing is None:
                return f":white_check_mark: {ref} is complete already: nothing is missing."
            brief = escalations.brief_of(row)
            filed_at = row.created_at
        # The destination and severity stay as they are now (a severity change updates the stored brief).
        return complete_modal(
            escalation_id=escalation_id,
            ref=ref,
            destination=brief.destination,
            severity=brief.severity,
            initial=draft_of(brief),
            missing=list(brief.missing),
            filed_at=filed_at,
        )

    def complete(self, escalation_id: int, user: str, brief: Brief, *, team_id: str | None = None) -> Completed:
        """Store the completed brief (validated by the caller, in full), log it, stop the reminders and
        update the posted message in place. Once: a brief already complete is left as it is."""
        if refusal := self._refusal(escalation_id, user, VIEW, ids.VIEW_COMPLETE_BRIEF, team_id):
            return Completed("", message=refusal)
        now = self.clock.now()
        with self.db.session() as s:
            row = escalations.get_for_team(s, escalation_id, team_id)
            ref = format_ref(row.number)
            if row.missing is None:  # completed meanwhile (a double submission, another tab)
                return Completed(ref, message=f":white_check_mark: {ref} is complete already: nothing changed.")
            stored = escalations.brief_of(row)
            added = list(stored.missing)
            # Where it went and how severe it is are settled elsewhere (routing, Change severity): kept.
            brief = brief.model_copy(update={"destination": stored.destination, "severity": Severity(row.severity), "missing": ()})
            old_deadline = row.deadline_at
            escalations.complete_brief(s, row, brief, now=now)
            follow_ups.deactivate_follow_ups(s, escalation_id, (FollowUpKind.COMPLETE.value,))
            if brief.request.deadline != old_deadline and row.posted_at is not None:
                self._replan_deadline(s, escalation_id, posted_at=row.posted_at, deadline=brief.request.deadline, now=now)
            running_log.add_log(
                s,
                escalation_id,
                actor=user,
                kind=LogKind.COMPLETED,
                text=f"Brief completed: {missing_text(added)} added",
                at=now,
                data={"added": added},
            )
            posted = (row.channel_id, row.message_ts) if row.message_ts else None
            rendered = self.escalations.rendered(s, row) if posted else None
            grown = bool(rendered and len(rendered.continuations) > row.parts_total)
            if rendered is not None and grown:  # the whole brief no longer fits one message: its thread gets the rest
                row.parts_total, row.next_delivery_at = len(rendered.continuations), now
                s.add(row)
        if posted is None or rendered is None:  # not delivered yet: it goes out complete
            return Completed(ref, done=True)
        channel, ts = posted
        self.escalations.update_posted(escalation_id, channel, ts, rendered.text, rendered.blocks)  # the same message, in place
        if grown:
            self.escalations.post_missing_parts()  # the new parts, in order (the tick retries what Slack refuses)
        return Completed(ref, done=True, permalink=self.gateway.permalink(channel, ts))

    @staticmethod
    def _replan_deadline(s, escalation_id: int, *, posted_at: datetime, deadline: datetime, now: datetime) -> None:
        mark = next_deadline_mark(posted_at, deadline, after=now)
        if mark is None:
            follow_ups.deactivate_follow_ups(s, escalation_id, (FollowUpKind.DEADLINE.value,))
        else:
            follow_ups.upsert_follow_up(s, escalation_id, FollowUpKind.DEADLINE.value, next_due_at=mark[1], anchor_at=posted_at, stage=mark[0])

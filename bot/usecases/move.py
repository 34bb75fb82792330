"""Move an escalation to another team: the receiving team, the agent or an admin says "this is
Product's, not ours", with a reason, and the brief goes there with its history.

Who: the people involved (bot.usecases.permissions.ACCESS), and for a security brief only its
channel's members and admins. What may move where: the tier rules (bot.domain.routing.move_refusal);
a security brief stays in Security. The new team's package is asked for, pre-filled from the brief,
and validated by the brief form's rules (bot.domain.move).

Order, so that nothing the mover is told is lost: the brief is posted in the new channel first; then
one transaction moves it (a conditional UPDATE: of two moves at once one applies), logs it, and
restarts the acknowledgement window; then the old message becomes "Moved to Product: reason" with a
link, the old thread hears it, and the agent is told by DM. A failed post changes nothing and says why.
Check-ins, customer updates and deadline marks keep their times; the owner is unset.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from blocks import ids
from blocks import move as views
from blocks.kit import View
from blocks.notices import delivery_problem
from bot.domain import follow_through as plan
from bot.domain.brief import Destination, Severity, format_ref, message_link
from bot.domain.move import MovedBrief, moved_brief, prefill
from bot.domain.routing import move_refusal
from bot.domain.status import MOVE, EscalationStatus, LogKind
from bot.domain.visibility import Parties, Verdict, may_act
from bot.slack_api.gateway import CONTINUATION_EVENT_TYPE, SlackCallFailed
from bot.storage import continuations, escalations, follow_ups, moves, running_log, search
from bot.usecases.follow_through import FollowThrough, Outcome
from bot.usecases.permissions import ACTION, VIEW, verb

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Standing:
    """What the mover is to the brief, read without logging anything."""

    parties: Parties | None
    allowed: bool  # involved (bot.domain.visibility.may_act)
    team_side: bool  # a member of the brief's channel, its receiving owner or an admin
    may_move_private: bool  # a security brief moves only by its channel's members and admins


class Move:
    def __init__(self, follow_through: FollowThrough, channels: dict[Destination, str]) -> None:
        self.ft = follow_through
        self.channels = channels
        self.db, self.gateway, self.clock, self.escalations, self.guard = (
            follow_through.db,
            follow_through.gateway,
            follow_through.clock,
            follow_through.escalations,
            follow_through.guard,
        )

    # --- before the modal, and while it is filled in ----------------------------------------------

    def form(
        self, escalation_id: int, user: str, *, team_id: str | None, target: str | None = None, typed: dict[str, Any] | None = None, reason: str = ""
    ) -> tuple[View | None, str | None]:
        """(the move modal, None) for someone who may move this brief now; (None, why not) otherwise.
        `target`, `typed`, `reason`: what the modal holds so far (re-rendered for a chosen team)."""
        if refused := self.ft.refused(escalation_id, user, verb(ACTION, ids.ACTION_MOVE), team_id=team_id):
            return None, refused.message
        standing = self._standing(escalation_id, user, team_id)
        with self.db.read_session() as s:
            row = escalations.get_for_team(s, escalation_id, team_id)
            ref, status, source, brief = format_ref(row.number), EscalationStatus(row.status), Destination(row.destination), escalations.brief_of(row)
        if not standing.may_move_private:
            return None, _private_only(ref)
        if why := _not_movable(ref, status):
            return None, why
        chosen = _destination(target)
        notice = None
        if chosen is not None and (why := move_refusal(source, chosen, by_receiving_team=standing.team_side)):
            notice = f":no_entry_sign: *Not to {chosen.label}:* {why}"
        initial = {**prefill(brief, chosen), **{k: v for k, v in (typed or {}).items() if v not in (None, "")}} if chosen else {}
        return views.move_modal(escalation_id=escalation_id, ref=ref, source=source, target=chosen, initial=initial, reason=reason, notice=notice), None

    def check(self, escalation_id: int, user: str, target: str, reason: str, typed: dict[str, Any], *, team_id: str | None) -> dict[str, str] | None:
        """Before the submission is answered: field name → error to show in the modal, or None to go
        on (`move` then moves it, or tells someone who may not why). Writes nothing, and tells someone
        not allowed nothing about the brief."""
        standing = self._standing(escalation_id, user, team_id)
        if standing.parties is None or not standing.allowed or not standing.may_move_private:
            return None
        with self.db.read_session() as s:
            row = escalations.get_for_team(s, escalation_id, team_id)
            ref, status, source, brief, filed = (
                format_ref(row.number),
                EscalationStatus(row.status),
                Destination(row.destination),
                escalations.brief_of(row),
                row.created_at,
            )
        result = self._validate(ref, status, source, brief, filed, target, reason, typed, team_side=standing.team_side)
        return result if isinstance(result, dict) else None

    # --- the move ----------------------------------------------------------------------------------

    def move(self, escalation_id: int, user: str, target: str, reason: str, typed: dict[str, Any], *, team_id: str | None) -> Outcome:
        if refused := self.ft.refused(escalation_id, user, verb(VIEW, ids.VIEW_MOVE), team_id=team_id):
            return refused
        standing = self._standing(escalation_id, user, team_id)
        now = self.clock.now()
        with self.db.read_session() as s:
            row = escalations.get_for_team(s, escalation_id, team_id)
            s.expunge(row)  # changed below only to render the new post; never written from here
            ref, source = format_ref(row.number), Destination(row.destination)
            if not standing.may_move_private:
                return Outcome(ref, _private_only(ref))
            result = self._validate(
                ref, EscalationStatus(row.status), source, escalations.brief_of(row), row.created_at, target, reason, typed, team_side=standing.team_side
            )
            if isinstance(result, dict):
                return Outcome(ref, f":warning: {ref} was not moved: {next(iter(result.values()))}")
            to = result.brief.destination
            channel, old_channel, old_ts, agent, summary = self.channels[to], row.channel_id, row.message_ts or "", row.agent_user_id, row.summary
            old_parts = row.parts_posted  # thread parts of a long brief in the old thread
            moved_from = {
                "destination": source.value,
                "channel_id": old_channel,
                "message_ts": old_ts,
                "by": user,
                "reason": result.reason,
                "at": now.isoformat(),
            }
            brief_json = result.brief.model_dump(mode="json")
            row.destination, row.channel_id, row.status, row.receiving_owner_id = to.value, channel, MOVE.to.value, None
            row.brief, row.moved_from = brief_json, moved_from
            rendered = self.escalations.rendered(s, row)
        try:
            channel, ts = self.escalations.post_brief_message(channel, rendered, escalation_id, ref)
        except SlackCallFailed as exc:
            log.warning("%s not moved: posting in %s failed (%s)", ref, channel, exc.error)
            return Outcome(ref, f":warning: {ref} was not moved: I could not post it in <#{channel}>. {delivery_problem(exc.error, channel)} Nothing changed.")
        new_link = message_link(channel, ts)
        with self.db.session() as s:
            applied = moves.apply_move(
                s,
                escalation_id,
                source=source.value,
                from_ts=old_ts,
                target=to.value,
                channel_id=channel,
                ts=ts,
                brief=brief_json,
                moved_from=moved_from,
                now=now,
            )
            if applied:
                fresh = escalations.get_escalation(s, escalation_id)
                assert fresh is not None
                ack = plan.restart_ack(now=now, cadence=self.ft.cadences[Severity(fresh.severity)], tz=fresh.agent_tz)
                follow_ups.upsert_follow_up(s, escalation_id, ack.kind.value, next_due_at=ack.next_due_at, anchor_at=ack.anchor_at, stage=ack.stage)
                running_log.add_log(
                    s,
                    escalation_id,
                    actor=user,
                    kind=LogKind.MOVED,
                    text=f"Moved from {source.label} to {to.label}: {result.reason}",
                    at=now,
                    data={
                        "from": source.value,
                        "to": to.value,
                        "reason": result.reason,
                        "by": user,
                        "from_channel": old_channel,
                        "from_ts": old_ts,
                        "to_channel": channel,
                        "to_ts": ts,
                    },
                )
                if rendered.continuations:
                    continuations.start(s, escalation_id, total=len(rendered.continuations))
                search.index_escalation(s, escalation_id)
        if not applied:  # someone else moved, closed or took it meanwhile: this post is not the brief
            self._superseded(channel, ts, ref)
            return Outcome(ref, f"{ref} changed while you were moving it (moved, closed or marked fixed): it was not moved. Look at it again.")
        if rendered.continuations:
            self.escalations.post_parts(escalation_id, ref, channel, ts, rendered.continuations, already=0, attempt=1)
        self._leave_old(old_channel, old_ts, ref=ref, summary=summary, result=result, by=user, new_link=new_link)
        if to is Destination.SECURITY and old_parts:
            self._withdraw_parts(old_channel, old_ts, escalation_id, ref)
        if user != agent:
            self.ft.dm(views.moved_dm(ref=ref, target=to, by=user, reason=result.reason, channel=channel, new_link=new_link), user=agent)
        return Outcome(ref)

    # --- shared ------------------------------------------------------------------------------------

    def _validate(
        self, ref: str, status: EscalationStatus, source: Destination, brief, filed, target: str, reason: str, typed: dict[str, Any], *, team_side: bool
    ) -> MovedBrief | dict[str, str]:
        if why := _not_movable(ref, status):
            return {"destination": why}
        chosen = _destination(target)
        if chosen is None:
            return {"destination": "Pick the team it moves to."}
        if why := move_refusal(source, chosen, by_receiving_team=team_side):
            return {"destination": why}
        if chosen not in self.channels or not self.channels[chosen]:
            return {"destination": f"{chosen.label} has no channel configured: ask an admin."}
        return moved_brief(brief, chosen, typed, reason, filed_at=filed)

    def _standing(self, escalation_id: int, user: str, team_id: str | None) -> _Standing:
        parties = self.guard.parties(escalation_id, team_id)
        if parties is None:
            return _Standing(None, False, False, False)
        admin = user in self.guard.admins
        member = self.guard.members.contains(parties.channel, user) if not admin else True  # never inside a session: it may call Slack
        allowed = may_act(parties, user, admins=self.guard.admins, member=member) is Verdict.ALLOWED
        return _Standing(parties, allowed, admin or member is True or user == parties.owner, not parties.private or admin or member is True)

    def _leave_old(self, channel: str, ts: str, *, ref: str, summary: str, result: MovedBrief, by: str, new_link: str) -> None:
        """The old message says where the brief went (and, for a move into Security, nothing more)."""
        to = result.brief.destination
        text, blocks = views.moved_away_message(ref=ref, summary=summary, target=to, by=by, reason=result.reason, new_link=new_link)
        try:
            self.gateway.update_message(channel, ts, text=text, blocks=blocks)
        except SlackCallFailed as exc:
            log.warning("could not mark the old message of %s as moved: %s", ref, exc.error)
        if to is not Destination.SECURITY:  # a private brief is not named outside its channel
            self.ft.notify_thread((channel, ts), views.moved_thread_note(ref=ref, target=to, by=by, reason=result.reason, new_link=new_link))

    def _withdraw_parts(self, channel: str, ts: str, escalation_id: int, ref: str) -> None:
        """Moved into Security: the long brief's thread parts in the old channel stop showing its details."""
        text, blocks = views.moved_away_message(ref=ref, summary="", target=Destination.SECURITY, by="", reason="", new_link=None)
        try:
            parts = self.gateway.find_all_posted(channel, CONTINUATION_EVENT_TYPE, {"escalation_id": escalation_id}, thread_ts=ts)
            for part_channel, part_ts in parts:
                self.gateway.update_message(part_channel, part_ts, text=text, blocks=blocks)
        except SlackCallFailed as exc:
            log.warning("could not withdraw the old thread parts of %s: %s", ref, exc.error)

    def _superseded(self, channel: str, ts: str, ref: str) -> None:
        text = f"This copy of {ref} was not used: the escalation changed while it was being moved."
        try:
            self.gateway.update_message(channel, ts, text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}])
        except SlackCallFailed as exc:
            log.warning("could not withdraw the unused copy of %s: %s", ref, exc.error)


def _destination(value: str | None) -> Destination | None:
    try:
        return Destination(value) if value else None
    except ValueError:
        return None


def _not_movable(ref: str, status: EscalationStatus) -> str | None:
    if status.value in MOVE.from_statuses:
        return None
    if status is EscalationStatus.FIXED_PENDING:
        return f"{ref} is marked fixed: the agent is confirming with the customer. Re-open it first if it is not fixed."
    if status is EscalationStatus.PENDING_DELIVERY:
        return f"{ref} is not posted yet: it can move once it is in its channel."
    return f"{ref} is {status.label.lower()}: re-open it first."


def _private_only(ref: str) -> str:
    return f":lock: {ref} is a security brief: only members of the security channel and admins can move it."

"""How an escalation ends and starts again: de-escalation, resolution with lessons learned, re-open.

The method's de-escalation procedure, in order: the receiving team is told in the thread, the
outcome is recorded in the log, the agent is prompted to tell the customer (if not done yet), and
the findings are stored where future agents search; nudges stop. Resolution: the agent confirms
with the customer and closes with lessons learned, which become searchable. A closed escalation can
be re-opened; its cadence resumes from that moment.

Each status change is one conditional UPDATE inside the transaction that records it, so a double
click or a repeated submission has exactly one effect. Slack calls come after the commit.
"""

from __future__ import annotations

from blocks import ids
from blocks import lifecycle as views
from bot.domain import follow_through as plan
from bot.domain.brief import Severity, format_ref
from bot.domain.lifecycle import Deescalation, Lessons, humanise
from bot.domain.status import ACTIVE_STATUSES, DEESCALATE, RESOLVE, EscalationStatus, LogKind, reopen
from bot.storage import escalations, follow_ups, running_log, search
from bot.usecases.follow_through import FollowThrough, Outcome
from bot.usecases.permissions import ACTION, VIEW, verb

# What a button needs the brief to be in before its modal opens (checked again on submission).
OPENS_WHEN = {ids.ACTION_DEESCALATE: ACTIVE_STATUSES, ids.ACTION_CLOSE: ACTIVE_STATUSES}


class Lifecycle:
    def __init__(self, follow_through: FollowThrough) -> None:
        self.ft = follow_through
        self.db, self.clock, self.escalations = follow_through.db, follow_through.clock, follow_through.escalations

    def may_open(self, escalation_id: int, user: str, action_id: str, *, team_id: str | None = None) -> tuple[str, str | None]:
        """(ref, None) when `user` may start this button's modal on this brief now; (ref, why not) otherwise."""
        what = verb(ACTION, action_id)
        if refused := self.ft.refused(escalation_id, user, what, team_id=team_id):
            return "", refused.message  # before anything about the brief: a hidden brief reveals nothing
        with self.db.session() as s:
            row = escalations.get_for_team(s, escalation_id, team_id)
            ref, status = format_ref(row.number), EscalationStatus(row.status)
        if status.value not in OPENS_WHEN[action_id]:
            return ref, f"{ref} is {status.label.lower()}: there is nothing to {what}."
        return ref, None

    def deescalate(self, escalation_id: int, user: str, d: Deescalation, *, team_id: str | None = None) -> Outcome:
        if refused := self.ft.refused(escalation_id, user, verb(VIEW, ids.VIEW_DEESCALATE), team_id=team_id):
            return refused
        now = self.clock.now()
        with self.db.session() as s:
            row = escalations.get_for_team(s, escalation_id, team_id)
            ref = format_ref(row.number)
            if not escalations.transition(s, escalation_id, DEESCALATE, now=now):
                return Outcome(ref, f"{ref} is {EscalationStatus(row.status).label.lower()} already.")
            row.resolution, row.resolved_at, row.lessons = d.resolution, now, None
            s.add(row)
            follow_ups.deactivate_follow_ups(s, escalation_id)
            running_log.add_log(
                s,
                escalation_id,
                actor=user,
                kind=LogKind.DEESCALATED,
                text=f"{d.reason.label}: {d.findings}",
                at=now,
                data={"reason": d.reason.value, "customer_told": d.customer_told, "root_cause": d.root_cause},
            )
            search.index_escalation(s, escalation_id)  # the findings are found by the next agent
            agent, owner, thread = row.agent_user_id, row.receiving_owner_id, (row.channel_id, row.message_ts)
        team = f"<@{owner}> and the receiving team can stand down" if owner and owner != user else "The receiving team can stand down"
        root = f"\n*Root cause:* {views.inline(d.root_cause)}" if d.root_cause else ""
        self.ft.notify_thread(
            thread,
            f":leftwards_arrow_with_hook: <@{user}> de-escalated *{ref}*: {d.reason.label}. {team}; follow-ups have stopped.\n"
            f"*Found:* {views.inline(d.findings)}{root}",
        )
        if not d.customer_told or user != agent:
            text, blocks = views.deescalated_dm(
                ref=ref, by=user, agent=agent, reason=d.reason.label, customer_told=d.customer_told, escalation_id=escalation_id
            )
            self.ft.dm(text, blocks, user=agent)
        self.escalations.refresh(escalation_id)
        return Outcome(ref)

    def close(self, escalation_id: int, user: str, lessons: Lessons, *, team_id: str | None = None) -> Outcome:
        """Resolved: confirmed with the customer; what happened, the root cause and what to do next time are kept."""
        if refused := self.ft.refused(escalation_id, user, verb(VIEW, ids.VIEW_CLOSE), team_id=team_id):
            return refused
        now = self.clock.now()
        with self.db.session() as s:
            row = escalations.get_for_team(s, escalation_id, team_id)
            ref = format_ref(row.number)
            if not escalations.transition(s, escalation_id, RESOLVE, now=now):
                return Outcome(ref, f"{ref} is {EscalationStatus(row.status).label.lower()} already.")
            took = humanise(now - (row.posted_at or row.created_at))
            row.resolution, row.lessons, row.resolved_at = lessons.resolution, lessons.next_time, now
            s.add(row)
            follow_ups.deactivate_follow_ups(s, escalation_id)
            running_log.add_log(
                s,
                escalation_id,
                actor=user,
                kind=LogKind.RESOLVED,
                text=f"Resolved after {took}. Root cause: {lessons.root_cause}",
                at=now,
                data={
                    "what_happened": lessons.what_happened,
                    "root_cause": lessons.root_cause,
                    "next_time": lessons.next_time,
                    "seconds": int((now - (row.posted_at or row.created_at)).total_seconds()),
                },
            )
            search.index_escalation(s, escalation_id)  # lessons learned become searchable
            thread = (row.channel_id, row.message_ts)
        self.ft.notify_thread(
            thread,
            f":white_check_mark: <@{user}> confirmed the fix with the customer and resolved *{ref}* after {took}.\n"
            f"*Root cause:* {views.inline(lessons.root_cause)}\n*Next time:* {views.inline(lessons.next_time)}",
        )
        self.escalations.refresh(escalation_id)
        return Outcome(ref)

    def reopen(self, escalation_id: int, user: str, *, team_id: str | None = None) -> Outcome:
        """Back to open (or acknowledged, if someone owns it); every timer planned again from now."""
        if refused := self.ft.refused(escalation_id, user, verb(ACTION, ids.ACTION_REOPEN), team_id=team_id):
            return refused
        now = self.clock.now()
        with self.db.session() as s:
            row = escalations.get_for_team(s, escalation_id, team_id)
            ref, was = format_ref(row.number), EscalationStatus(row.status)
            owned = row.receiving_owner_id is not None
            if not escalations.transition(s, escalation_id, reopen(owned=owned), now=now):
                return Outcome(ref, f"{ref} is not closed: it is {EscalationStatus(row.status).label.lower()}.")
            previous = row.resolution
            row.resolution, row.lessons, row.resolved_at = None, None, None  # what was learned stays in the log
            s.add(row)
            follow_ups.deactivate_follow_ups(s, escalation_id)
            plans = plan.resume(
                now=now,
                posted_at=row.posted_at or row.created_at,
                deadline=row.deadline_at,
                cadence=self.ft.cadences[Severity(row.severity)],
                tz=row.agent_tz,
                acknowledged=owned,
            )
            for p in plans:
                follow_ups.upsert_follow_up(s, escalation_id, p.kind.value, next_due_at=p.next_due_at, anchor_at=p.anchor_at, stage=p.stage)
            running_log.add_log(
                s,
                escalation_id,
                actor=user,
                kind=LogKind.REOPENED,
                text=f"Re-opened (was {was.label.lower()})",
                at=now,
                data={"was": was.value, "resolution": previous},
            )
            search.index_escalation(s, escalation_id)
            thread, agent = (row.channel_id, row.message_ts), row.agent_user_id
            checkin = next(p.next_due_at for p in plans if p.kind.value == "checkin")
        self.ft.notify_thread(
            thread,
            f":arrows_counterclockwise: <@{user}> re-opened *{ref}* (it was {was.label.lower()}). "
            f"Follow-ups resume from now: <@{agent}>'s next check-in is due {views.when(checkin)}.",
        )
        self.escalations.refresh(escalation_id)
        return Outcome(ref)

"""Pattern links: "possibly the same problem" suggestions, and people confirming or rejecting them.

When a brief is posted, the earlier briefs matching linked to it automatically (bot.usecases.patterns
`record`), from other customers and not yet decided on, are offered to its agent (the result view and
the DM: what the agent may see) and to the receiving team (a reply in the brief's thread: what may be
named in that channel). *Same problem* (or `/escalate link ESC-12 ESC-31`) confirms a pair; *Not
related* (or `/escalate unlink`) rejects it for good. Every decision is written in both briefs' running
logs; a confirmation that joins two groups updates every posted brief of the group (chat.update) and
notes the new evidence in their threads.

Who may decide: someone involved in one of the two briefs (for a button: the brief it sits on) who may
see the other. A security brief is never offered to, nor linked by, anyone not involved in it: to them
it reads exactly as an unknown ID (bot.domain.visibility).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from blocks import ids
from blocks.pattern_links import decided_line, suggestions_message
from blocks.text import escape, truncate
from bot.domain import patterns as rules
from bot.domain.brief import format_ref, parse_ref
from bot.domain.patterns import LinkKind, Suggestion
from bot.domain.status import LogKind
from bot.domain.visibility import Parties, may_name_in
from bot.slack_api.gateway import SlackCallFailed
from bot.storage import escalations as stored
from bot.storage import pattern_links, running_log, search
from bot.storage.running_log import BOT_ACTOR
from bot.usecases.patterns import Pattern, evidence
from bot.usecases.permissions import ACTION, NOT_FOUND, no_such_ref, verb

log = logging.getLogger(__name__)

USAGE = "Name two escalations: `/escalate link ESC-12 ESC-31` (same problem) or `/escalate unlink ESC-12 ESC-31` (not related)."
NOTES_MAX = 20  # threads told of one confirmation at most (a group is rarely bigger)


def offer_suggestions(escalations, escalation_id: int, *, ref: str, agent: str, channel: str, ts: str) -> tuple[Suggestion, ...]:
    """Right after a brief is posted: the suggestions in its thread (what may be named in its channel),
    and those its agent may see (returned, for the result view and the DM). Best effort: the brief is safe."""
    patterns, guard = escalations.patterns, escalations.guard
    if patterns is None:
        return ()
    with escalations.db.read_session() as s:
        found = patterns.suggestions(s, escalation_id)
    if not found:
        return ()
    keep = search.SUGGESTIONS
    for_team = [sg for sg, _, destination in found if may_name_in(destination, sg.channel_id, channel)][:keep]
    # Outside any session: seeing a private brief may need its channel's members (a Slack call).
    for_agent = [sg for sg, parties, _ in found if guard is None or guard.sees(parties, agent)][:keep]
    if for_team:
        text, blocks = suggestions_message(ref, escalation_id, for_team, now=escalations.clock.now())
        try:
            escalations.gateway.post_message(channel, text=text, blocks=blocks, thread_ts=ts)
        except SlackCallFailed as exc:
            log.warning("suggestions for %s not posted in its thread: %s", ref, exc.error)
    return tuple(for_agent)


@dataclass(frozen=True)
class Decision:
    message: str  # what to tell the person (ephemeral)
    line: str | None = None  # what replaces the suggestion's buttons once decided (None: a refusal, leave them)


@dataclass(frozen=True)
class _Brief:
    escalation_id: int
    ref: str
    destination: str
    channel_id: str
    message_ts: str | None


class PatternLinks:
    def __init__(self, escalations) -> None:
        """`escalations`: bot.usecases.escalate.Escalations (it re-renders the posted briefs)."""
        self.escalations = escalations
        self.db, self.clock, self.gateway = escalations.db, escalations.clock, escalations.gateway
        self.guard = escalations.guard
        assert escalations.patterns is not None and self.guard is not None, "pattern links need matching and the guard"
        self.patterns = escalations.patterns

    # --- the buttons ---------------------------------------------------------------------------

    def same_problem(self, escalation_id: int, other_id: int | None, user: str, *, team_id: str | None) -> Decision:
        """*Same problem* on a suggestion shown with brief `escalation_id`."""
        return self._button(escalation_id, other_id, user, team_id, LinkKind.CONFIRMED)

    def not_related(self, escalation_id: int, other_id: int | None, user: str, *, team_id: str | None) -> Decision:
        """*Not related*: the pair is never suggested nor linked automatically again."""
        return self._button(escalation_id, other_id, user, team_id, LinkKind.REJECTED)

    def _button(self, escalation_id: int, other_id: int | None, user: str, team_id: str | None, kind: LinkKind) -> Decision:
        action = ids.ACTION_PATTERN_SAME if kind is LinkKind.CONFIRMED else ids.ACTION_PATTERN_NOT_RELATED
        assert self.guard is not None
        if refusal := self.guard.refusal(escalation_id, user, verb(ACTION, action), team_id=team_id):
            return Decision(refusal)
        mine = self.guard.parties(escalation_id, team_id)
        other = self.guard.parties(other_id, team_id) if other_id is not None and other_id != escalation_id else None
        if mine is None or other is None or not self.guard.sees(other, user):
            return Decision(NOT_FOUND)
        message = self._decide(mine, other, kind, user)
        return Decision(message, decided_line(same=kind is LinkKind.CONFIRMED, user=user, outcome=message))

    # --- the commands --------------------------------------------------------------------------

    def link_command(self, team_id: str, user: str, words: str) -> str:
        """`/escalate link ESC-12 ESC-31`: what to tell the asker."""
        return self._command(team_id, user, words, LinkKind.CONFIRMED)

    def unlink_command(self, team_id: str, user: str, words: str) -> str:
        """`/escalate unlink ESC-12 ESC-31`: what to tell the asker."""
        return self._command(team_id, user, words, LinkKind.REJECTED)

    def _command(self, team_id: str, user: str, words: str, kind: LinkKind) -> str:
        tokens = words.replace(",", " ").split()
        if len(tokens) != 2:
            return USAGE
        numbers = [parse_ref(t) for t in tokens]
        for token, number in zip(tokens, numbers, strict=True):
            if number is None:
                return f"`{escape(truncate(token, 40)).replace('`', chr(39))}` is not an escalation ID like ESC-12. {USAGE}"
        first, second = numbers[0] or 0, numbers[1] or 0
        if first == second:
            return f"That is ESC-{first} twice: name two different escalations. {USAGE}"
        assert self.guard is not None
        found: list[Parties] = []
        for number in (first, second):
            parties = self.guard.parties_by_number(team_id, number)
            if parties is None or not self.guard.sees(parties, user):  # a hidden brief reads as an unknown one
                return no_such_ref(number)
            found.append(parties)
        if not any(self.guard.allows(p, user) for p in found):
            what = "link briefs to" if kind is LinkKind.CONFIRMED else "unlink briefs from"
            return self.guard.refusal(found[0].escalation_id, user, what, team_id=team_id) or NOT_FOUND
        return self._decide(found[0], found[1], kind, user)

    # --- deciding ------------------------------------------------------------------------------

    def _decide(self, mine: Parties, other: Parties, kind: LinkKind, user: str) -> str:
        """Record a person's decision on a pair, log it on both briefs, update the posted briefs whose
        pattern changed and, for a confirmation that joins two groups, note it in their threads."""
        now, auto = self.clock.now(), search.AUTO_LINK_SCORE
        a, b = mine.escalation_id, other.escalation_id
        with self.db.session() as s:
            fetch = lambda found, automatic: pattern_links.touching(s, found, auto_score=auto if automatic else None)  # noqa: E731
            before_a, before_b = set(rules.group(a, fetch, auto)), set(rules.group(b, fetch, auto))
            previous = pattern_links.get(s, a, b)
            if previous is not None and previous.kind is kind:
                return self._unchanged(mine, other, kind)
            pattern_links.decide(s, a, b, kind, actor=user, at=now)
            briefs = self._briefs(s, {a, b})
            for this, that in ((briefs[a], briefs[b]), (briefs[b], briefs[a])):
                # Named only where its readers may know it (a security brief only in its own channel).
                if may_name_in(that.destination, that.channel_id, this.channel_id):
                    text = f"Same problem as {that.ref} (confirmed by <@{user}>)" if kind is LinkKind.CONFIRMED else f"Not related to {that.ref} (<@{user}>)"
                    running_log.add_log(
                        s,
                        this.escalation_id,
                        actor=user,
                        kind=LogKind.PATTERN_LINKED if kind is LinkKind.CONFIRMED else LogKind.PATTERN_UNLINKED,
                        text=text,
                        at=now,
                        data={"other": that.escalation_id},
                    )
            after = set(rules.group(a, fetch, auto))
            joined = kind is LinkKind.CONFIRMED and b not in before_a
            row = stored.get_escalation(s, a)
            assert row is not None
            pattern = self.patterns.group_pattern(s, row)
            newest = max({a} | after)
            if joined and pattern.flagged:  # stats count a flagged brief by its pattern entry
                newest_row = stored.get_escalation(s, newest)
                assert newest_row is not None
                self.patterns.log_pattern(s, newest_row, self.patterns.group_pattern(s, newest_row), at=now)
            affected = self._briefs(s, {a, b} | before_a | before_b | after)
            notes = self._notes(s, affected, after | {a}, mine, other, user) if joined else []
        for brief in affected.values():  # the flags read as the links now say (best effort: the database is the record)
            if brief.message_ts:
                self.escalations.refresh(brief.escalation_id)
        self._send_notes(notes, now)
        return self._outcome(mine, other, kind, pattern, still_joined=b in after)

    def _notes(self, s, briefs: dict[int, _Brief], members: set[int], mine: Parties, other: Parties, user: str) -> list[tuple[_Brief, str]]:
        """One note per posted brief of the joined group naming the confirmed pair, where both may be named."""
        notes = []
        for escalation_id in sorted(members)[:NOTES_MAX]:
            brief = briefs.get(escalation_id)
            if brief is None or not brief.message_ts:
                continue
            if not all(may_name_in(p.destination, p.channel, brief.channel_id) for p in (mine, other)):
                continue
            row = stored.get_escalation(s, escalation_id)
            pattern = self.patterns.group_pattern(s, row) if row is not None else Pattern()
            now_reads = (
                f"*Recurring pattern: {pattern.independent_reports} independent reports* now ({evidence(pattern)})"
                if pattern.recurring
                else f"{pattern.independent_reports} independent report{'s' if pattern.independent_reports != 1 else ''} so far"
            )
            notes.append((brief, f":link: <@{user}> confirmed {mine.ref} and {other.ref} as the same problem: {now_reads}."))
        return notes

    def _send_notes(self, notes: list[tuple[_Brief, str]], now) -> None:
        for brief, text in notes:
            try:
                self.gateway.post_message(
                    brief.channel_id, text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}], thread_ts=brief.message_ts
                )
            except SlackCallFailed as exc:
                log.warning("pattern note to %s failed: %s", brief.ref, exc.error)
                continue
            with self.db.session() as s:
                running_log.add_log(s, brief.escalation_id, actor=BOT_ACTOR, kind=LogKind.PATTERN_NOTE, text=text, at=now)

    @staticmethod
    def _briefs(s, escalation_ids: set[int]) -> dict[int, _Brief]:
        rows = stored.get_escalations(s, escalation_ids)
        return {i: _Brief(r.id, format_ref(r.number), r.destination, r.channel_id, r.message_ts) for i, r in rows.items()}

    @staticmethod
    def _unchanged(mine: Parties, other: Parties, kind: LinkKind) -> str:
        if kind is LinkKind.CONFIRMED:
            return f"{mine.ref} and {other.ref} are already linked as the same problem."
        return f"{mine.ref} and {other.ref} are already marked not related."

    @staticmethod
    def _outcome(mine: Parties, other: Parties, kind: LinkKind, pattern: Pattern, *, still_joined: bool) -> str:
        if kind is LinkKind.CONFIRMED:
            if pattern.recurring:
                flag = f"*Recurring pattern: {pattern.independent_reports} independent reports* ({evidence(pattern)})."
            else:
                flag = f"{pattern.independent_reports} independent report{'s' if pattern.independent_reports != 1 else ''} so far."
            return f"{mine.ref} and {other.ref} are linked as the same problem. {flag}"
        text = f"{mine.ref} and {other.ref} are not related: they will not be suggested or linked automatically again."
        if still_joined:
            text += " They are still in one pattern through other links."
        return text

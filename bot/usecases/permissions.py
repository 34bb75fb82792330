"""Who may use each button, modal, command and event, and the guard that applies the rule.

`ACCESS` lists every id the app listens for (bot.slack.app refuses to start if a listener's id is
missing here, and tests/test_access.py sends each INVOLVED one as a bystander, a stranger and another
workspace through signed HTTP). The rule itself is pure: bot.domain.visibility.

A refusal is told only to the person refused (ephemeral, or by DM after a modal) and written to the
brief's running log. For a private (security) brief, someone not involved is told exactly what an
unknown ID gets, so the answer never confirms that the brief exists.

Channel membership comes from the conversations.members cache (bot.slack_api.directory.ChannelMembers),
read outside any database session (it may call Slack). If it cannot be read, the rule fails closed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

from blocks import ids
from bot.clock import Clock
from bot.domain.brief import format_ref
from bot.domain.status import LogKind
from bot.domain.visibility import Parties, Verdict, may_act, may_act_as_agent, may_see, needs_membership
from bot.slack_api.directory import ChannelMembers
from bot.storage import escalations, running_log
from bot.storage.db import Database

log = logging.getLogger(__name__)
T = TypeVar("T")

NOT_FOUND = "That escalation does not exist in this workspace."  # a click or modal naming an unknown, foreign or hidden brief


def no_such_ref(number: int | str) -> str:
    """What `/escalate log ESC-7` answers for an unknown number and for a brief the asker may not see."""
    return f"There is no ESC-{number} in this workspace."


class Who(Enum):
    INVOLVED = "the people involved in the brief: its agent, its receiving owner, members of its channel, admins"
    AGENT = "the brief's escalating agent and admins only (what only the author can do: complete a brief posted incomplete)"
    ANYONE = "anyone in the workspace: it changes only their own form, answer or Home tab, or files a brief as them"
    THREAD = "whoever Slack lets write in (or react to) the brief's thread: logged; acting on a reaction goes through the INVOLVED rule"


@dataclass(frozen=True)
class Access:
    who: Who
    what: str = ""  # for INVOLVED: the verb of the refusal ("Only … can {what} ESC-7")


ACTION, VIEW, SHORTCUT, COMMAND, EVENT = "action", "view", "shortcut", "command", "event"
_INVOLVED, _ANYONE = Who.INVOLVED, Access(Who.ANYONE)

ACCESS: dict[tuple[str, str], Access] = {
    # The brief modal and the triage helper: the submitter's own form; a brief is filed as them.
    (COMMAND, ids.COMMAND): _ANYONE,  # its sub-commands that show briefs (log, search, list) apply the visibility rule
    (SHORTCUT, ids.SHORTCUT_ESCALATE_MESSAGE): _ANYONE,
    (ACTION, ids.ACTION_CHOOSE_DESTINATION): _ANYONE,
    (ACTION, ids.ACTION_CHOOSE_ENG_KIND): _ANYONE,
    (VIEW, ids.VIEW_BRIEF): _ANYONE,
    (VIEW, ids.VIEW_BRIEF_RESULT): _ANYONE,
    (ACTION, ids.ACTION_TRIAGE_FIRST): _ANYONE,
    (ACTION, ids.ACTION_TRIAGE_WRITE): _ANYONE,
    (VIEW, ids.VIEW_TRIAGE): _ANYONE,  # "resolved before" applies the visibility rule
    (VIEW, ids.VIEW_TRIAGE_RESULT): _ANYONE,
    # The App Home tab: each person's own lists.
    (EVENT, "app_home_opened"): _ANYONE,
    (ACTION, ids.ACTION_HOME_PREVIOUS): _ANYONE,
    (ACTION, ids.ACTION_HOME_NEXT): _ANYONE,
    (ACTION, ids.ACTION_HOME_OPEN): _ANYONE,  # a link button: nothing happens in the bot
    # Drafts of the brief form (the view_closed is (VIEW, VIEW_BRIEF)): each reads only the clicker's own draft.
    (ACTION, ids.ACTION_DRAFT_CONTINUE): _ANYONE,
    (ACTION, ids.ACTION_DRAFT_FRESH): _ANYONE,
    # A posted brief, its agent's notices and nudges, and their modals.
    (ACTION, ids.ACTION_EXPORT): Access(_INVOLVED, "export"),
    (ACTION, ids.ACTION_RETRY_DELIVERY): Access(_INVOLVED, "retry the delivery of"),
    (ACTION, ids.ACTION_ACKNOWLEDGE): Access(_INVOLVED, "acknowledge"),
    (ACTION, ids.ACTION_ASK_INFO): Access(_INVOLVED, "ask for information on"),
    (VIEW, ids.VIEW_ASK_INFO): Access(_INVOLVED, "ask for information on"),
    (ACTION, ids.ACTION_POST_UPDATE): Access(_INVOLVED, "post an update on"),
    (VIEW, ids.VIEW_POST_UPDATE): Access(_INVOLVED, "post an update on"),
    (ACTION, ids.ACTION_LOG_CHECKIN): Access(_INVOLVED, "log a check-in on"),
    (VIEW, ids.VIEW_LOG_CHECKIN): Access(_INVOLVED, "log a check-in on"),
    (ACTION, ids.ACTION_LOG_CUSTOMER_UPDATE): Access(_INVOLVED, "log a customer update on"),
    (VIEW, ids.VIEW_LOG_CUSTOMER_UPDATE): Access(_INVOLVED, "log a customer update on"),
    (ACTION, ids.ACTION_CHANGE_SEVERITY): Access(_INVOLVED, "change the severity of"),
    (VIEW, ids.VIEW_CHANGE_SEVERITY): Access(_INVOLVED, "change the severity of"),
    (ACTION, ids.ACTION_VIEW_LOG): Access(_INVOLVED, "view the running log of"),
    (ACTION, ids.ACTION_SNOOZE_PATTERN): Access(_INVOLVED, "snooze a reminder of"),
    (ACTION, ids.ACTION_MARK_FIXED): Access(_INVOLVED, "mark fixed"),
    (ACTION, ids.ACTION_DEESCALATE): Access(_INVOLVED, "de-escalate"),
    (VIEW, ids.VIEW_DEESCALATE): Access(_INVOLVED, "de-escalate"),
    (ACTION, ids.ACTION_CLOSE): Access(_INVOLVED, "close"),
    (VIEW, ids.VIEW_CLOSE): Access(_INVOLVED, "close"),
    (ACTION, ids.ACTION_REOPEN): Access(_INVOLVED, "re-open"),
    # File now, complete later: the brief form's severity choice and Post now box; completing is the agent's.
    (ACTION, ids.ACTION_CHOOSE_SEVERITY): _ANYONE,
    (ACTION, ids.ACTION_POST_NOW): _ANYONE,
    (ACTION, ids.ACTION_COMPLETE_BRIEF): Access(Who.AGENT, "complete"),
    (VIEW, ids.VIEW_COMPLETE_BRIEF): Access(Who.AGENT, "complete"),
    # "Possibly the same problem" on a brief (its agent's result view and DM, its thread): the clicker
    # must be involved in that brief, and may link only a suggested brief they may see.
    (ACTION, ids.ACTION_PATTERN_SAME): Access(_INVOLVED, "link briefs to"),
    (ACTION, ids.ACTION_PATTERN_NOT_RELATED): Access(_INVOLVED, "dismiss suggestions on"),
    (ACTION, ids.ACTION_MOVE): Access(_INVOLVED, "move"),  # a security brief: only its channel's members and admins (bot.usecases.move)
    (ACTION, ids.ACTION_MOVE_DESTINATION): Access(_INVOLVED, "move"),  # in the move modal: re-rendered with the brief's package, pre-filled
    (VIEW, ids.VIEW_MOVE): Access(_INVOLVED, "move"),
    # Slack events in a brief's thread.
    (EVENT, "reaction_added"): Access(Who.THREAD),
    (EVENT, "message"): Access(Who.THREAD),
}


def verb(kind: str, id_: str) -> str:
    """The refusal's verb for an INVOLVED (or AGENT) id (KeyError for an id not in the table: add it)."""
    access = ACCESS[(kind, id_)]
    if access.who not in (Who.INVOLVED, Who.AGENT):
        raise ValueError(f"{kind} {id_} is not guarded ({access.who.name})")
    return access.what


class Guard:
    def __init__(self, db: Database, clock: Clock, members: ChannelMembers, admins: frozenset[str]) -> None:
        self.db = db
        self.clock = clock
        self.members = members
        self.admins = admins

    # --- reading the facts -------------------------------------------------------------------------

    def parties(self, escalation_id: int, team_id: str | None) -> Parties | None:
        """The brief's parties, or None when it does not exist in `team_id`'s workspace."""
        with self.db.read_session() as s:
            row = escalations.get_escalation(s, escalation_id)
            if row is None or (team_id is not None and row.team_id != team_id):
                return None
            return parties_of(row)

    def parties_by_number(self, team_id: str, number: int) -> Parties | None:
        with self.db.read_session() as s:
            row = escalations.get_by_number(s, team_id, number)
            return parties_of(row) if row is not None else None

    def _member(self, parties: Parties, user: str, *, acting: bool) -> bool | None:
        if not needs_membership(parties, user, self.admins, acting=acting):
            return None  # not read: the rule does not need it
        return self.members.contains(parties.channel, user)  # never inside a session: it may call Slack

    # --- seeing --------------------------------------------------------------------------------------

    def sees(self, parties: Parties | None, user: str) -> bool:
        if parties is None:
            return False
        return may_see(parties, user, admins=self.admins, member=self._member(parties, user, acting=False))

    def visible(self, items: Iterable[T], user: str, parties: Callable[[T], Parties]) -> list[T]:
        """The items whose brief `user` may see, in order (membership read only for private briefs)."""
        return [item for item in items if self.sees(parties(item), user)]

    # --- acting --------------------------------------------------------------------------------------

    def allows(self, parties: Parties, user: str) -> bool:
        """Whether `user` may act on this brief; nothing told or logged (`refusal` does both)."""
        return may_act(parties, user, admins=self.admins, member=self._member(parties, user, acting=True)) is Verdict.ALLOWED

    def refusal(self, escalation_id: int, user: str, what: str, *, team_id: str | None = None, agent_only: bool = False) -> str | None:
        """None if `user` may `what` (e.g. "de-escalate", from ACCESS) this brief; else what to tell them (logged).
        `agent_only`: a Who.AGENT id (only the escalating agent and admins)."""
        parties = self.parties(escalation_id, team_id)
        if parties is None:
            log.info("%s tried to %s escalation %s, which is not in workspace %s", user, what, escalation_id, team_id)
            return NOT_FOUND
        member = self._member(parties, user, acting=True)
        verdict = (may_act_as_agent if agent_only else may_act)(parties, user, admins=self.admins, member=member)
        if verdict is Verdict.ALLOWED:
            return None
        ref, channel, agent = parties.ref, parties.channel, parties.agent
        if agent_only and verdict is Verdict.REFUSED:
            message = f":no_entry: Only the escalating agent (<@{agent}>) and admins can {what} {ref}. Ask <@{agent}>."
        else:
            message = {
                Verdict.HIDDEN: NOT_FOUND,
                Verdict.UNSURE: f":no_entry: I could not check who is in <#{channel}> just now, so I can't let you {what} {ref}. Try again in a minute.",
                Verdict.REFUSED: (
                    f":no_entry: Only the escalating agent, the receiving owner, members of <#{channel}> and admins can {what} {ref}. "
                    f"Ask <@{agent}> or someone in <#{channel}>."
                ),
            }[verdict]
        with self.db.session() as s:
            running_log.add_log(
                s,
                escalation_id,
                actor=user,
                kind=LogKind.REFUSED,
                text=f"Refused: tried to {what}" + ("" if member is not None else " (membership unknown)"),
                at=self.clock.now(),
                data={"action": what, "membership_known": member is not None},
            )
        log.info("%s refused to %s for %s", what, user, ref)
        return message


def parties_of(row) -> Parties:
    return Parties(row.id, format_ref(row.number), row.destination, row.agent_user_id, row.receiving_owner_id, row.channel_id)

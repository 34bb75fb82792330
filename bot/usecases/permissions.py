"""Who may act on a brief: its escalating agent, its receiving owner, members of its destination
channel, and admins (ESCALATION_ADMINS). Anyone else is refused, told so privately, and the refusal
is written to the brief's running log.

Channel membership comes from the conversations.members cache (bot.slack_api.directory.ChannelMembers).
If membership cannot be read at all, non-members of the other groups are refused (with a note to
try again): the rule fails closed.
"""

from __future__ import annotations

import logging

from bot.clock import Clock
from bot.domain.brief import format_ref
from bot.domain.status import LogKind
from bot.slack_api.directory import ChannelMembers
from bot.storage import escalations, running_log
from bot.storage.db import Database

log = logging.getLogger(__name__)


class Guard:
    def __init__(self, db: Database, clock: Clock, members: ChannelMembers, admins: frozenset[str]) -> None:
        self.db = db
        self.clock = clock
        self.members = members
        self.admins = admins

    def refusal(self, escalation_id: int, user: str, what: str, *, team_id: str | None = None) -> str | None:
        """None if `user` may `what` (e.g. "de-escalate") this brief; else what to tell them (and it is logged)."""
        with self.db.session() as s:
            row = escalations.get_for_team(s, escalation_id, team_id)
            ref, agent, owner, channel = format_ref(row.number), row.agent_user_id, row.receiving_owner_id, row.channel_id
        if user in (agent, owner) or user in self.admins:
            return None
        member = self.members.contains(channel, user)  # never inside a session: it may call Slack
        if member:
            return None
        if member is None:
            message = f":no_entry: I could not check who is in <#{channel}> just now, so I can't let you {what} {ref}. Try again in a minute."
        else:
            message = (
                f":no_entry: Only the escalating agent, the receiving owner, members of <#{channel}> and admins can {what} {ref}. "
                f"Ask <@{agent}> or someone in <#{channel}>."
            )
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

"""Who may act on a brief: its escalating agent, its receiving owner, members of its destination
channel, and admins (ESCALATION_ADMINS). Anyone else is refused, told so privately, and the refusal
is written to the brief's running log.

Channel membership comes from conversations.members, cached per channel for a few minutes. The
cache is warmed when the app starts, and a stale entry still admits its members while a background
refresh replaces it, so a click waits on Slack only when the cache is cold (a failed warm-up) or to
re-check a refusal against stale data.
If membership cannot be read at all, non-members of the other groups are refused (with a note to
try again): the rule fails closed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.domain.brief import format_ref
from bot.escalations import Escalations
from bot.slack.gateway import SlackCallFailed, SlackGateway
from bot.storage import queries
from bot.storage.db import Database
from bot.storage.models import LogKind
from bot.clock import Clock

log = logging.getLogger(__name__)

TTL_SECONDS = 300


@dataclass
class _Entry:
    members: frozenset[str]
    fetched_at: float


class ChannelMembers:
    def __init__(self, gateway: SlackGateway, *, ttl: float = TTL_SECONDS, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.gateway = gateway
        self.ttl = ttl
        self._now = monotonic
        self._cache: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._refreshing: dict[str, threading.Thread] = {}  # channel → its refresh in flight

    def warm(self, channels: Iterable[str]) -> None:
        """Fetch every channel's members now (a Slack call each; run it off the event loop)."""
        for channel in dict.fromkeys(channels):
            self._fetch(channel)

    def contains(self, channel: str, user: str) -> bool | None:
        """Is `user` in `channel`? None when the members could not be read (and none are cached).

        A fresh cache answers alone. A stale one answers "yes" at once (and is refreshed in the
        background); a "no" from it is checked with Slack first, so someone who just joined the
        channel is not refused on old data.
        """
        entry = self._cache.get(channel)
        if entry is not None and self._now() - entry.fetched_at < self.ttl:
            return user in entry.members
        if entry is not None and user in entry.members:
            self._refresh_in_background(channel)
            return True
        members = self._fetch(channel)
        return None if members is None else user in members

    def _refresh_in_background(self, channel: str) -> None:
        def run() -> None:
            try:
                self._fetch(channel)
            except Exception:  # noqa: BLE001 - nobody waits on this thread: the stale entry stays, the next stale read retries
                log.exception("refreshing the members of %s failed", channel)
            finally:
                with self._lock:
                    self._refreshing.pop(channel, None)

        with self._lock:
            if channel in self._refreshing:
                return
            thread = self._refreshing[channel] = threading.Thread(target=run, name=f"members-{channel}", daemon=True)
            thread.start()  # under the lock: wait_for_refreshes never sees a thread not yet started

    def wait_for_refreshes(self, timeout: float = 10.0) -> None:
        """Block until the background refreshes started so far have finished (at shutdown, in tests:
        a refresh still reading from Slack must not outlive what it talks to)."""
        with self._lock:
            threads = list(self._refreshing.values())
        for thread in threads:
            thread.join(timeout)

    def _fetch(self, channel: str) -> frozenset[str] | None:
        try:
            members = frozenset(self.gateway.channel_members(channel))
        except SlackCallFailed as exc:
            log.warning("could not read the members of %s: %s", channel, exc.error)
            entry = self._cache.get(channel)
            return entry.members if entry else None
        self._cache[channel] = _Entry(members, self._now())
        return members


class Guard:
    def __init__(self, db: Database, clock: Clock, members: ChannelMembers, admins: frozenset[str]) -> None:
        self.db = db
        self.clock = clock
        self.members = members
        self.admins = admins

    def refusal(self, escalation_id: int, user: str, what: str, *, team_id: str | None = None) -> str | None:
        """None if `user` may `what` (e.g. "de-escalate") this brief; else what to tell them (and it is logged)."""
        with self.db.session() as s:
            row = Escalations._row(s, escalation_id, team_id)
            ref, agent, owner, channel = format_ref(row.number), row.agent_user_id, row.receiving_owner_id, row.channel_id
        if user in (agent, owner) or user in self.admins:
            return None
        member = self.members.contains(channel, user)  # never inside a session: it may call Slack
        if member:
            return None
        if member is None:
            message = f":no_entry: I could not check who is in <#{channel}> just now, so I can't let you {what} {ref}. Try again in a minute."
        else:
            message = (f":no_entry: Only the escalating agent, the receiving owner, members of <#{channel}> and admins can {what} {ref}. "
                       f"Ask <@{agent}> or someone in <#{channel}>.")
        with self.db.session() as s:
            queries.add_log(s, escalation_id, actor=user, kind=LogKind.REFUSED, text=f"Refused: tried to {what}" + ("" if member is not None else " (membership unknown)"),
                            at=self.clock.now(), data={"action": what, "membership_known": member is not None})
        log.info("%s refused to %s for %s", what, user, ref)
        return message

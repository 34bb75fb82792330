"""Slack's directory, cached: who is L2 (a user group) and who is in each destination channel.

Who is L2: members of the Slack user group ESCALATION_L2_USERGROUP (everyone else is L1).

Membership is read with usergroups.users.list and cached for a few minutes, and the cache is warmed
when an agent opens the brief modal, so the submission (which must answer Slack at once) never
waits on a Slack call. Without a configured group there are no tiers: everyone counts as L2.

Who is in a channel (the permission guard, the Home tab's "Waiting on my team"): conversations.members,
cached per channel for a few minutes. The cache is warmed when the app starts, and a stale entry
still admits its members while a background refresh replaces it, so a click waits on Slack only
when the cache is cold (a failed warm-up) or to re-check a refusal against stale data.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.domain.routing import Tier
from bot.slack_api.gateway import SlackCallFailed, SlackGateway

log = logging.getLogger(__name__)

TTL_SECONDS = 300  # both caches


class Tiers:
    def __init__(self, gateway: SlackGateway, usergroup: str | None, *, ttl: float = TTL_SECONDS) -> None:
        self.gateway = gateway
        self.usergroup = usergroup
        self.ttl = ttl
        self._members: frozenset[str] | None = None
        self._fetched_at = 0.0
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return bool(self.usergroup)

    @property
    def stale(self) -> bool:
        """A refresh would ask Slack (tiers on, cache empty or old); callers skip the thread hop otherwise."""
        return bool(self.usergroup) and (self._members is None or time.monotonic() - self._fetched_at >= self.ttl)

    def refresh(self) -> None:
        """Fetch the group's members if the cache is stale (a Slack call; run it off the event loop)."""
        if not self.usergroup or (self._members is not None and time.monotonic() - self._fetched_at < self.ttl):
            return
        with self._lock:
            if self._members is not None and time.monotonic() - self._fetched_at < self.ttl:
                return
            try:
                users = self.gateway.usergroup_members(self.usergroup)
            except SlackCallFailed as exc:
                log.warning("could not read the L2 user group %s: %s", self.usergroup, exc.error)
                return
            self._members, self._fetched_at = frozenset(users), time.monotonic()

    def cached_tier(self, user_id: str) -> Tier:
        """From the cache only (fast, for the submission path). Unknown yet: L2, so nobody is blocked by a cold cache."""
        if not self.usergroup or self._members is None:
            return Tier.L2
        return Tier.L2 if user_id in self._members else Tier.L1

    def tier(self, user_id: str) -> Tier:
        self.refresh()
        return self.cached_tier(user_id)


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

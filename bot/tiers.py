"""Who is L2: members of the Slack user group ESCALATION_L2_USERGROUP (everyone else is L1).

Membership is read with usergroups.users.list and cached for a few minutes, and the cache is warmed
when an agent opens the brief modal, so the submission (which must answer Slack at once) never
waits on a Slack call. Without a configured group there are no tiers: everyone counts as L2.
"""

from __future__ import annotations

import logging
import threading
import time

from bot.domain.routing import Tier
from bot.slack.gateway import SlackCallFailed, SlackGateway

log = logging.getLogger(__name__)

TTL_SECONDS = 300


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

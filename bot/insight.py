"""Closing the loop: the App Home tab, /escalate list and /escalate stats.

Sync (called through `Services.run_sync`): database reads in short sessions, Slack calls outside
them. Channel membership for "Waiting on my team" comes from the shared conversations.members cache
(bot.followthrough.permissions.ChannelMembers), so opening the Home tab repeatedly costs no extra calls.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from blocks.home import PAGE_SIZE, home_view, list_blocks
from blocks.stats import stats_blocks
from bot.clock import Clock
from bot.followthrough.permissions import ChannelMembers
from bot.slack.gateway import SlackGateway
from bot.storage import stats, worklists
from bot.storage.db import Database

log = logging.getLogger(__name__)

STATS_PERIODS = {"7d": 7, "30d": 30, "90d": 90}


class Insight:
    def __init__(self, db: Database, gateway: SlackGateway, clock: Clock, channels: list[str], members: ChannelMembers) -> None:
        self.db = db
        self.gateway = gateway
        self.clock = clock
        self.channels = sorted(set(channels))  # the destination channels
        self.members = members  # shared with the permission guard: one cache, one warm-up

    def team_channels(self, user_id: str) -> set[str]:
        # Unreadable membership (None) finds nobody through that channel.
        return {c for c in self.channels if self.members.contains(c, user_id)}

    def publish_home(self, team_id: str, user_id: str, *, mine_offset: int = 0, team_offset: int = 0) -> dict:
        """Render and publish this person's Home tab; returns the view published."""
        tz = self.gateway.user_timezone(user_id)
        channels = self.team_channels(user_id)
        now = self.clock.now()
        with self.db.session() as s:
            mine = worklists.mine(s, team_id, user_id, now=now, offset=max(0, mine_offset), limit=PAGE_SIZE)
            team = worklists.waiting_on_team(s, team_id, user_id, channels, now=now, offset=max(0, team_offset), limit=PAGE_SIZE)
        view = home_view(mine=mine, team=team, now=now, tz=tz)
        self.gateway.publish_home(user_id, view)
        return view

    def my_list(self, team_id: str, user_id: str) -> tuple[str, list[dict]]:
        tz = self.gateway.user_timezone(user_id)
        now = self.clock.now()
        with self.db.session() as s:
            page = worklists.mine(s, team_id, user_id, now=now, limit=15)
        return list_blocks(page, now=now, tz=tz)

    def stats(self, team_id: str, period: str = "7d") -> tuple[str, list[dict]]:
        days = STATS_PERIODS[period]
        until = self.clock.now() + timedelta(seconds=1)  # windows end before `until`: include this very second
        with self.db.session() as s:
            figures = stats.figures(s, team_id, until - timedelta(days=days), until)
        return stats_blocks(figures, title=f"Escalations, last {days} days")

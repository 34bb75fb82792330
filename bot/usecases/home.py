"""Closing the loop: the App Home tab and /escalate list (a person's open briefs).

Sync (called through `Services.run_sync`): database reads in short sessions, Slack calls outside
them. Channel membership for "Waiting on my team" comes from the shared conversations.members cache
(bot.slack_api.directory.ChannelMembers), so opening the Home tab repeatedly costs no extra calls.
"""

from __future__ import annotations

import logging

from blocks.home import PAGE_SIZE, home_view, list_blocks
from bot.clock import Clock
from bot.slack_api.directory import ChannelMembers
from bot.slack_api.gateway import SlackGateway
from bot.storage import worklists
from bot.storage.db import Database

log = logging.getLogger(__name__)


class Home:
    def __init__(self, db: Database, gateway: SlackGateway, clock: Clock, channels: list[str], members: ChannelMembers, *, drafts=None) -> None:
        self.drafts = drafts  # bot.usecases.drafts.Drafts: the viewer's own draft, mentioned with *Continue*
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
        draft = self.drafts.home_blocks(team_id, user_id) if self.drafts is not None else []
        view = home_view(mine=mine, team=team, now=now, tz=tz, draft=draft)
        self.gateway.publish_home(user_id, view)
        return view

    def my_list(self, team_id: str, user_id: str) -> tuple[str, list[dict]]:
        tz = self.gateway.user_timezone(user_id)
        now = self.clock.now()
        with self.db.session() as s:
            page = worklists.mine(s, team_id, user_id, now=now, limit=15)
        return list_blocks(page, now=now, tz=tz)

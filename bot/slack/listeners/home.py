"""The App Home tab: published on app_home_opened, re-published when paging or after acting from it.

views.publish happens in the background after ack; membership lookups (conversations.members)
are cached by `bot.slack_api.directory.ChannelMembers` (shared with the permission guard).
"""

from __future__ import annotations

import json

from slack_bolt.async_app import AsyncApp

from blocks import ids
from bot.slack import payloads


def from_home(body: dict) -> bool:
    """Whether an action was clicked in the Home tab (then there is no response_url to answer on)."""
    return ((body.get("view") or {}).get("type") == "home") or ((body.get("container") or {}).get("type") == "view" and not body.get("response_url"))


def refresh_home(services, body: dict, *, offsets: dict | None = None) -> None:
    """Re-publish the clicker's Home tab in the background, at the pages it showed (or `offsets`)."""
    if offsets is None:
        try:
            offsets = json.loads((body.get("view") or {}).get("private_metadata") or "{}")
        except ValueError:
            offsets = {}
    mine, team = _offset(offsets, ids.HOME_MINE), _offset(offsets, ids.HOME_TEAM)
    services.spawn(
        services.run_sync(services.home.publish_home, payloads.team_id(body), payloads.user_id(body), mine_offset=mine, team_offset=team), what="home tab"
    )


def _offset(offsets, key: str) -> int:
    value = offsets.get(key, 0) if isinstance(offsets, dict) else 0
    return value if isinstance(value, int) and 0 <= value <= 100_000 else 0


def register(app: AsyncApp, services) -> None:
    @app.event("app_home_opened")
    async def on_home_opened(event: dict, body: dict) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        team = body.get("team_id") or ""
        services.spawn(services.run_sync(services.home.publish_home, team, event["user"]), what="home tab")

    @app.action(ids.ACTION_HOME_PREVIOUS)
    @app.action(ids.ACTION_HOME_NEXT)
    async def on_page(ack, body) -> None:
        await ack()
        try:
            offsets = json.loads(payloads.action_value(body) or "{}")
        except ValueError:
            offsets = {}
        refresh_home(services, body, offsets=offsets)

    @app.action(ids.ACTION_HOME_OPEN)
    async def on_open(ack) -> None:
        await ack()  # a link button: Slack opens the URL; the click only needs acknowledging

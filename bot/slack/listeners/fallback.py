"""Registered last: whatever no other listener took is acknowledged with a 2xx.

Without these Bolt answers 404: Slack then re-sends the event (three more times), and a button
nobody handles (a plain link button still sends block_actions) shows the user a warning sign.
"""

from __future__ import annotations

import logging
import re

from slack_bolt.async_app import AsyncApp

log = logging.getLogger(__name__)
ANY = re.compile(".*")


def register(app: AsyncApp) -> None:
    @app.event(ANY)
    async def unhandled_event(event: dict) -> None:
        log.debug("event %s not used", event.get("type"))

    @app.action(ANY)
    async def unhandled_action(ack, body: dict) -> None:
        await ack()
        log.debug("action %s not used", [a.get("action_id") for a in body.get("actions") or []])

    @app.view(ANY)
    async def unhandled_view(ack) -> None:
        await ack()

    @app.view_closed(ANY)
    async def unhandled_view_closed(ack) -> None:
        await ack()

    @app.shortcut(ANY)
    async def unhandled_shortcut(ack) -> None:
        await ack()

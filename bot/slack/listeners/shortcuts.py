"""Message shortcut "Escalate this message": the message becomes the narrative, its link a reference."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from blocks import ids
from blocks.brief_modal import ModalContext
from bot.slack import payloads
from bot.slack.listeners.escalate import open_brief_modal

log = logging.getLogger(__name__)


def register(app: AsyncApp, services) -> None:
    @app.shortcut(ids.SHORTCUT_ESCALATE_MESSAGE)
    async def on_escalate_message(ack, body, client, respond) -> None:
        await ack()
        services.spawn(_open(body, client, respond, services), what="escalate this message", notify=lambda text: respond(text=text, response_type="ephemeral"))
        if services.tiers.stale:
            services.spawn(services.run_sync(services.tiers.refresh), what="tier lookup")  # before they submit


async def _open(body: dict, client, respond, services=None) -> None:
    message = body.get("message") or {}
    channel = payloads.channel_id(body)
    ts = message.get("ts") or body.get("message_ts")
    permalink = None
    if channel and ts:
        try:
            permalink = (await client.chat_getPermalink(channel=channel, message_ts=ts)).get("permalink")
        except SlackApiError as exc:  # the form matters more than the link: open it anyway
            log.info("no permalink for %s/%s: %s", channel, ts, exc.response.get("error") if exc.response else exc)
    prefill = {}
    if message.get("text"):
        prefill["narrative"] = message["text"][:3000]
    if permalink:
        prefill["references"] = permalink
    context = ModalContext(
        source_channel_id=channel, origin="shortcut", prefill=prefill, product_areas=services.settings.product_areas if services is not None else ()
    )
    await open_brief_modal(
        client,
        body.get("trigger_id", ""),
        context,
        respond,
        services=services,
        ticket_text=message.get("text") or "",
        team_id=payloads.team_id(body),
        user_id=payloads.user_id(body) if services is not None else "",  # a draft of theirs is offered first
    )

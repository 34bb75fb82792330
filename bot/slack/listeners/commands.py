"""`/escalate [summary]`: open the brief modal, pre-filled with any words typed after the command."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from blocks import ids
from blocks.brief_modal import ModalContext
from bot.slack.listeners.opening import open_brief_modal, prefill_from_text


def register(app: AsyncApp, services) -> None:
    @app.command(ids.COMMAND)
    async def on_escalate(ack, body, client, respond) -> None:
        await ack()
        context = ModalContext(
            source_channel_id=body.get("channel_id"),
            origin="command",
            prefill=prefill_from_text(body.get("text") or ""),
        )
        services.spawn(
            open_brief_modal(client, body.get("trigger_id", ""), context, respond),
            what="/escalate",
            notify=lambda text: respond(text=text, response_type="ephemeral"),
        )

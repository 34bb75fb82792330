"""`/escalate [summary]`: open the brief modal, pre-filled with any words typed after the command."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from blocks import ids
from blocks.brief_modal import ModalContext
from bot.slack.listeners.follow_through import open_log_by_command
from bot.slack.listeners.opening import open_brief_modal, prefill_from_text


def register(app: AsyncApp, services) -> None:
    @app.command(ids.COMMAND)
    async def on_escalate(ack, body, client, respond) -> None:
        await ack()
        if (body.get("text") or "").strip().lower().startswith("log "):
            services.spawn(_log_or_modal(services, client, body, respond), what="/escalate log", notify=lambda text: respond(text=text, response_type="ephemeral"))
            return
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


async def _log_or_modal(services, client, body: dict, respond) -> None:
    """`/escalate log ESC-42` shows the running log; any other words starting with "log" are a summary."""
    if not await open_log_by_command(services, client, body, respond):
        context = ModalContext(source_channel_id=body.get("channel_id"), origin="command", prefill=prefill_from_text(body.get("text") or ""))
        await open_brief_modal(client, body.get("trigger_id", ""), context, respond)

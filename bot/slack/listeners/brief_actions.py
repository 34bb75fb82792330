"""Buttons on the posted brief and on the agent's notices: export as text, try delivery again."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from blocks import ids
from blocks.notices import delivery_problem, export_view
from bot.slack import payloads

log = logging.getLogger(__name__)


def register(app: AsyncApp, services) -> None:
    @app.action(ids.ACTION_EXPORT)
    async def on_export(ack, body, client, respond) -> None:
        """The brief as plain text, in a modal only the clicker sees."""
        await ack()
        services.spawn(_export(services, body, client, respond), what="export", notify=lambda t: respond(text=t, response_type="ephemeral", replace_original=False))

    @app.action(ids.ACTION_RETRY_DELIVERY)
    async def on_retry(ack, body, respond) -> None:
        await ack()
        services.spawn(_retry(services, body, respond), what="retry delivery", notify=lambda t: respond(text=t, replace_original=False))


async def _export(services, body: dict, client, respond) -> None:
    escalation_id = payloads.action_id_value(body)
    user = payloads.user_id(body)
    if escalation_id is None:
        return
    tz = "UTC"
    try:
        tz = (await client.users_info(user=user)).get("user", {}).get("tz") or "UTC"
    except SlackApiError:
        log.info("users.info failed for %s; exporting in UTC", user)
    try:
        ref, text = await services.run_sync(services.escalations.export_text, escalation_id, tz=tz, actor=user, team_id=payloads.team_id(body))
    except LookupError:
        await respond(text="That escalation no longer exists.", response_type="ephemeral", replace_original=False)
        return
    await client.views_open(trigger_id=body.get("trigger_id", ""), view=export_view(ref=ref, text=text))


async def _retry(services, body: dict, respond) -> None:
    escalation_id = payloads.action_id_value(body)
    if escalation_id is None:
        return
    delivery = await services.run_sync(services.escalations.deliver, escalation_id, team_id=payloads.team_id(body))
    if delivery.posted:
        await respond(text=f":white_check_mark: {delivery.ref} is now posted in <#{delivery.channel_id}>.", replace_original=True)
    elif not delivery.in_progress:
        problem = delivery_problem(delivery.error or "unknown_error", delivery.channel_id)
        await respond(text=f":warning: {delivery.ref} is still not posted: {problem} I'll keep trying by myself and tell you when it is in.",
                      response_type="ephemeral", replace_original=False)

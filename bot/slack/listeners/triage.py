"""The triage helper: `/escalate triage`, the brief modal's "Not sure? Triage first", the answer,
and "Write the brief" pre-filled with the suggested destination and severity."""

from __future__ import annotations

import json
import logging

from slack_bolt.async_app import AsyncApp

from blocks import ids
from blocks.brief_modal import ModalContext, brief_modal
from blocks.triage import checked_and_symptom, result_view, triage_view
from bot.domain.brief import Destination
from bot.domain.triage import decide
from bot.slack import payloads
from bot.slack.modals import update_view

log = logging.getLogger(__name__)


async def open_triage(client, trigger_id: str, context: ModalContext) -> None:
    await client.views_open(trigger_id=trigger_id, view=triage_view(context))


def register(app: AsyncApp, services) -> None:
    @app.action(ids.ACTION_TRIAGE_FIRST)
    async def on_triage_first(ack, body, client) -> None:
        await ack()
        view = body.get("view") or {}
        context = ModalContext.load(view.get("private_metadata"))
        services.spawn(update_view(client, view.get("id"), triage_view(context)), what="triage first")

    @app.view(ids.VIEW_TRIAGE)
    async def on_decide(ack, body, view, client) -> None:
        checked, symptom = checked_and_symptom((view.get("state") or {}).get("values") or {})
        decision = decide(checked)
        context = ModalContext.load(view.get("private_metadata"))
        await ack(response_action="update", view=result_view(decision, context=context, symptom=symptom))
        if not decision.escalate and symptom:
            services.spawn(_show_resolved_like(services, client, body, view, decision, context, symptom), what="similar resolved briefs")

    @app.view(ids.VIEW_TRIAGE_RESULT)
    async def on_result(ack) -> None:
        await ack()

    @app.action(ids.ACTION_TRIAGE_WRITE)
    async def on_write(ack, body, client) -> None:
        await ack()
        view = body.get("view") or {}
        try:
            chosen = json.loads(payloads.action_value(body) or "{}")
        except ValueError:
            chosen = {}
        context = ModalContext.load(view.get("private_metadata"))
        initial = {k: v for k, v in {"severity": chosen.get("severity"), "summary": chosen.get("symptom")}.items() if v}
        try:
            destination = Destination(chosen.get("destination"))
        except ValueError:
            destination = None
        services.spawn(update_view(client, view.get("id"), brief_modal(destination=destination, context=context, initial=initial)), what="write the brief")


async def _show_resolved_like(services, client, body: dict, view: dict, decision, context: ModalContext, symptom: str) -> None:
    """When the answer is keep: past briefs with a similar symptom that support resolved, and how."""
    similar = await services.run_sync(services.search.resolved_like, payloads.team_id(body), symptom, asker=payloads.user_id(body))
    if similar:
        await update_view(client, view.get("id"), result_view(decision, context=context, symptom=symptom, similar=similar))

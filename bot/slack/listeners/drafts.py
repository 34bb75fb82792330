"""Drafts: the brief modal's view_closed keeps what was typed; *Continue the draft* and *Start fresh*
(the small first view `/escalate` opens when the agent has a draft, and the Home tab's *Continue*).

The re-renders that also keep the draft (destination or Engineering kind chosen) are in
escalate.py's `on_choice`; the offer itself is opened by escalate.py's `open_brief_modal`.
Every draft is looked up by the request's own team and user: a click carries no draft id.
"""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from blocks import ids
from blocks.brief_modal import ModalContext
from bot.slack import payloads
from bot.slack.listeners.escalate import _prefill_from_ticket
from bot.slack.modals import update_view

log = logging.getLogger(__name__)


def register(app: AsyncApp, services) -> None:
    @app.view({"type": "view_closed", "callback_id": ids.VIEW_BRIEF})
    async def on_brief_closed(ack, body) -> None:
        """Cancel, the ×, Escape: Slack sends the view with its state (notify_on_close)."""
        await ack()
        services.spawn(_keep(services, body), what="keep the brief draft")

    @app.action(ids.ACTION_DRAFT_CONTINUE)
    async def on_continue(ack, body, client) -> None:
        await ack()
        services.spawn(_continue(services, body, client), what="continue the brief draft")

    @app.action(ids.ACTION_DRAFT_FRESH)
    async def on_fresh(ack, body, client) -> None:
        await ack()
        services.spawn(_fresh(services, body, client), what="start a fresh brief")


async def _keep(services, body: dict) -> None:
    view = body.get("view") or {}
    # A view closes once: bot.slack.dedupe answers a replayed view_closed (captured, re-sent within its
    # five minutes) before any listener, so it cannot bring back a draft since filed or thrown away.
    values = (view.get("state") or {}).get("values") or {}
    await services.run_sync(services.drafts.save, payloads.team_id(body), payloads.user_id(body), view.get("id") or "", values, final=True)


async def _continue(services, body: dict, client) -> None:
    view = body.get("view") or {}
    team, user = payloads.team_id(body), payloads.user_id(body)
    if view.get("type") == "modal" and view.get("callback_id") == ids.VIEW_DRAFT_OFFER:
        # The offer view becomes the form, in place: the same view id, so the draft now belongs to it.
        context = ModalContext.load(view.get("private_metadata"))
        form = await services.run_sync(services.drafts.resumed_form, team, user, view.get("id"), context)
        await update_view(client, view.get("id"), form, view.get("hash"))
        return
    # The Home tab: a new modal (the click's trigger id), then the draft moves to it.
    context = ModalContext(product_areas=services.settings.product_areas)  # as /escalate builds it (no source channel)
    form = await services.run_sync(services.drafts.resumed_form, team, user, None, context)
    response = await client.views_open(trigger_id=body.get("trigger_id", ""), view=form)
    opened = (response.get("view") or {}).get("id")
    if opened:
        await services.run_sync(services.drafts.adopt, team, user, opened)


async def _fresh(services, body: dict, client) -> None:
    view = body.get("view") or {}
    context = ModalContext.load(view.get("private_metadata"))
    form = await services.run_sync(services.drafts.fresh_form, payloads.team_id(body), payloads.user_id(body), context)
    try:
        response = await client.views_update(view_id=view.get("id"), view=form, hash=view.get("hash"))
    except SlackApiError as exc:  # hash_conflict (a double click) or not_found (closed meanwhile): nothing lost
        log.info("views.update skipped: %s", exc.response.get("error") if exc.response is not None else exc)
        return
    # What `/escalate SUP-123` (or the shortcut on a message citing a ticket) does after opening the form.
    ticket_text = context.prefill.get("narrative") or context.prefill.get("summary") or ""
    if getattr(services, "ticketing", None) is not None and ticket_text:
        await _prefill_from_ticket(services, client, response.get("view") or {}, context, ticket_text)

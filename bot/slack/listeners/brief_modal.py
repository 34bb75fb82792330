"""The brief modal's round trips: re-render on destination choice, and the submission.

Submission: validate (pure, well under a millisecond) → field errors, or ack with a "saving" view
→ store and post in the background → the modal shows the result. If storing fails, the modal
comes back with everything the agent typed, so nothing is ever lost.
"""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp

from blocks import ids
from blocks.brief_modal import ModalContext, brief_modal, draft_from_state, initial_from_state
from blocks.notices import not_delivered_view, posted_view, saving_view
from bot.domain.brief import Destination
from bot.domain.routing import needs_tier_warning, tier_note
from bot.domain.validation import BriefInvalid, validate_draft
from bot.slack import payloads
from bot.slack.app import error_reference
from bot.slack.listeners.opening import update_view

log = logging.getLogger(__name__)


def _destination(raw: dict) -> Destination | None:
    try:
        return Destination(raw.get("destination"))
    except ValueError:
        return None


def _input_ids(view: dict) -> set[str]:
    return {b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"}


def register(app: AsyncApp, services) -> None:
    @app.action("destination")
    @app.action("eng_kind")
    async def on_choice(ack, body, client) -> None:
        """Show the chosen destination's package fields (and defect fields for Engineering)."""
        await ack()
        view = body.get("view") or {}
        values = (view.get("state") or {}).get("values") or {}
        raw = draft_from_state(values)
        new_view = brief_modal(
            destination=_destination(raw),
            eng_kind=raw.get("eng_kind"),
            context=ModalContext.load(view.get("private_metadata")),
            initial=initial_from_state(values),
        )
        services.spawn(update_view(client, view.get("id"), new_view, view.get("hash")), what="re-render the brief modal")

    @app.view(ids.VIEW_BRIEF)
    async def on_submit(ack, body, view, client) -> None:
        values = (view.get("state") or {}).get("values") or {}
        raw = draft_from_state(values)
        context = ModalContext.load(view.get("private_metadata"))
        try:
            brief = validate_draft(raw, now=services.clock.now(), default_currency=services.settings.default_currency)
        except BriefInvalid as invalid:
            shown = _input_ids(view)
            if set(invalid.errors) <= shown:
                await ack(response_action="errors", errors=invalid.errors)
                return
            # Required fields the agent hasn't seen yet (the view had not re-rendered for the
            # destination): show them, with everything typed so far kept.
            destination = _destination(raw)
            notice = f":point_down: *{destination.label if destination else 'This destination'} needs a few more details* — they are below."
            await ack(
                response_action="update",
                view=brief_modal(destination=destination, eng_kind=raw.get("eng_kind"), context=context, initial=initial_from_state(values), notice=notice),
            )
            return

        tier = services.tiers.cached_tier(payloads.user_id(body))
        if needs_tier_warning(brief.destination, tier, enforce_tiers=services.settings.enforce_tiers, already_warned=context.tier_warned):
            warned = context.model_copy(update={"tier_warned": True})
            notice = f":warning: {tier_note(brief.destination)} You are not in the L2 group: consider choosing *Support L2*. Press *Escalate* again to send it to {brief.destination.label} anyway."
            await ack(response_action="update", view=brief_modal(destination=brief.destination, eng_kind=raw.get("eng_kind"), context=warned, initial=initial_from_state(values), notice=notice))
            return
        await ack(response_action="update", view=saving_view())
        services.spawn(
            _escalate(services, client, body, view, brief, context, values, tier),
            what="escalate",
        )

    @app.view(ids.VIEW_BRIEF_RESULT)
    async def on_result_closed(ack) -> None:  # result views have no submit; ack anything that arrives
        await ack()


async def _escalate(services, client, body: dict, view: dict, brief, context: ModalContext, values: dict, tier) -> None:
    try:
        delivery = await services.run_sync(
            services.escalations.escalate,
            team_id=payloads.team_id(body),
            agent_user_id=payloads.user_id(body),
            brief=brief,
            source_channel_id=context.source_channel_id,
            submission_key=view.get("id"),
            tier=tier,
        )
    except Exception:  # noqa: BLE001 - the brief must come back to the agent whatever failed
        ref = error_reference()
        log.exception("storing a brief failed [%s]", ref)
        notice = f":x: *Your brief was not saved* (the database did not answer). Everything you typed is below: press *Escalate* again. If it keeps failing, tell your Slack admin and quote `{ref}`."
        restored = brief_modal(destination=brief.destination, eng_kind=values and draft_from_state(values).get("eng_kind"), context=context, initial=initial_from_state(values), notice=notice)
        await update_view(client, view.get("id"), restored)
        return
    if delivery.duplicate or delivery.in_progress:
        return  # the first submission reports the result in this same modal
    if delivery.posted:
        result = posted_view(ref=delivery.ref, channel_id=delivery.channel_id, permalink=delivery.permalink, note=delivery.route_note, flags=delivery.flags)
    else:
        result = not_delivered_view(ref=delivery.ref, error=delivery.error or "unknown_error", channel_id=delivery.channel_id)
    await update_view(client, view.get("id"), result)

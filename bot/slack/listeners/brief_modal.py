"""The brief modal's round trips: re-render on destination choice, and the submission.

Submission: validate (pure, well under a millisecond) → field errors, or ack with a "saving" view
→ store and post in the background (bot.submissions, in a brief worker process when serving HTTP)
→ the modal shows the result. If storing fails, the modal comes back with everything the agent
typed, so nothing is ever lost.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from blocks import ids
from blocks.brief_modal import ModalContext, brief_modal, draft_from_state, initial_from_state
from blocks.notices import saving_view
from bot.domain.brief import Destination
from bot.domain.routing import needs_tier_warning, tier_note
from bot.domain.validation import BriefInvalid, validate_draft
from bot.slack import payloads
from bot.submissions import BriefJob, file_brief
from bot.slack.listeners.opening import update_view


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
        job = BriefJob(team_id=payloads.team_id(body), user_id=payloads.user_id(body), view_id=view.get("id") or "", brief=brief, context=context,
                       values=values, tier=tier)
        if services.brief_workers is not None:  # a brief worker process (bot.brief_worker): acks never wait behind it
            services.brief_workers.submit(job)
        else:
            services.spawn(services.run_sync(file_brief, services, job), what="escalate")

    @app.view(ids.VIEW_BRIEF_RESULT)
    async def on_result_closed(ack) -> None:  # result views have no submit; ack anything that arrives
        await ack()

"""Escalate: open the brief modal, its round trips and its submission, and the buttons on the
posted brief and the agent's notices (export as text, try delivery again).

Opening (the slash command, the message shortcut): views.open first (the trigger expires in 3 s);
a ticket reference then pre-fills the SLA position and deadline by views.update.
Submission: validate (pure, well under a millisecond) → field errors, or ack with a "saving" view
→ store and post in the background (bot.usecases.escalate, in a brief worker process when serving HTTP)
→ the modal shows the result. If storing fails, the modal comes back with everything the agent
typed, so nothing is ever lost.
"""

from __future__ import annotations

import asyncio
import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from blocks import ids
from blocks.brief_modal import ModalContext, brief_modal, draft_from_state, initial_from_state
from blocks.complete_brief import complete_modal_again
from blocks.notices import delivery_problem, export_view, not_saved_notice, saving_view
from blocks.text import escape, slack_date
from bot.domain.brief import Destination
from bot.domain.routing import needs_tier_warning, tier_note
from bot.domain.tickets import find_refs, sla_prefill
from bot.domain.validation import SUMMARY_MAX, BriefInvalid, validate_draft
from bot.logs import error_reference
from bot.slack import payloads
from bot.slack.modals import update_view
from bot.usecases.escalate import BriefJob, accept_brief, file_brief

log = logging.getLogger(__name__)

_RETRY_HINT = {
    "expired_trigger_id": "Slack took too long to open the form. Please try again.",
    "exchanged_trigger_id": "That form was already opened. Please try again.",
}


def prefill_from_text(text: str) -> dict[str, str]:
    """`/escalate some words`: the words become the summary (and the narrative when too long for one line)."""
    text = " ".join(text.split())
    if not text:
        return {}
    if len(text) <= SUMMARY_MAX:
        return {"summary": text}
    return {"summary": text[: SUMMARY_MAX - 1].rsplit(" ", 1)[0] + "…", "narrative": text[:3000]}


async def open_brief_modal(
    client, trigger_id: str, context: ModalContext, respond=None, *, services=None, ticket_text: str = "", team_id: str = "", user_id: str = ""
) -> None:
    """Open first (the trigger expires in 3 s); callers warm caches afterwards.

    With `services` and a ticket reference in `ticket_text` (`/escalate SUP-123`, or the shortcut's
    message), the ticket's SLA then pre-fills the SLA position and hard deadline by views.update.
    With `user_id`, an agent who has a draft first gets *Continue the draft* / *Start fresh*
    (bot.slack.listeners.drafts), which then turns into the form."""
    offer = await _draft_offer(services, team_id, user_id, context) if user_id else None
    try:
        response = await client.views_open(trigger_id=trigger_id, view=offer or brief_modal(context=context))
    except SlackApiError as exc:
        error = exc.response.get("error", "") if exc.response is not None else ""
        log.warning("views.open failed: %s", error)
        if respond is not None:
            await respond(text=_RETRY_HINT.get(error, f"Slack could not open the form ({error}). Please try again."), response_type="ephemeral")
        return
    ticketing = getattr(services, "ticketing", None)
    if ticketing is not None and ticket_text and offer is None:  # after an offer: on *Start fresh*
        await _prefill_from_ticket(services, client, response.get("view") or {}, context, ticket_text)


async def _draft_offer(services, team_id: str, user_id: str, context: ModalContext) -> dict | None:
    """The draft offer view, or None. One short read by primary key; if the database is slow or
    down the form opens as usual (the trigger expires in 3 s; the draft is still there next time)."""
    drafts = getattr(services, "drafts", None)
    if drafts is None:
        return None
    try:
        return await asyncio.wait_for(services.run_sync(drafts.offer_view, team_id, user_id, context), timeout=1.0)
    except Exception:  # noqa: BLE001 - TimeoutError included: the form matters more than the offer
        log.warning("draft lookup for %s failed: opening the form", user_id, exc_info=True)
        return None


async def _prefill_from_ticket(services, client, view: dict, context: ModalContext, text: str) -> None:
    """The first reference to an enabled system decides; a slow or failing system changes nothing."""
    ticketing = services.ticketing
    ref = next((r for r in find_refs(text, ticketing.hosts) if r.system.value in ticketing.clients), None)
    if ref is None:
        return
    facts = await services.run_sync(ticketing.facts_for, ref)
    if facts is None or facts.sla_due_at is None:
        return
    prefill = {**context.prefill, **sla_prefill(facts.sla_due_at, now=services.clock.now(), breached=facts.sla_breached)}
    if ref.label not in prefill.get("references", "") and ref.label not in prefill.get("summary", ""):
        prefill["references"] = "\n".join(filter(None, [prefill.get("references"), ref.label]))
    what = escape(facts.sla_name or "SLA")
    notice = f":ticket: SLA position and hard deadline pre-filled from {escape(ref.label)}: {what} {'breached' if prefill['sla_position'] == 'breached' else 'due'} {slack_date(facts.sla_due_at)}."
    # The hash makes this a no-op if the agent already changed the form (e.g. chose a destination).
    await update_view(client, view.get("id"), brief_modal(context=context.model_copy(update={"prefill": prefill}), notice=notice), view.get("hash"))


def _destination(raw: dict) -> Destination | None:
    try:
        return Destination(raw.get("destination"))
    except ValueError:
        return None


def _input_ids(view: dict) -> set[str]:
    return {b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"}


def register(app: AsyncApp, services) -> None:
    @app.action(ids.ACTION_CHOOSE_DESTINATION)
    @app.action(ids.ACTION_CHOOSE_ENG_KIND)
    @app.action(ids.ACTION_CHOOSE_SEVERITY)
    @app.action(ids.ACTION_POST_NOW)
    async def on_choice(ack, body, client) -> None:
        """Show the chosen destination's package fields (and defect fields for Engineering); offer
        *Post now* for Critical, and with it ticked require only the essentials (Slack checks `optional`)."""
        await ack()
        view = body.get("view") or {}
        if view.get("callback_id") == ids.VIEW_COMPLETE_BRIEF:  # the form completing a posted brief (bot.slack.listeners.complete_brief)
            again = complete_modal_again(view)
            if again is not None:
                services.spawn(update_view(client, view.get("id"), again, view.get("hash")), what="re-render the completion form")
            return
        values = (view.get("state") or {}).get("values") or {}
        raw = draft_from_state(values)
        new_view = brief_modal(
            destination=_destination(raw),
            eng_kind=raw.get("eng_kind"),
            context=ModalContext.load(view.get("private_metadata")),
            initial=initial_from_state(values),
            post_now=services.settings.post_now,
        )
        services.spawn(update_view(client, view.get("id"), new_view, view.get("hash")), what="re-render the brief modal")
        if services.drafts is not None:  # Slack reported the form's state: keep it (no view_closed comes on a reload)
            team, user = payloads.team_id(body), payloads.user_id(body)
            services.spawn(services.run_sync(services.drafts.save, team, user, view.get("id") or "", values), what="keep the brief draft")

    @app.view(ids.VIEW_BRIEF)
    async def on_submit(ack, body, view, client) -> None:
        values = (view.get("state") or {}).get("values") or {}
        raw = draft_from_state(values)
        context = ModalContext.load(view.get("private_metadata"))

        def form_again(destination, context_now, notice: str) -> dict:
            """The form as typed, with `notice` on top (Slack keeps it open: nothing is lost)."""
            return brief_modal(
                destination=destination,
                eng_kind=raw.get("eng_kind"),
                context=context_now,
                initial=initial_from_state(values),
                notice=notice,
                post_now=services.settings.post_now,
            )

        try:
            brief = validate_draft(
                raw, now=services.clock.now(), default_currency=services.settings.default_currency, post_now_severities=services.settings.post_now.severities
            )
        except BriefInvalid as invalid:
            shown = _input_ids(view)
            if set(invalid.errors) <= shown:
                await ack(response_action="errors", errors=invalid.errors)
                return
            # Required fields the agent hasn't seen yet (the view had not re-rendered for the
            # destination): show them, with everything typed so far kept.
            destination = _destination(raw)
            notice = f":point_down: *{destination.label if destination else 'This destination'} needs a few more details* — they are below."
            await ack(response_action="update", view=form_again(destination, context, notice))
            return

        tier = services.tiers.cached_tier(payloads.user_id(body))
        if needs_tier_warning(brief.destination, tier, enforce_tiers=services.settings.enforce_tiers, already_warned=context.tier_warned):
            warned = context.model_copy(update={"tier_warned": True})
            notice = f":warning: {tier_note(brief.destination)} You are not in the L2 group: consider choosing *Support L2*. Press *Escalate* again to send it to {brief.destination.label} anyway."
            await ack(response_action="update", view=form_again(brief.destination, warned, notice))
            return
        job = BriefJob(
            team_id=payloads.team_id(body), user_id=payloads.user_id(body), view_id=view.get("id") or "", brief=brief, context=context, values=values, tier=tier
        )
        try:  # durable before the agent is told "saving": a crash after the ack cannot lose it
            await services.run_sync(accept_brief, services.escalations, job)
        except Exception:  # noqa: BLE001 - the database did not answer: give everything back, nothing is lost
            ref = error_reference()
            log.exception("keeping a submission failed [%s]", ref)
            notice = not_saved_notice(ref)
            await ack(response_action="update", view=form_again(brief.destination, context, notice))
            return
        await ack(response_action="update", view=saving_view())
        if services.brief_workers is not None:  # a brief worker process (bot.runtime.brief_worker): acks never wait behind it
            services.brief_workers.submit(job)
        else:
            services.spawn(services.run_sync(file_brief, services, job), what="escalate")

    @app.view(ids.VIEW_BRIEF_RESULT)
    async def on_result_closed(ack) -> None:  # result views have no submit; ack anything that arrives
        await ack()

    @app.action(ids.ACTION_EXPORT)
    async def on_export(ack, body, client, respond) -> None:
        """The brief as plain text, in a modal only the clicker sees."""
        await ack()
        services.spawn(
            _export(services, body, client, respond), what="export", notify=lambda t: respond(text=t, response_type="ephemeral", replace_original=False)
        )

    @app.action(ids.ACTION_RETRY_DELIVERY)
    async def on_retry(ack, body, respond) -> None:
        await ack()
        services.spawn(_retry(services, body, respond), what="retry delivery", notify=lambda t: respond(text=t, replace_original=False))


async def _export(services, body: dict, client, respond) -> None:
    escalation_id = payloads.action_id_value(body)
    user, team = payloads.user_id(body), payloads.team_id(body)
    if escalation_id is None:
        return
    ref, text, refusal = await services.run_sync(services.escalations.export_for, escalation_id, user, team_id=team)
    if refusal:
        await respond(text=refusal, response_type="ephemeral", replace_original=False)
        return
    await client.views_open(trigger_id=body.get("trigger_id", ""), view=export_view(ref=ref, text=text))


async def _retry(services, body: dict, respond) -> None:
    escalation_id = payloads.action_id_value(body)
    if escalation_id is None:
        return
    delivery = await services.run_sync(services.escalations.retry_for, escalation_id, payloads.user_id(body), team_id=payloads.team_id(body))
    if isinstance(delivery, str):  # refused
        await respond(text=delivery, response_type="ephemeral", replace_original=False)
    elif delivery.posted:
        await respond(text=f":white_check_mark: {delivery.ref} is now posted in <#{delivery.channel_id}>.", replace_original=True)
    elif not delivery.in_progress:
        problem = delivery_problem(delivery.error or "unknown_error", delivery.channel_id)
        await respond(
            text=f":warning: {delivery.ref} is still not posted: {problem} I'll keep trying by myself and tell you when it is in.",
            response_type="ephemeral",
            replace_original=False,
        )

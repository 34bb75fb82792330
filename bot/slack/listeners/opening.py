"""Opening the brief modal, shared by the slash command and the message shortcut."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from blocks.brief_modal import ModalContext, brief_modal
from blocks.text import escape, slack_date
from bot.domain.tickets import find_refs, sla_prefill
from bot.domain.validation import SUMMARY_MAX

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


async def update_view(client, view_id: str | None, view: dict, view_hash: str | None = None) -> None:
    """views.update that tolerates the modal having moved on: hash_conflict (a newer update wins) or
    not_found (the person closed it). Neither loses anything: what matters is stored."""
    if not view_id:
        return
    kwargs = {"view_id": view_id, "view": view}
    if view_hash:
        kwargs["hash"] = view_hash
    try:
        await client.views_update(**kwargs)
    except SlackApiError as exc:
        log.info("views.update skipped: %s", exc.response.get("error") if exc.response is not None else exc)


async def open_brief_modal(client, trigger_id: str, context: ModalContext, respond=None, *, services=None, ticket_text: str = "") -> None:
    """Open first (the trigger expires in 3 s); callers warm caches afterwards.

    With `services` and a ticket reference in `ticket_text` (`/escalate SUP-123`, or the shortcut's
    message), the ticket's SLA then pre-fills the SLA position and hard deadline by views.update."""
    try:
        response = await client.views_open(trigger_id=trigger_id, view=brief_modal(context=context))
    except SlackApiError as exc:
        error = exc.response.get("error", "") if exc.response is not None else ""
        log.warning("views.open failed: %s", error)
        if respond is not None:
            await respond(text=_RETRY_HINT.get(error, f"Slack could not open the form ({error}). Please try again."), response_type="ephemeral")
        return
    ticketing = getattr(services, "ticketing", None)
    if ticketing is not None and ticket_text:
        await _prefill_from_ticket(services, client, response.get("view") or {}, context, ticket_text)


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

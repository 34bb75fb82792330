"""File now, complete later: *Complete the brief* (on the posted brief, the agent's DM, the form's
result, the reminders and the Home tab) and the completion form's submission.

The button opens the brief form pre-filled with what was given (views.open, or views.update when
clicked inside the result modal). The submission is validated in full before the ack (pure, field
errors where they were typed); then the brief is completed in the background, once per view.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from slack_bolt.async_app import AsyncApp

from blocks import ids
from blocks.brief_modal import draft_from_state
from blocks.complete_brief import complete_modal_again, completed_view, completing_view, load_meta
from bot.domain.validation import BriefInvalid, validate_draft
from bot.slack import payloads
from bot.slack.dedupe import once_per_view
from bot.slack.listeners.escalate import _input_ids
from bot.slack.modals import update_view

log = logging.getLogger(__name__)


def register(app: AsyncApp, services) -> None:
    @app.action(ids.ACTION_COMPLETE_BRIEF)
    async def on_complete(ack, body, client, respond) -> None:
        await ack()
        escalation_id, user, team = payloads.action_id_value(body), payloads.user_id(body), payloads.team_id(body)

        async def tell(text: str) -> None:
            if body.get("response_url"):
                await respond(text=text, response_type="ephemeral", replace_original=False)
            else:  # clicked in a modal or the Home tab: no response_url
                await client.chat_postMessage(channel=user, text=text)

        async def run() -> None:
            form = await services.run_sync(services.complete_briefs.form_for, escalation_id, user, team_id=team)
            if isinstance(form, str):
                await tell(form)
                return
            view = body.get("view") or {}
            if view.get("type") == "modal" and view.get("id"):  # the form's result: the completion form takes its place
                await client.views_update(view_id=view["id"], view=form)
            else:
                await client.views_open(trigger_id=body.get("trigger_id", ""), view=form)

        if escalation_id is not None:
            services.spawn(run(), what="complete the brief", notify=tell)

    @app.view(ids.VIEW_COMPLETE_BRIEF)
    async def on_submit(ack, body, view, client) -> None:
        meta = load_meta(view.get("private_metadata"))
        if not meta:
            await ack()
            return
        values = (view.get("state") or {}).get("values") or {}
        raw = {**draft_from_state(values), "destination": meta.get("destination"), "severity": meta.get("severity"), "post_now": False}
        now = services.clock.now()
        if meta.get("deadline") is not None and str(raw.get("deadline")) == str(meta["deadline"]) and isinstance(meta.get("filed_at"), int):
            now = datetime.fromtimestamp(meta["filed_at"], UTC)  # the deadline as given: it was in the future when filed
        try:
            brief = validate_draft(raw, now=now, default_currency=services.settings.default_currency, post_now_severities=frozenset())
        except BriefInvalid as invalid:
            if set(invalid.errors) <= _input_ids(view):
                await ack(response_action="errors", errors=invalid.errors)
                return
            again = complete_modal_again(view, notice=":point_down: *A few more details are needed* — they are below.")
            await (ack(response_action="update", view=again) if again else ack())
            return
        await ack(response_action="update", view=completing_view(str(meta.get("ref") or "")))
        user, team, view_id = payloads.user_id(body), payloads.team_id(body), view.get("id")

        async def run() -> None:
            outcome = await once_per_view(services, body, view, services.complete_briefs.complete, meta["escalation_id"], user, brief, team_id=team)
            if outcome is None:  # the same form submitted again: the first one does it
                return
            if outcome.message:  # no response_url after a modal: told by DM
                await client.chat_postMessage(channel=user, text=outcome.message)
            text = None if outcome.done else (outcome.message or "Nothing changed.")
            await update_view(client, view_id, completed_view(ref=outcome.ref, permalink=outcome.permalink, text=text))

        services.spawn(run(), what="complete the brief")

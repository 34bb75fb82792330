"""Listeners for moving a brief to another team: the *Move* button, the destination chosen in the
modal (re-rendered with that team's package, pre-filled from the brief), and the submission.

Thin: ack, then bot.usecases.move. The submission is checked before it is answered, so a refused
tier move, a missing package field or a missing reason is shown in the modal; the move itself runs
once per submitted view (a replay has one effect), and whatever the mover must be told comes by DM."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from blocks import ids
from blocks.brief_modal import draft_from_state
from bot.domain.brief import Destination
from bot.domain.move import form_fields
from bot.slack import payloads
from bot.slack.dedupe import once_per_view
from bot.slack.modals import update_view

B = ids.MOVE_BLOCKS


def _typed(view: dict) -> dict:
    """The package fields as typed in the move modal (their block ids are the Draft field names)."""
    values = (view.get("state") or {}).get("values") or {}
    return {k: v for k, v in draft_from_state(values).items() if k not in B.values()}


def register(app: AsyncApp, services) -> None:
    move = services.move

    def ephemeral(respond):
        return lambda text: respond(text=text, response_type="ephemeral", replace_original=False)

    @app.action(ids.ACTION_MOVE)
    async def on_move(ack, body, client, respond) -> None:
        await ack()
        escalation_id, user, team = payloads.action_id_value(body), payloads.user_id(body), payloads.team_id(body)
        if escalation_id is None:
            return

        async def run() -> None:
            # Refused before the modal opens, so nobody fills in a form they may not submit.
            view, refusal = await services.run_sync(move.form, escalation_id, user, team_id=team)
            if refusal or view is None:
                await respond(text=refusal or "", response_type="ephemeral", replace_original=False)
                return
            await client.views_open(trigger_id=body.get("trigger_id", ""), view=view)

        services.spawn(run(), what="move", notify=ephemeral(respond))

    @app.action(ids.ACTION_MOVE_DESTINATION)
    async def on_destination(ack, body, client, respond) -> None:
        """The team was chosen: show its package fields, pre-filled from the brief, keeping what was typed."""
        await ack()
        view = body.get("view") or {}
        escalation_id = payloads.view_escalation_id(view) if view else payloads.action_id_value(body)
        user, team = payloads.user_id(body), payloads.team_id(body)
        if escalation_id is None:
            return
        target = payloads.view_text(view, B["destination"]) if view else ""
        reason = payloads.view_text(view, B["reason"]) if view else ""
        typed = _typed(view) if view else {}

        async def run() -> None:
            new_view, refusal = await services.run_sync(move.form, escalation_id, user, team_id=team, target=target, typed=typed, reason=reason)
            if view and new_view is not None:
                await update_view(client, view.get("id"), new_view, view.get("hash"))
            elif refusal and body.get("response_url"):
                await respond(text=refusal, response_type="ephemeral", replace_original=False)
            elif refusal:  # inside a modal there is no response_url: the refusal comes by DM
                await client.chat_postMessage(channel=user, text=refusal)

        services.spawn(run(), what="move: choose the team", notify=ephemeral(respond) if body.get("response_url") else None)

    @app.view(ids.VIEW_MOVE)
    async def on_submit(ack, body, client, view) -> None:
        escalation_id, user, team = payloads.view_escalation_id(view), payloads.user_id(body), payloads.team_id(body)
        target, reason = payloads.view_text(view, B["destination"]), payloads.view_text(view, B["reason"])
        shown = {b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"}
        typed = {k: v for k, v in _typed(view).items() if k in shown}
        if escalation_id is None:
            await ack()
            return
        errors = await services.run_sync(move.check, escalation_id, user, target, reason, typed, team_id=team)
        if errors:
            fields = set(form_fields_of(target))
            on_block = {(B[k] if k in B else k if k in shown and k in fields else B["destination"]): message for k, message in errors.items()}
            await ack(response_action="errors", errors=on_block)
            return
        await ack()

        async def run() -> None:
            outcome = await once_per_view(services, body, view, move.move, escalation_id, user, target, reason, typed, team_id=team)
            if outcome is not None and outcome.message:  # None: a repeated submission, ignored
                await client.chat_postMessage(channel=user, text=outcome.message)

        services.spawn(run(), what="move", notify=lambda text: client.chat_postMessage(channel=user, text=text))


def form_fields_of(target: str) -> tuple[str, ...]:
    try:
        return form_fields(Destination(target))
    except ValueError:
        return ()

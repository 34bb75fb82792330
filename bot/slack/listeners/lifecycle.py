"""Listeners for ending and re-opening a brief: Mark fixed, De-escalate, Close with lessons
learned, Re-open. Thin: ack, then the use case in bot.usecases.lifecycle runs in the background;
whatever the clicker must be told (a refusal, "already closed") comes back only to them."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from blocks import ids
from blocks.lifecycle import close_modal, deescalate_modal
from bot.domain.lifecycle import Deescalation, Lessons, deescalation_from, lessons_from
from bot.slack import payloads
from bot.slack.dedupe import once_per_view

_MODALS = {ids.ACTION_DEESCALATE: deescalate_modal, ids.ACTION_CLOSE: close_modal}


def register(app: AsyncApp, services) -> None:
    ft, lifecycle = services.follow_through, services.lifecycle

    def ephemeral(respond):
        return lambda text: respond(text=text, response_type="ephemeral", replace_original=False)

    async def tell(respond, outcome) -> None:
        if outcome.message:
            await respond(text=outcome.message, response_type="ephemeral", replace_original=False)

    async def dm(client, user: str, outcome) -> None:
        if outcome is not None and outcome.message:  # None: a repeated submission, ignored  # a modal submission has no response_url: the refusal goes by DM
            await client.chat_postMessage(channel=user, text=outcome.message)

    @app.action(ids.ACTION_MARK_FIXED)
    async def on_mark_fixed(ack, body, respond) -> None:
        await ack()
        escalation_id, user, team = payloads.action_id_value(body), payloads.user_id(body), payloads.team_id(body)
        if escalation_id is not None:
            services.spawn(
                _then(services.run_sync(ft.mark_fixed, escalation_id, user, team_id=team), lambda o: tell(respond, o)),
                what="mark fixed",
                notify=ephemeral(respond),
            )

    @app.action(ids.ACTION_REOPEN)
    async def on_reopen(ack, body, respond) -> None:
        await ack()
        escalation_id, user, team = payloads.action_id_value(body), payloads.user_id(body), payloads.team_id(body)
        if escalation_id is not None:
            services.spawn(
                _then(services.run_sync(lifecycle.reopen, escalation_id, user, team_id=team), lambda o: tell(respond, o)),
                what="re-open",
                notify=ephemeral(respond),
            )

    @app.action(ids.ACTION_DEESCALATE)
    @app.action(ids.ACTION_CLOSE)
    async def on_modal_button(ack, body, client, respond) -> None:
        await ack()
        escalation_id, user, team = payloads.action_id_value(body), payloads.user_id(body), payloads.team_id(body)
        action_id = body["actions"][0]["action_id"]
        modal = _MODALS[action_id]
        if escalation_id is None:
            return

        async def run() -> None:
            # Refuse before the modal opens, so nobody fills in a form they may not submit.
            ref, refusal = await services.run_sync(lifecycle.may_open, escalation_id, user, action_id, team_id=team)
            if refusal:
                await respond(text=refusal, response_type="ephemeral", replace_original=False)
                return
            await client.views_open(trigger_id=body.get("trigger_id", ""), view=modal(escalation_id=escalation_id, ref=ref))

        services.spawn(run(), what=action_id, notify=ephemeral(respond))

    @app.view(ids.VIEW_DEESCALATE)
    async def on_deescalate(ack, body, client, view) -> None:
        b = ids.DEESCALATE_BLOCKS
        result = deescalation_from(
            payloads.view_text(view, b["reason"]),
            payloads.view_text(view, b["findings"]),
            payloads.view_text(view, b["customer_told"]),
            payloads.view_text(view, b["root_cause"]),
        )
        if not isinstance(result, Deescalation):
            await ack(response_action="errors", errors={b[field]: message for field, message in result.items()})
            return
        await ack()
        escalation_id, user = payloads.view_escalation_id(view), payloads.user_id(body)
        if escalation_id is not None:
            services.spawn(
                _then(
                    once_per_view(services, body, view, lifecycle.deescalate, escalation_id, user, result, team_id=payloads.team_id(body)),
                    lambda o: dm(client, user, o),
                ),
                what="de-escalate",
            )

    @app.view(ids.VIEW_CLOSE)
    async def on_close(ack, body, client, view) -> None:
        b = ids.CLOSE_BLOCKS
        result = lessons_from(
            payloads.view_text(view, b["what_happened"]),
            payloads.view_text(view, b["root_cause"]),
            payloads.view_text(view, b["next_time"]),
            confirmed="yes" in payloads.view_input(view, b["confirmed"]),
        )
        if not isinstance(result, Lessons):
            await ack(response_action="errors", errors={b[field]: message for field, message in result.items()})
            return
        await ack()
        escalation_id, user = payloads.view_escalation_id(view), payloads.user_id(body)
        if escalation_id is not None:
            services.spawn(
                _then(
                    once_per_view(services, body, view, lifecycle.close, escalation_id, user, result, team_id=payloads.team_id(body)),
                    lambda o: dm(client, user, o),
                ),
                what="close",
            )


async def _then(work, after):
    """Run the use case, then tell the person what they need to know (if anything)."""
    await after(await work)

"""*Same problem* / *Not related* on a "possibly the same problem" suggestion (the agent's result view
and DM, the posted brief's thread). Thin: ack, then bot.usecases.pattern_links decides in the
background; the suggestion's buttons are replaced by what was decided (response_url for a message,
views.update for the result view), and a refusal goes only to the clicker."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from blocks import ids
from blocks.pattern_links import parse_pair, settled, settled_view
from bot.slack import payloads


def register(app: AsyncApp, services) -> None:
    links = services.pattern_links

    @app.action(ids.ACTION_PATTERN_SAME)
    @app.action(ids.ACTION_PATTERN_NOT_RELATED)
    async def on_suggestion(ack, body, client, respond) -> None:
        await ack()
        action_id = body["actions"][0]["action_id"]
        mine, other = parse_pair(payloads.action_value(body))
        user, team = payloads.user_id(body), payloads.team_id(body)
        if mine is None:
            return
        decide = links.same_problem if action_id == ids.ACTION_PATTERN_SAME else links.not_related
        view, message = body.get("view"), body.get("message")

        async def tell(text: str) -> None:
            if body.get("response_url"):
                await respond(text=text, response_type="ephemeral", replace_original=False)
            else:  # a button in a modal has no response_url: the answer goes by DM
                await client.chat_postMessage(channel=user, text=text)

        async def run() -> None:
            decision = await services.run_sync(decide, mine, other, user, team_id=team)
            if decision.line is None or other is None:
                await tell(decision.message)
                return
            if isinstance(view, dict) and (new_view := settled_view(view, other, decision.line)) is not None:
                await client.views_update(view_id=view.get("id"), view=new_view)
            elif isinstance(message, dict) and (blocks := settled(message.get("blocks") or [], other, decision.line)) is not None:
                await respond(text=message.get("text") or decision.message, blocks=blocks, replace_original=True)
            else:
                await tell(decision.message)

        services.spawn(run(), what=action_id, notify=tell)

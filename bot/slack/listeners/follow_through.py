"""Listeners for follow-through: the receiving team's buttons and reactions, the agent's nudge
buttons, their short modals, thread replies, and the running log.

Each acks at once; anything touching the database or Slack runs in the background.
"""

from __future__ import annotations

import logging
import re

from slack_bolt.async_app import AsyncApp

from blocks import ids
from blocks.follow_through import note_modal, running_log_view, severity_modal
from bot.domain.brief import Severity
from bot.slack import payloads
from bot.slack.dedupe import once_per_view
from bot.slack.listeners.home import from_home, refresh_home

log = logging.getLogger(__name__)

# Button → (modal callback, title, label, submit, placeholder, hint)
_NOTE_MODALS = {
    ids.ACTION_ASK_INFO: (
        ids.VIEW_ASK_INFO,
        "Ask for info",
        "What do you need from the agent?",
        "Ask",
        "e.g. Which account IDs are affected? Can you get a HAR file?",
        "Posted in the brief's thread; the agent is told by DM.",
    ),
    ids.ACTION_POST_UPDATE: (
        ids.VIEW_POST_UPDATE,
        "Post update",
        "Progress update",
        "Post",
        "What has been confirmed, what is next, when the next update comes",
        "Posted in the brief's thread and shown on the brief.",
    ),
    ids.ACTION_LOG_CHECKIN: (
        ids.VIEW_LOG_CHECKIN,
        "Log check-in",
        "What did the receiving team say?",
        "Log",
        "e.g. Eng reproduced it; fix in review, ETA 16:00",
        "Posted in the thread; the next check-in is due a full interval from now.",
    ),
    ids.ACTION_LOG_CUSTOMER_UPDATE: (
        ids.VIEW_LOG_CUSTOMER_UPDATE,
        "Log customer update",
        "What did you tell the customer?",
        "Log",
        "e.g. Investigation ongoing; root cause confirmed; next update by 17:00",
        "Posted in the thread; the customer-update timer restarts.",
    ),
}
_LOG_COMMAND = re.compile(r"^log\s+(?:esc-)?(\d+)\s*$", re.IGNORECASE)


def register(app: AsyncApp, services) -> None:
    ft = services.follow_through
    settings = services.settings

    def ephemeral(respond):
        return lambda text: respond(text=text, response_type="ephemeral", replace_original=False)

    @app.action(ids.ACTION_ACKNOWLEDGE)
    async def on_acknowledge(ack, body, respond) -> None:
        await ack()
        escalation_id, user, team = payloads.action_id_value(body), payloads.user_id(body), payloads.team_id(body)

        async def run() -> None:
            outcome = await services.run_sync(ft.acknowledge, escalation_id, user, team_id=team)
            if from_home(body):  # clicked in the Home tab: no response_url; the refreshed row shows the outcome
                refresh_home(services, body)
            elif outcome.message:
                await respond(text=outcome.message, response_type="ephemeral", replace_original=False)

        if escalation_id is not None:
            services.spawn(run(), what="acknowledge", notify=ephemeral(respond))

    @app.action(ids.ACTION_ASK_INFO)
    @app.action(ids.ACTION_POST_UPDATE)
    @app.action(ids.ACTION_LOG_CHECKIN)
    @app.action(ids.ACTION_LOG_CUSTOMER_UPDATE)
    async def on_note_button(ack, body, client, respond) -> None:
        await ack()
        escalation_id = payloads.action_id_value(body)
        callback, title, label, submit, placeholder, hint = _NOTE_MODALS[body["actions"][0]["action_id"]]
        if escalation_id is None:
            return

        async def run() -> None:
            action_id = body["actions"][0]["action_id"]
            opening = await services.run_sync(ft.note_form, escalation_id, payloads.user_id(body), action_id, team_id=payloads.team_id(body))
            if opening.message:  # refused: nobody fills in a form they may not submit
                await respond(text=opening.message, response_type="ephemeral", replace_original=False)
                return
            ref = opening.ref
            view = note_modal(
                callback_id=callback, title=title, label=label, submit=submit, escalation_id=escalation_id, ref=ref, placeholder=placeholder, hint=hint
            )
            await client.views_open(trigger_id=body.get("trigger_id", ""), view=view)

        services.spawn(run(), what=title, notify=ephemeral(respond))

    @app.action(ids.ACTION_CHANGE_SEVERITY)
    async def on_change_severity(ack, body, client, respond) -> None:
        await ack()
        escalation_id = payloads.action_id_value(body)
        if escalation_id is None:
            return

        async def run() -> None:
            ref, severity, refusal = await services.run_sync(ft.severity_form, escalation_id, payloads.user_id(body), team_id=payloads.team_id(body))
            if refusal:
                await respond(text=refusal, response_type="ephemeral", replace_original=False)
                return
            await client.views_open(trigger_id=body.get("trigger_id", ""), view=severity_modal(escalation_id=escalation_id, ref=ref, current=severity))

        services.spawn(run(), what="change severity", notify=ephemeral(respond))

    @app.action(ids.ACTION_VIEW_LOG)
    async def on_view_log(ack, body, client, respond) -> None:
        await ack()
        escalation_id = payloads.action_id_value(body)
        if escalation_id is not None:
            shown = services.run_sync(services.follow_through.running_log, escalation_id, payloads.user_id(body), team_id=payloads.team_id(body))
            services.spawn(_open_log(client, body.get("trigger_id", ""), shown, respond), what="view log", notify=ephemeral(respond))

    @app.action(re.compile(ids.ACTION_SNOOZE_PATTERN))
    async def on_snooze(ack, body, respond) -> None:
        await ack()
        action = body["actions"][0]
        minutes = int(action["action_id"].removeprefix(ids.ACTION_SNOOZE_PREFIX))
        follow_up_id = payloads.action_id_value(body)

        async def run() -> None:
            outcome = await services.run_sync(ft.snooze, follow_up_id, payloads.user_id(body), minutes, team_id=payloads.team_id(body))
            await respond(text=outcome.message, response_type="ephemeral", replace_original=False)

        if follow_up_id is not None and minutes in ids.SNOOZE_MINUTES:
            services.spawn(run(), what="snooze", notify=ephemeral(respond))

    @app.view(ids.VIEW_ASK_INFO)
    @app.view(ids.VIEW_POST_UPDATE)
    @app.view(ids.VIEW_LOG_CHECKIN)
    @app.view(ids.VIEW_LOG_CUSTOMER_UPDATE)
    async def on_note(ack, body, view, client) -> None:
        note = payloads.view_input(view, ids.BLOCK_NOTE)
        if not note:
            await ack(response_action="errors", errors={ids.BLOCK_NOTE: "Write a few words."})
            return
        await ack()
        operation = {
            ids.VIEW_ASK_INFO: ft.ask_for_info,
            ids.VIEW_POST_UPDATE: ft.post_update,
            ids.VIEW_LOG_CHECKIN: ft.log_checkin,
            ids.VIEW_LOG_CUSTOMER_UPDATE: ft.log_customer_update,
        }[view["callback_id"]]
        escalation_id, user = payloads.view_escalation_id(view), payloads.user_id(body)

        async def run() -> None:
            outcome = await once_per_view(services, body, view, operation, escalation_id, user, note, team_id=payloads.team_id(body))
            if outcome is not None and outcome.message:  # no response_url after a modal: a refusal goes by DM
                await client.chat_postMessage(channel=user, text=outcome.message)

        if escalation_id is not None:
            services.spawn(run(), what=view["callback_id"])

    @app.view(ids.VIEW_CHANGE_SEVERITY)
    async def on_severity(ack, body, view, client) -> None:
        reason = payloads.view_input(view, ids.BLOCK_REASON)
        try:
            severity = Severity(payloads.view_input(view, ids.BLOCK_SEVERITY))
        except ValueError:
            await ack(response_action="errors", errors={ids.BLOCK_SEVERITY: "Pick Critical, High or Medium."})
            return
        if not reason:
            await ack(response_action="errors", errors={ids.BLOCK_REASON: "Say what changed: the receiving team will read it."})
            return
        await ack()
        escalation_id = payloads.view_escalation_id(view)
        user = payloads.user_id(body)

        async def run() -> None:
            outcome = await once_per_view(services, body, view, ft.change_severity, escalation_id, user, severity, reason, team_id=payloads.team_id(body))
            if outcome is not None and outcome.message:  # no response_url after a modal: a refusal goes by DM
                await client.chat_postMessage(channel=user, text=outcome.message)

        if escalation_id is not None:
            services.spawn(run(), what="change severity")

    @app.event("reaction_added")
    async def on_reaction(event: dict, body: dict) -> None:
        item = event.get("item") or {}
        name = event.get("reaction", "").split("::")[0]  # skin tones arrive as eyes::skin-tone-2
        if item.get("type") != "message" or name not in (settings.ack_emoji, settings.fixed_emoji):
            return
        services.spawn(
            services.run_sync(
                ft.reaction,
                item.get("channel", ""),
                item.get("ts", ""),
                event.get("user", ""),
                name,
                ack_emoji=settings.ack_emoji,
                fixed_emoji=settings.fixed_emoji,
                team_id=payloads.team_id(body) or None,
            ),
            what="reaction",
        )

    @app.event("message")
    async def on_message(event: dict, body: dict) -> None:
        # Only replies in a thread can belong to a brief; edits, joins and bot posts are not replies.
        if event.get("subtype") or event.get("bot_id") or not event.get("thread_ts") or event.get("thread_ts") == event.get("ts"):
            return
        services.spawn(
            services.run_sync(
                ft.thread_reply,
                event.get("channel", ""),
                event["thread_ts"],
                event.get("user", ""),
                event.get("text") or "",
                team_id=payloads.team_id(body) or None,
            ),
            what="thread reply",
        )


async def _open_log(client, trigger_id: str, shown, respond) -> None:
    """`shown`: the use case's (ref, entries, refusal), awaited here (after ack)."""
    ref, entries, refusal = await shown
    if refusal:
        await respond(text=refusal, response_type="ephemeral", replace_original=False)
        return
    await client.views_open(trigger_id=trigger_id, view=running_log_view(ref=ref, entries=entries))


async def open_log_by_command(services, client, body: dict, respond) -> bool:
    """`/escalate log ESC-42`: True if the text was this sub-command (handled here)."""
    match = _LOG_COMMAND.match((body.get("text") or "").strip())
    if not match:
        return False
    shown = services.run_sync(services.follow_through.running_log_by_number, payloads.team_id(body), int(match.group(1)), payloads.user_id(body))
    await _open_log(client, body.get("trigger_id", ""), shown, respond)
    return True

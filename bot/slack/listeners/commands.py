"""`/escalate [summary]` opens the brief modal; a few words after it are sub-commands:

    /escalate                       the brief modal
    /escalate Acme SSO is down      the brief modal with that summary
    /escalate SUP-123               the brief modal, the ticket's SLA pre-filled (ticketing on)
    /escalate triage                the escalate-or-keep decision helper
    /escalate log ESC-42            the running log of a brief
    /escalate search <words>        past briefs, ranked (shown only to you)
    /escalate help                  this list
"""

from __future__ import annotations

import re

from slack_bolt.async_app import AsyncApp

from blocks import ids
from blocks.brief_modal import ModalContext
from bot.slack.listeners.follow_through import open_log_by_command
from bot.slack.listeners.opening import open_brief_modal, prefill_from_text
from bot.slack.listeners.search import answer_search
from bot.slack.listeners.triage import open_triage

HELP = (
    "*/escalate* opens the escalation brief form.\n"
    "• `/escalate Acme SSO is down`: the form, with that summary\n"
    "• `/escalate SUP-123` or `/escalate #12345 …`: the form, with that ticket's SLA pre-filled (when ticketing is on)\n"
    "• `/escalate triage`: decide whether to escalate, to whom and how severe\n"
    "• `/escalate log ESC-42`: the running log of a brief\n"
    "• `/escalate search export timeout`: past briefs, with status, resolution and lessons learned\n"
    "• Message menu → *Escalate this message*: the form, starting from that message"
)
_SEARCH = re.compile(r"^search\s+(.+)$", re.IGNORECASE | re.DOTALL)


def register(app: AsyncApp, services) -> None:
    @app.command(ids.COMMAND)
    async def on_escalate(ack, body, client, respond) -> None:
        text = " ".join((body.get("text") or "").split())
        if text.lower() in ("help", "?"):
            await ack(text=HELP, response_type="ephemeral")
            return
        await ack()
        notify = lambda message: respond(text=message, response_type="ephemeral")  # noqa: E731
        context = ModalContext(source_channel_id=body.get("channel_id"), origin="command", prefill=prefill_from_text(text))
        trigger = body.get("trigger_id", "")
        if text.lower() == "triage":
            services.spawn(open_triage(client, trigger, ModalContext(source_channel_id=body.get("channel_id"))), what="/escalate triage", notify=notify)
        elif match := _SEARCH.match(text):
            services.spawn(answer_search(services, body, match.group(1), respond), what="/escalate search", notify=notify)
        elif text.lower().startswith("log "):
            services.spawn(_log_or_modal(services, client, body, respond, context), what="/escalate log", notify=notify)
        else:
            services.spawn(open_brief_modal(client, trigger, context, respond, services=services, ticket_text=text), what="/escalate", notify=notify)
        # Know the agent's tier before they submit, so the submission never waits on Slack.
        services.spawn(services.run_sync(services.tiers.refresh), what="tier lookup")


async def _log_or_modal(services, client, body: dict, respond, context: ModalContext) -> None:
    """`/escalate log ESC-42` shows the running log; other words starting with "log" are a summary."""
    if not await open_log_by_command(services, client, body, respond):
        await open_brief_modal(client, body.get("trigger_id", ""), context, respond)

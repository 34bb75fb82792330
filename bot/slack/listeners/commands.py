"""`/escalate [summary]` opens the brief modal; a few words after it are sub-commands:

/escalate                       the brief modal
/escalate Acme SSO is down      the brief modal with that summary
/escalate SUP-123               the brief modal, the ticket's SLA pre-filled (ticketing on)
/escalate triage                the escalate-or-keep decision helper
/escalate log ESC-42            the running log of a brief
/escalate link ESC-12 ESC-31    confirm two briefs report the same problem (unlink: not related)
/escalate search <words>        past briefs, ranked (shown only to you)
/escalate list                  my open briefs, overdue first (shown only to you)
/escalate stats [7d|30d|90d]    counts, medians, on-time shares, patterns (shown only to you)
/escalate help                  this list
"""

from __future__ import annotations

import re

from slack_bolt.async_app import AsyncApp

from blocks import ids
from blocks.brief_modal import ModalContext
from blocks.text import escape, truncate
from bot.slack import payloads
from bot.slack.listeners.escalate import open_brief_modal, prefill_from_text
from bot.slack.listeners.follow_through import open_log_by_command
from bot.slack.listeners.search import answer_search
from bot.slack.listeners.triage import open_triage
from bot.usecases.stats import STATS_PERIODS

HELP = (
    "*/escalate* opens the escalation brief form.\n"
    "• `/escalate Acme SSO is down`: the form, with that summary\n"
    "• `/escalate SUP-123` or `/escalate #12345 …`: the form, with that ticket's SLA pre-filled (when ticketing is on)\n"
    "• `/escalate triage`: decide whether to escalate, to whom and how severe\n"
    "• `/escalate log ESC-42`: the running log of a brief\n"
    "• `/escalate link ESC-12 ESC-31`: the same problem (they count as one recurring pattern); `/escalate unlink ESC-12 ESC-31`: not related\n"
    "• `/escalate search export timeout`: past briefs, with status, resolution and lessons learned "
    "(`area:Billing` among the words: that product area only)\n"
    "• `/escalate list`: your open briefs, overdue first (all of them in the app's Home tab)\n"
    "• `/escalate stats [7d|30d|90d]`: escalations by destination, severity, status and product area; median time to "
    "acknowledge and resolve; deadline breaches; check-ins and customer updates on time; top recurring patterns\n"
    "• `/escalate help`: this list\n"
    "• Message menu → *Escalate this message*: the form, starting from that message\n"
    "• Closed the form by mistake? It is kept as your draft: the next `/escalate` offers *Continue the draft* or *Start fresh*\n"
    "On a posted brief: *Acknowledge*, *Ask for info*, *Post update*, *Mark fixed*, *Change severity*, *De-escalate*, "
    "*View log*, *Export as text*; once fixed, the agent's *Close with lessons learned*; once closed, *Re-open*."
)
_SEARCH = re.compile(r"^search\s+(.+)$", re.IGNORECASE | re.DOTALL)
_LINK = re.compile(r"^(link|unlink)(?:\s+((?:esc-)?\d+\b.*))?$", re.IGNORECASE | re.DOTALL)  # "link" + words that are no ID: a summary
_STATS = re.compile(r"^stats(?:\s+(\S+))?$", re.IGNORECASE)


def register(app: AsyncApp, services) -> None:
    @app.command(ids.COMMAND)
    async def on_escalate(ack, body, client, respond) -> None:
        text = " ".join((body.get("text") or "").split())
        if text.lower() in ("help", "?"):
            await ack(text=HELP, response_type="ephemeral")
            return
        await ack()
        notify = lambda message: respond(text=message, response_type="ephemeral")  # noqa: E731
        context = ModalContext(
            source_channel_id=body.get("channel_id"), origin="command", prefill=prefill_from_text(text), product_areas=services.settings.product_areas
        )
        trigger = body.get("trigger_id", "")
        if text.lower() == "triage":
            services.spawn(
                open_triage(client, trigger, ModalContext(source_channel_id=body.get("channel_id"), product_areas=services.settings.product_areas)),
                what="/escalate triage",
                notify=notify,
            )
        elif match := _SEARCH.match(text):
            services.spawn(answer_search(services, body, match.group(1), respond), what="/escalate search", notify=notify)
        elif text.lower() == "list":
            services.spawn(
                _answer(services, respond, services.home.my_list, payloads.team_id(body), payloads.user_id(body)), what="/escalate list", notify=notify
            )
        elif match := _STATS.match(text):
            period = (match.group(1) or "7d").lower()
            if period not in STATS_PERIODS:
                await respond(text=f"`/escalate stats` takes 7d, 30d or 90d (not “{escape(truncate(match.group(1), 20))}”).", response_type="ephemeral")
            else:
                services.spawn(_answer(services, respond, services.stats.stats, payloads.team_id(body), period), what="/escalate stats", notify=notify)
        elif match := _LINK.match(text):
            verb = match.group(1).lower()
            command = services.pattern_links.link_command if verb == "link" else services.pattern_links.unlink_command
            services.spawn(
                _answer_text(services, respond, command, payloads.team_id(body), payloads.user_id(body), match.group(2) or ""),
                what=f"/escalate {verb}",
                notify=notify,
            )
        elif text.lower().startswith("log "):
            services.spawn(_log_or_modal(services, client, body, respond, context), what="/escalate log", notify=notify)
        else:
            who = {"team_id": payloads.team_id(body), "user_id": payloads.user_id(body)}  # a draft of theirs is offered first
            services.spawn(open_brief_modal(client, trigger, context, respond, services=services, ticket_text=text, **who), what="/escalate", notify=notify)
        # Know the agent's tier before they submit, so the submission never waits on Slack.
        if services.tiers.stale:
            services.spawn(services.run_sync(services.tiers.refresh), what="tier lookup")


async def _answer(services, respond, fn, *args) -> None:
    text, blocks = await services.run_sync(fn, *args)
    await respond(text=text, blocks=blocks, response_type="ephemeral")


async def _answer_text(services, respond, fn, *args) -> None:
    await respond(text=await services.run_sync(fn, *args), response_type="ephemeral")


async def _log_or_modal(services, client, body: dict, respond, context: ModalContext) -> None:
    """`/escalate log ESC-42` shows the running log; other words starting with "log" are a summary."""
    if not await open_log_by_command(services, client, body, respond):
        await open_brief_modal(client, body.get("trigger_id", ""), context, respond)

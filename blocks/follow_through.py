"""Follow-through surfaces: nudges and their buttons, thread notes, short modals, the running log."""

from __future__ import annotations

import json
from datetime import datetime

from blocks import ids
from blocks.kit import Block, Blocks, View
from blocks.text import SECTION_TEXT_MAX, chunks, escape, plain, slack_date, truncate
from bot.domain.brief import Severity
from bot.domain.status import BOT_COMPOSED_LOG_KINDS


def button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    button = {"type": "button", "text": plain(text), "action_id": action_id, "value": value}
    if style:
        button["style"] = style
    return button


def _snoozes(follow_up_id: int) -> Blocks:
    labels = {30: "Snooze 30 min", 60: "Snooze 1 h", 120: "Snooze 2 h"}
    return [button(labels[m], f"{ids.ACTION_SNOOZE_PREFIX}{m}", str(follow_up_id)) for m in ids.SNOOZE_MINUTES]


def _message(text: str, actions: Blocks | None = None, context: str | None = None) -> tuple[str, Blocks]:
    blocks: Blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": part}} for part in chunks(text, SECTION_TEXT_MAX)]
    if context:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    if actions:
        blocks.append({"type": "actions", "elements": actions})
    return text, blocks


def checkin_nudge(
    *, ref: str, agent: str, escalation_id: int, follow_up_id: int, every: str, last_update: datetime | None, in_thread: bool = True
) -> tuple[str, Blocks]:
    """In the brief's thread, mentioning the agent: follow up before being asked. (By DM for security
    briefs, whose channel the agent may not be in.)"""
    since = f" Last update {slack_date(last_update)}." if last_update else ""
    hint = " A reply from you in this thread counts as a check-in." if in_thread else ""
    return _message(
        f":alarm_clock: <@{agent}> time to check in with the receiving team on *{ref}* (every {every}).{since}",
        [
            button("Log check-in", ids.ACTION_LOG_CHECKIN, str(escalation_id), "primary"),
            button("Change severity", ids.ACTION_CHANGE_SEVERITY, str(escalation_id)),
            *_snoozes(follow_up_id),
        ],
        "Proactively ask for progress; don't wait to be told." + hint,
    )


def customer_update_nudge(
    *, ref: str, escalation_id: int, follow_up_id: int, overdue: bool, every: str, last_customer_update: datetime | None
) -> tuple[str, Blocks]:
    """By DM to the agent, who owns the customer relationship."""
    last = f" Last customer update {slack_date(last_customer_update)}." if last_customer_update else ""
    head = f":rotating_light: *Customer update overdue* on *{ref}*" if overdue else f":speech_balloon: Customer update due on *{ref}*"
    return _message(
        f"{head} (every {every}).{last}",
        [
            button("Log customer update", ids.ACTION_LOG_CUSTOMER_UPDATE, str(escalation_id), "danger" if overdue else "primary"),
            button("Change severity", ids.ACTION_CHANGE_SEVERITY, str(escalation_id)),
            *_snoozes(follow_up_id),
        ],
        "Update them even when there is nothing new: “Investigation is ongoing; here is what has been confirmed so far.”",
    )


def ack_ping(*, ref: str, severity: Severity, waited: str) -> tuple[str, Blocks]:
    here = "<!here> " if severity is Severity.CRITICAL else ""
    return _message(
        f":bell: {here}*{ref}* ({severity.label}) has waited {waited} with nobody acknowledging it. "
        "Press *Acknowledge* on the brief (or react with :eyes:) to take it.",
    )


def ack_dm(*, ref: str, channel_id: str, waited: str) -> tuple[str, Blocks]:
    return _message(
        f":hourglass: Nobody in <#{channel_id}> has acknowledged *{ref}* after {waited}. I've pinged the thread again; consider reaching the team directly."
    )


_DEADLINE_TEXT = {
    "three_quarters": ":warning: Three quarters of the time to the hard deadline of *{ref}* has passed: deadline {deadline}.",
    "one_hour": ":warning: One hour to the hard deadline of *{ref}*: {deadline}.",
    "breach": ":red_circle: The hard deadline of *{ref}* has passed ({deadline}). The deadline is breached.",
}


def deadline_notice(*, mark: str, ref: str, agent: str, owner: str | None, deadline: datetime) -> tuple[str, Blocks]:
    who = f"<@{agent}>" + (f" <@{owner}>" if owner and owner != agent else "")
    text = _DEADLINE_TEXT[mark].format(ref=ref, deadline=slack_date(deadline)) + f" {who}"
    return _message(text)


def thread_note(text: str) -> tuple[str, Blocks]:
    return _message(text)


def quoted(text: str) -> str:
    return "\n".join("> " + line for line in escape(text).splitlines() or [""])


def text_input(block_id: str, label: str, placeholder: str, *, optional: bool = False, hint: str | None = None) -> Block:
    """A multi-line text input whose action_id is its block_id (how the listeners read it back)."""
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label),
        "element": {"type": "plain_text_input", "action_id": block_id, "multiline": True, "max_length": 3000, "placeholder": plain(placeholder)},
    }
    if optional:
        block["optional"] = True
    if hint:
        block["hint"] = plain(hint)
    return block


def escalation_modal(*, callback_id: str, title: str, submit: str, escalation_id: int, blocks: Blocks) -> View:
    """A modal about one brief: its id rides in private_metadata, where the submission listeners find it."""
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(truncate(title, 24)),
        "submit": plain(submit),
        "close": plain("Cancel"),
        "private_metadata": json.dumps({"escalation_id": escalation_id}),
        "blocks": blocks,
    }


def note_modal(*, callback_id: str, title: str, label: str, submit: str, escalation_id: int, ref: str, placeholder: str, hint: str | None = None) -> View:
    return escalation_modal(
        callback_id=callback_id,
        title=title,
        submit=submit,
        escalation_id=escalation_id,
        blocks=[
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"*{escape(ref)}*"}]},
            text_input(ids.BLOCK_NOTE, label, placeholder, hint=hint),
        ],
    )


def severity_modal(*, escalation_id: int, ref: str, current: Severity) -> View:
    options = [{"text": plain(s.label), "value": s.value, "description": plain(s.definition)} for s in Severity]
    return {
        "type": "modal",
        "callback_id": ids.VIEW_CHANGE_SEVERITY,
        "title": plain("Change severity"),
        "submit": plain("Change"),
        "close": plain("Cancel"),
        "private_metadata": json.dumps({"escalation_id": escalation_id}),
        "blocks": [
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"*{escape(ref)}* is {current.label} now. Re-assess when circumstances shift, either way."}],
            },
            {
                "type": "input",
                "block_id": ids.BLOCK_SEVERITY,
                "label": plain("New severity"),
                "element": {
                    "type": "static_select",
                    "action_id": ids.BLOCK_SEVERITY,
                    "options": options,
                    "initial_option": next(o for o in options if o["value"] == current.value),
                },
            },
            {
                "type": "input",
                "block_id": ids.BLOCK_REASON,
                "label": plain("Why"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.BLOCK_REASON,
                    "multiline": True,
                    "max_length": 3000,
                    "placeholder": plain("What changed: more customers hit, a workaround found…"),
                },
            },
        ],
    }


def running_log_view(*, ref: str, entries: list[tuple[datetime, str, str, str]]) -> View:
    """Every entry (time, actor, kind, text), oldest first, within Slack's 100-block view limit. The bot's
    own entries keep their mentions and channel links; typed text is escaped (bot.domain.status)."""
    lines = []
    for at, actor, kind, text in entries:
        who = "the bot" if actor == "bot" else f"<@{actor}>"
        line = f"{slack_date(at, '{date_short} {time}')} · *{kind.replace('_', ' ')}* · {who}"
        if text:
            shown = truncate(" ".join(text.split()), 400)
            line += f": {shown if kind in BOT_COMPOSED_LOG_KINDS else escape(shown)}"  # the bot's markup as Slack shows it; typed text inert
        lines.append(line)
    body = "\n".join(lines) or "Nothing logged yet."
    sections: Blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": part}} for part in chunks(body, SECTION_TEXT_MAX)]
    if len(sections) > 98:  # keep the newest: they are what people come to read
        sections = [{"type": "context", "elements": [{"type": "mrkdwn", "text": "Older entries are not shown."}]}, *sections[-97:]]
    return {
        "type": "modal",
        "callback_id": ids.VIEW_RUNNING_LOG,
        "title": plain(truncate(f"{ref} log", 24)),
        "close": plain("Close"),
        "blocks": [{"type": "context", "elements": [{"type": "mrkdwn", "text": f"Running log of *{escape(ref)}*: {len(entries)} entries."}]}, *sections],
    }

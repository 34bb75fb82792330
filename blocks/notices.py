"""Messages and views for the people around a brief: the agent's confirmation, delivery problems,
the text export, and the apology when something unexpected fails."""

from __future__ import annotations

from blocks import ids
from blocks.kit import Blocks, View
from blocks.text import SECTION_TEXT_MAX, chunks, escape

# Slack error codes from chat.postMessage → what the agent or admin should do, in plain words.
_DELIVERY_FIXES = {
    "not_in_channel": "the bot is not a member of <#{channel}>. Ask someone in that channel to type `/invite @Escalation Brief`, then press Try again.",
    "channel_not_found": "the channel <#{channel}> does not exist or the bot cannot see it (private channels need an invite). Ask your Slack admin to check the escalation channel settings, then press Try again.",
    "is_archived": "<#{channel}> is archived. Ask your Slack admin to unarchive it or set a new escalation channel, then press Try again.",
    "ratelimited": "Slack is rate-limiting the bot right now. Press Try again in a minute.",
    "msg_too_long": "the brief is too long for one Slack message. Shorten the longest field, then press Try again.",
    "connection_error": "Slack did not answer in time.",
    "internal_error": "Slack had a problem on its side.",
    "service_unavailable": "Slack is briefly unavailable.",
    "request_timeout": "Slack did not answer in time.",
}
_DEFAULT_FIX = "Slack did not accept the post ({error}). Press Try again; if it keeps failing, tell your Slack admin."


def delivery_problem(error: str, channel: str) -> str:
    return _DELIVERY_FIXES.get(error, _DEFAULT_FIX).format(channel=channel, error=error)


def posted_confirmation(*, ref: str, summary: str, channel_id: str, permalink: str | None, flags: list[str] | None = None) -> tuple[str, Blocks]:
    link = f"<{permalink}|Open {ref}>" if permalink else f"See <#{channel_id}>"
    text = f":white_check_mark: {ref} is posted in <#{channel_id}>. {link}."
    blocks: Blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"*{escape(ref)}:* {escape(summary)}"}]},
        *([{"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(flags)}}] if flags else []),
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "You still own the customer relationship: follow up with the receiving team before they have to ask."}],
        },
    ]
    return text, blocks


def delivery_failed_notice(*, ref: str, error: str, channel_id: str, escalation_id: int) -> tuple[str, Blocks]:
    problem = delivery_problem(error, channel_id)
    text = f":warning: {ref} is saved, but it is not in <#{channel_id}> yet: {problem} I'll keep trying by myself and tell you when it is posted."
    blocks: Blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": ids.ACTION_RETRY_DELIVERY,
                    "text": {"type": "plain_text", "text": "Try again"},
                    "style": "primary",
                    "value": str(escalation_id),
                }
            ],
        },
    ]
    return text, blocks


def export_view(*, ref: str, text: str) -> View:
    """The plain-text brief in a modal only the clicker sees, in code blocks that copy cleanly."""
    parts = chunks(escape(text), SECTION_TEXT_MAX - 6)
    blocks: Blocks = [
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"{escape(ref)} in the escalation document structure: copy it into the ticket."}]}
    ]
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": f"```{p}```"}} for p in parts[:98]]
    return {
        "type": "modal",
        "callback_id": ids.VIEW_EXPORT,
        "title": {"type": "plain_text", "text": f"{ref} as text"[:24]},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": blocks,
    }


def not_saved_notice(reference: str) -> str:
    """Above the brief form given back with everything typed, when the database did not answer."""
    return (
        ":x: *Your brief was not saved* (the database did not answer). Everything you typed is below: press *Escalate* again. "
        f"If it keeps failing, tell your Slack admin and quote `{reference}`."
    )


def apology(reference: str) -> str:
    return (
        ":warning: Sorry, something went wrong on our side and nothing was changed by that last action. "
        f"If it keeps happening, tell your Slack admin and quote `{reference}`."
    )


def not_found(ref_text: str) -> str:
    return f"I can't find an escalation called `{escape(ref_text)}` in this workspace."


def _modal(title: str, text: str, *, extra: Blocks | None = None) -> View:
    return {
        "type": "modal",
        "callback_id": ids.VIEW_BRIEF_RESULT,
        "title": {"type": "plain_text", "text": title[:24]},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}, *(extra or [])],
    }


def saving_view() -> View:
    """Shown the instant the agent presses Escalate, while the brief is stored and posted."""
    return _modal("Escalation brief", ":hourglass_flowing_sand: Saving your brief and posting it to the receiving team…")


def posted_view(*, ref: str, channel_id: str, permalink: str | None, note: str | None = None, flags: tuple[str, ...] = ()) -> View:
    link = f" <{permalink}|Open {ref}>." if permalink else ""
    extra: Blocks = [{"type": "context", "elements": [{"type": "mrkdwn", "text": "You still own the customer relationship: follow up before being asked."}]}]
    if flags:
        extra.insert(0, {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(flags)}})
    if note:
        extra.insert(0, {"type": "section", "text": {"type": "mrkdwn", "text": f":leftwards_arrow_with_hook: {escape(note)}"}})
    return _modal(f"{ref} posted", f":white_check_mark: *{ref}* is posted in <#{channel_id}>.{link}", extra=extra)


def not_delivered_view(*, ref: str, error: str, channel_id: str) -> View:
    return _modal(
        f"{ref} saved",
        f":warning: *{ref}* is saved, but it is not in <#{channel_id}> yet: {delivery_problem(error, channel_id)}\n"
        "I'll keep trying by myself and tell you by direct message when it is posted; the message I sent you has a *Try again* button.",
    )

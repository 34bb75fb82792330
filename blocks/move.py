"""Moving a brief to another team: the modal (destination, reason, the new team's package, pre-filled),
the line on the new post that links its history, and what the old message and thread say."""

from __future__ import annotations

from typing import Any

from blocks import ids
from blocks.brief_modal import package_inputs
from blocks.follow_through import escalation_modal
from blocks.kit import Block, Blocks, View
from blocks.text import escape, plain
from bot.domain.brief import Destination, message_link
from bot.domain.move import REASON_MAX

MOVE_EMOJI = ":twisted_rightwards_arrows:"


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _inline(text: str) -> str:
    return escape(" ".join(text.split()))


def move_modal(
    *,
    escalation_id: int,
    ref: str,
    source: Destination,
    target: Destination | None = None,
    initial: dict[str, Any] | None = None,
    reason: str | None = None,
    notice: str | None = None,
) -> View:
    """`initial`: the target's package values (pre-filled from the brief, or as typed so far)."""
    b = ids.MOVE_BLOCKS
    options = [{"text": plain(d.label), "value": d.value, "description": plain(d.when)} for d in Destination if d is not source]
    select: dict[str, Any] = {"type": "static_select", "action_id": b["destination"], "placeholder": plain("Choose the team"), "options": options}
    chosen = next((o for o in options if target is not None and o["value"] == target.value), None)
    if chosen:
        select["initial_option"] = chosen
    reason_el: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": b["reason"],
        "multiline": True,
        "max_length": REASON_MAX,
        "placeholder": plain("e.g. Not a defect: exports over 10k rows were never supported; this is a capability gap"),
    }
    if reason:
        reason_el["initial_value"] = reason[:REASON_MAX]
    blocks: Blocks = [
        _context(
            f"*{escape(ref)}* is with *{source.label}*. The team you pick gets the brief with a link to its history; "
            "nobody there owns it yet, so their acknowledgement window starts now. Check-ins and customer updates keep their rhythm."
        ),
        *([_section(notice)] if notice else []),
        {"type": "input", "block_id": b["destination"], "dispatch_action": True, "label": plain("Move to"), "element": select},
        {"type": "input", "block_id": b["reason"], "label": plain("Why it belongs there"), "element": reason_el},
    ]
    if target is None:
        blocks.append(_context(":point_up: Pick the team to see what it needs from the brief."))
    else:
        if target is Destination.SECURITY:
            blocks.append(_context(":lock: Security briefs are private: only the security channel and the people involved see it from now on."))
        blocks += package_inputs(target, initial or {})
    return escalation_modal(callback_id=ids.VIEW_MOVE, title=f"Move {ref}", submit="Move", escalation_id=escalation_id, blocks=blocks)


def history_line(*, source: Destination, by: str, reason: str, previous: str | None) -> str:
    """On the new post: where the brief comes from, who moved it and why, and its earlier message."""
    link = f" · <{previous}|Its history in {source.label}>" if previous else ""
    return f"{MOVE_EMOJI} Moved from {source.label} by <@{by}>: {_inline(reason)}{link}"


def history_of(moved_from: dict[str, Any] | None) -> str | None:
    """The history line of a moved brief, from what storage keeps of its last move (None: never moved)."""
    if not moved_from:
        return None
    try:
        source = Destination(moved_from.get("destination"))
    except ValueError:
        return None
    channel, ts = moved_from.get("channel_id"), moved_from.get("message_ts")
    previous = message_link(channel, ts) if channel and ts else None
    return history_line(source=source, by=str(moved_from.get("by") or ""), reason=str(moved_from.get("reason") or ""), previous=previous)


def moved_away_message(*, ref: str, summary: str, target: Destination, by: str, reason: str, new_link: str | None) -> tuple[str, Blocks]:
    """What the old message becomes. A brief moved into a private channel is not named here any more."""
    if target is Destination.SECURITY:
        text = ":lock: This escalation was moved to a private channel; its details are no longer shown here."
        return text, [_section(text)]
    where = f" <{new_link}|Continue there>." if new_link else ""
    text = f"{MOVE_EMOJI} *{escape(ref)}* moved to {target.label}: {_inline(reason)}"
    return text, [
        _section(f"{MOVE_EMOJI} *Moved to {target.label}:* {_inline(reason)}"),
        _context(f"*{escape(ref)}* · {_inline(summary)[:300]} · moved by <@{by}>.{where} Its running log, timers and links went with it."),
    ]


def moved_thread_note(*, ref: str, target: Destination, by: str, reason: str, new_link: str | None) -> str:
    where = f" <{new_link}|Continue in its new thread>." if new_link else ""
    return f"{MOVE_EMOJI} <@{by}> moved *{escape(ref)}* to *{target.label}*: {_inline(reason)}.{where}"


def moved_dm(*, ref: str, target: Destination, by: str, reason: str, channel: str, new_link: str | None) -> str:
    """To the agent, who still owns the customer relationship."""
    link = f"<{new_link}|{escape(ref)}>" if new_link else f"*{escape(ref)}*"
    return f"{MOVE_EMOJI} <@{by}> moved {link} to *{target.label}* (<#{channel}>): {_inline(reason)}. Your check-ins now go to that team."

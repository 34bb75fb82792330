"""*Possibly the same problem*: earlier briefs offered for confirmation, each with *Same problem* /
*Not related*, and what replaces the buttons once someone decided (bot.usecases.pattern_links)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime

from blocks import ids
from blocks.kit import Block, Blocks, View
from blocks.text import archive_link, escape, plain, truncate
from bot.domain.lifecycle import humanise
from bot.domain.patterns import Suggestion

HEADING = ":mag: *Possibly the same problem* (earlier briefs from other customers). Confirm what is, so the pattern counts it:"
SUMMARY_MAX = 200


def pair_value(escalation_id: int, other_id: int) -> str:
    return f"{escalation_id}:{other_id}"


def parse_pair(value: str | None) -> tuple[int | None, int | None]:
    """A suggestion button's value → (this brief, the suggested brief); None for what is not a positive integer."""
    first, _, second = (value or "").partition(":")
    return (int(first) if first.isdigit() else None, int(second) if second.isdigit() else None)


def _ref(s: Suggestion) -> str:
    return f"<{archive_link(s.channel_id, s.message_ts)}|{s.ref}>" if s.message_ts else s.ref


def suggestion_line(s: Suggestion, now: datetime) -> str:
    who = escape(truncate(", ".join(c.title() for c in s.customers[:3]), 80)) or "customer not named"
    counted = " · _counted automatically_" if s.counted else ""
    age = humanise(now - s.created_at)
    return f"*{_ref(s)}* · {who} · {age} ago · {escape(s.status)}{counted}\n{escape(truncate(s.summary, SUMMARY_MAX))}"


def suggestion_blocks(escalation_id: int, suggestions: Sequence[Suggestion], *, now: datetime) -> Blocks:
    """A heading, then per suggestion its line and the two buttons (2 blocks each); [] when none."""
    if not suggestions:
        return []
    blocks: Blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": HEADING}}]
    for s in suggestions:
        value = pair_value(escalation_id, s.escalation_id)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": suggestion_line(s, now)}})
        blocks.append(
            {
                "type": "actions",
                "block_id": f"{ids.BLOCK_PATTERN_SUGGESTION_PREFIX}{s.escalation_id}",
                "elements": [
                    {"type": "button", "action_id": ids.ACTION_PATTERN_SAME, "text": plain("Same problem"), "value": value, "style": "primary"},
                    {"type": "button", "action_id": ids.ACTION_PATTERN_NOT_RELATED, "text": plain("Not related"), "value": value},
                ],
            }
        )
    return blocks


def with_suggestions(blocks: Blocks, suggestions: Blocks) -> Blocks:
    """`blocks` with the suggestions before its last block (the closing reminder of a confirmation)."""
    if not suggestions:
        return blocks
    return [*blocks[:-1], {"type": "divider"}, *suggestions, blocks[-1]] if blocks else list(suggestions)


def suggestions_message(ref: str, escalation_id: int, suggestions: Sequence[Suggestion], *, now: datetime) -> tuple[str, Blocks]:
    """The reply in a posted brief's thread offering the receiving team the same suggestions."""
    text = f"{ref}: possibly the same problem as {', '.join(s.ref for s in suggestions)}"
    return text, suggestion_blocks(escalation_id, suggestions, now=now)


def settled(blocks: Sequence[Block], other_id: int, line: str) -> Blocks | None:
    """The blocks with that suggestion's buttons replaced by `line` (what was decided, by whom);
    None when they hold no such suggestion (nothing to replace)."""
    block_id = f"{ids.BLOCK_PATTERN_SUGGESTION_PREFIX}{other_id}"
    if not any(b.get("block_id") == block_id for b in blocks):
        return None
    return [
        {"type": "context", "block_id": block_id, "elements": [{"type": "mrkdwn", "text": line}]} if b.get("block_id") == block_id else copy.deepcopy(b)
        for b in blocks
    ]


def settled_view(view: View, other_id: int, line: str) -> View | None:
    """A modal holding suggestions (the agent's result view) with one of them settled, ready for views.update."""
    blocks = settled(view.get("blocks") or [], other_id, line)
    if blocks is None:
        return None
    kept = {k: copy.deepcopy(view[k]) for k in ("type", "callback_id", "title", "close", "submit", "private_metadata") if view.get(k) is not None}
    return {**kept, "blocks": blocks}


def decided_line(*, same: bool, user: str, outcome: str) -> str:
    mark = ":link: *Same problem*" if same else ":heavy_multiplication_x: *Not related*"
    return f"{mark}: <@{user}>. {outcome}".strip()

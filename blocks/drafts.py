"""Drafts of the brief form (pure): what was typed, checked against the form itself, and the small
first view that offers it back.

A draft comes from Slack's `view.state.values` (view_closed, or a re-render's block_actions): data
from a payload, so nothing in it is trusted. What is stored is bounded (`kept_fields`: field-like
ids, plain values, at most STATE_MAX_INPUTS of at most TEXT_MAX characters; a state larger than any
view Slack sends is not kept at all). What is restored is decided by the form (`restored_form`):
only the inputs the brief modal really shows for the draft's destination and Engineering kind, each
with a value its element can show (text within its max_length, an option the select offers, a real
calendar date, a timestamp in the datetimepicker's range, a ticked box). Anything else is dropped,
never an error: a stored row is not trusted either.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from blocks import ids
from blocks.brief_modal import TITLE, ModalContext, brief_modal, draft_from_state
from blocks.kit import Block, Blocks, View
from blocks.text import escape, plain, truncate
from bot.domain.brief import Destination, EngineeringKind
from bot.domain.validation import TEXT_MAX

STATE_MAX_CHARS = 250_000  # a state larger than any view Slack sends (250 kB) is not a form's: not kept
STATE_MAX_INPUTS = 200  # the brief modal has about 40 inputs
_FIELD_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")  # the form's block ids are its Draft field names
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME_MAX = 9_999_999_999  # Slack's datetimepicker initial_date_time range


def _member(enum: Any, value: Any) -> str | None:
    try:
        return str(enum(value).value) if isinstance(value, str) else None
    except ValueError:
        return None


def _plain_value(value: Any) -> bool:
    """A value some input of the form could hold: non-blank text within Slack's ceiling, a ticked
    box, a timestamp. Lists, objects, floats and the rest are no input's."""
    if isinstance(value, str):
        return bool(value.strip()) and len(value) <= TEXT_MAX
    if isinstance(value, bool):
        return value
    return isinstance(value, int) and 0 <= value <= _DATETIME_MAX


def kept_fields(fields: Any) -> dict[str, Any]:
    """The part of a draft worth storing (or reading back): field-like ids with plain values. Bounded:
    at most STATE_MAX_INPUTS fields of at most TEXT_MAX characters. Not yet trusted: the form decides."""
    if not isinstance(fields, dict):
        return {}
    kept = {k: v for k, v in fields.items() if isinstance(k, str) and _FIELD_ID.fullmatch(k) and _plain_value(v)}
    return dict(list(kept.items())[:STATE_MAX_INPUTS])


def fields_from_state(values: Any) -> dict[str, Any] | None:
    """`view.state.values` → the draft to keep ({} when nothing was typed; None when the state is
    larger than any real form's, which is not kept at all)."""
    if not isinstance(values, dict) or len(values) > STATE_MAX_INPUTS:
        return None
    try:
        size = len(json.dumps(values, ensure_ascii=False, default=str))
    except (TypeError, ValueError):
        return None
    if size > STATE_MAX_CHARS:
        return None
    return kept_fields(draft_from_state(values))


def _option_values(element: Block) -> set[str]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += list(group.get("options") or [])
    return {str(o["value"]) for o in options if isinstance(o, dict) and "value" in o}


def _fit(element: Block, value: Any) -> Any:
    """`value` as `element` can show it again, or None (dropped)."""
    kind = element.get("type")
    if kind == "plain_text_input":
        if not isinstance(value, str) or not value.strip():
            return None
        return value[: int(element.get("max_length") or TEXT_MAX)]
    if kind in ("static_select", "radio_buttons"):
        return value if isinstance(value, str) and value in _option_values(element) else None
    if kind == "checkboxes":
        return True if value is True else None
    if kind == "datepicker":
        if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
            return None
        try:
            date.fromisoformat(value)
        except ValueError:
            return None
        return value
    if kind == "datetimepicker":
        if isinstance(value, str) and value.isdigit() and len(value) <= 10:
            value = int(value)
        return value if type(value) is int and 0 <= value <= _DATETIME_MAX else None
    return None  # an element this module does not know how to restore: dropped


def fit_to(view: View, fields: dict[str, Any]) -> dict[str, Any]:
    """The values of `fields` that `view`'s inputs can show (block_id = action_id = field name)."""
    out: dict[str, Any] = {}
    for block in view.get("blocks") or []:
        element = block.get("element") if block.get("type") == "input" else None
        field = block.get("block_id")
        if not isinstance(element, dict) or element.get("action_id") != field or field not in fields:
            continue
        value = _fit(element, fields[field])
        if value is not None:
            out[field] = value
    return out


def restored_form(fields: Any, *, context: ModalContext, notice: str | None = None, **options: Any) -> tuple[View, dict[str, Any]]:
    """The brief modal with a draft's values restored, and the values restored.

    The form decides what is restored: it is rendered for the draft's destination and Engineering
    kind, the values its inputs can show are kept, and it is rendered again with them until no
    further input appears (a value may bring one: a severity, a ticked box). At most a few renders.
    `options`: brief_modal's other settings (as the listeners render the form, e.g. `post_now`)."""
    candidates = kept_fields(fields)
    destination = _member(Destination, candidates.get("destination"))
    eng_kind = _member(EngineeringKind, candidates.get("eng_kind")) if destination == Destination.ENGINEERING.value else None
    chosen = Destination(destination) if destination else None
    restored: dict[str, Any] = {}
    for _ in range(4):
        again = fit_to(brief_modal(destination=chosen, eng_kind=eng_kind, context=context, initial=restored, **options), candidates)
        if again == restored:
            break
        restored = again
    return brief_modal(destination=chosen, eng_kind=eng_kind, context=context, initial=restored, notice=notice, **options), restored


# --- words --------------------------------------------------------------------------------------


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except Exception:  # noqa: BLE001 - an unknown zone shows UTC
        return ZoneInfo("UTC")


def draft_time(saved_at: datetime, *, now: datetime, tz: str) -> str:
    """When a draft was saved, as the agent reads it: "14:02" today, "yesterday 14:02", "Thu 3 Dec 14:02"."""
    zone = _zone(tz)
    at, today = saved_at.astimezone(zone), now.astimezone(zone).date()
    clock = at.strftime("%H:%M")
    if at.date() == today:
        return clock
    if at.date() == today - timedelta(days=1):
        return f"yesterday {clock}"
    return f"{at.strftime('%a')} {at.day} {at.strftime('%b')} {clock}"


def _about(fields: dict[str, Any]) -> str:
    """The draft in a line: its summary and destination (values already checked by the form)."""
    summary = fields.get("summary")
    destination = _member(Destination, fields.get("destination"))
    about = f"*{escape(truncate(summary, 150))}*" if isinstance(summary, str) else "_no summary yet_"
    return f"{about} to {Destination(destination).label}" if destination else about


def continue_label(when: str) -> str:
    return truncate(f"Continue the draft from {when}", 75)


def draft_offer_view(*, fields: dict[str, Any], when: str, context: ModalContext) -> View:
    """The first view `/escalate` opens when the agent has a draft (`fields`: what the form restores):
    continue it, or start fresh. One click either way; the form then replaces this view in place
    (views.update needs no trigger id)."""
    filled = len(fields)
    blocks: Blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f":memo: You have a draft from *{escape(when)}*: {_about(fields)}."}},
        {
            "type": "actions",
            "block_id": ids.BLOCK_DRAFT_CHOICE,
            "elements": [
                {"type": "button", "action_id": ids.ACTION_DRAFT_CONTINUE, "text": plain(continue_label(when)), "value": "continue", "style": "primary"},
                {"type": "button", "action_id": ids.ACTION_DRAFT_FRESH, "text": plain("Start fresh"), "value": "fresh"},
            ],
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"{filled} field{'' if filled == 1 else 's'} filled in, each restored as you left it. *Start fresh* deletes the draft.",
                }
            ],
        },
    ]
    return {
        "type": "modal",
        "callback_id": ids.VIEW_DRAFT_OFFER,
        "title": plain(TITLE),
        "close": plain("Cancel"),
        "private_metadata": context.dump(),
        "blocks": blocks,
    }


def restored_notice(when: str) -> str:
    return f":memo: Your draft from {escape(when)}, every field as you left it. Closing the form keeps it as a draft again."


GONE_NOTICE = ":memo: That draft is no longer here (filed, started afresh or expired): this is a fresh form."


def home_draft_blocks(*, fields: dict[str, Any], when: str) -> Blocks:
    """The Home tab's mention of the viewer's own draft, with *Continue* (a new modal, restored)."""
    return [
        {
            "type": "section",
            "block_id": ids.BLOCK_HOME_DRAFT,
            "text": {"type": "mrkdwn", "text": f":memo: You have a draft from {escape(when)}: {_about(fields)}."},
            "accessory": {"type": "button", "action_id": ids.ACTION_DRAFT_CONTINUE, "text": plain("Continue"), "value": "continue", "style": "primary"},
        }
    ]

"""Reading Slack payloads defensively: who, which workspace, where. Missing keys give None, never a crash."""

from __future__ import annotations

import json
from typing import Any


def team_id(body: dict[str, Any]) -> str:
    team = body.get("team")
    if isinstance(team, dict) and team.get("id"):
        return str(team["id"])
    user = body.get("user")
    if isinstance(user, dict) and user.get("team_id"):
        return str(user["team_id"])
    return str(body.get("team_id") or "")


def user_id(body: dict[str, Any]) -> str:
    user = body.get("user")
    if isinstance(user, dict):
        return str(user.get("id") or "")
    return str(body.get("user_id") or "")


def channel_id(body: dict[str, Any]) -> str | None:
    channel = body.get("channel")
    if isinstance(channel, dict) and channel.get("id"):
        return str(channel["id"])
    return body.get("channel_id") or None


def action_id_value(body: dict[str, Any]) -> int | None:
    """The integer a button carries in its value (an escalation or follow-up id), or None."""
    value = action_value(body) or ""
    return int(value) if value.isdigit() else None


def action_value(body: dict[str, Any]) -> str | None:
    actions = body.get("actions")
    if isinstance(actions, list) and actions and isinstance(actions[0], dict):
        return actions[0].get("value")
    return None


def view_escalation_id(view: dict[str, Any]) -> int | None:
    """The escalation a modal is about (its private_metadata), or None."""
    try:
        return int(json.loads(view.get("private_metadata") or "{}")["escalation_id"])
    except (ValueError, KeyError, TypeError):
        return None


def view_text(view: dict[str, Any], block: str) -> str:
    """A text input's, select's or radio button's value ("" when empty; never a list)."""
    value = view_input(view, block)
    return value if isinstance(value, str) else ""


def view_input(view: dict[str, Any], block: str) -> str | list[str]:
    """What was entered in the input whose block_id and action_id are both `block`: a select's or
    radio button's chosen value, the checked boxes' values, or the stripped text ("" when empty)."""
    element = ((view.get("state") or {}).get("values") or {}).get(block, {}).get(block, {})
    kind = element.get("type")
    if kind in ("static_select", "radio_buttons"):
        return (element.get("selected_option") or {}).get("value") or ""
    if kind == "checkboxes":
        return [o.get("value") for o in element.get("selected_options") or []]
    return (element.get("value") or "").strip()

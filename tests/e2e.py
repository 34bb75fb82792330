"""Driving the bot the way Slack does: a slash command, the modal's round trips, the submission."""

from __future__ import annotations

import json
import time
from typing import Any

from bot.domain.brief import Destination
from tests.conftest import AGENT, TEAM, RunningBot
from tests.factories import draft


def state_for(view: dict, values: dict[str, Any]) -> dict:
    """Draft values → view.state.values shorthand for the inputs present in `view`."""
    present = {b["block_id"] for b in view["blocks"] if b.get("type") == "input"}
    out = {}
    for field, value in values.items():
        if field not in present or value is None:
            continue
        if field == "reference_account":
            value = ["yes"] if value else []
        out[field] = {field: value}
    return out


def current_view(bot: RunningBot, view_id: str) -> dict:
    view = bot.slack.view(view_id)
    assert view is not None, f"no view {view_id} at the stand-in"
    return view


def open_modal(bot: RunningBot, text: str = "", channel_id: str = "C0SUPPORT", user_id: str = AGENT) -> dict:
    before = len(bot.slack.calls("views.open"))
    response = bot.sender.command(command="/escalate", text=text, user_id=user_id, team_id=TEAM, channel_id=channel_id)
    assert response.status_code == 200, response.text
    call = bot.slack.wait_for("views.open", count=before + 1)[-1]
    assert call.ok, call.response
    return call.response["view"]


def choose(bot: RunningBot, view: dict, action_id: str, value: str, values: dict | None = None) -> dict:
    """Pick an option in a dispatching select; returns the re-rendered view."""
    before = len(bot.slack.calls("views.update"))
    state = {**(values or {}), action_id: {action_id: value}}
    response = bot.sender.action(action_id, value=value, view=view, values=state, user_id=AGENT, team_id=TEAM)
    assert response.status_code == 200, response.text
    call = bot.slack.wait_for("views.update", count=before + 1)[-1]
    assert call.ok, call.response
    return current_view(bot, view["id"])


def submit(bot: RunningBot, view: dict, values: dict[str, Any], user_id: str = AGENT):
    return bot.sender.submit_view(view, state_for(view, values), user_id=user_id, team_id=TEAM)


def escalate(bot: RunningBot, destination: Destination, **overrides: Any) -> tuple[dict, Any]:
    """The whole path: /escalate → pick destination → fill in → submit. Returns (view, response)."""
    values = draft(destination, now=bot.clock.now(), **overrides)
    view = open_modal(bot)
    view = choose(bot, view, "destination", destination.value)
    if destination is Destination.ENGINEERING and values.get("eng_kind"):
        view = choose(bot, view, "eng_kind", values["eng_kind"], {"destination": {"destination": destination.value}})
    response = submit(bot, view, values)
    return view, response


def wait_until(predicate, timeout: float = 10.0, what: str = "condition"):
    """Poll for background work the bot does after it has answered Slack."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def posts_to(bot: RunningBot, channel: str, ok: bool = True) -> list:
    return [c for c in bot.slack.calls("chat.postMessage") if c.args.get("channel") == channel and (c.ok or not ok)]


def response_json(response) -> dict:
    return json.loads(response.text) if response.text else {}

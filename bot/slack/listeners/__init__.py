"""Every listener, one module per feature (the same word as in bot.usecases and blocks).

Each module with a `register(app, services)` is registered here, in name order, without a list to
keep up to date: a new feature's listener module is picked up by being here. `fallback` (whatever
nobody else took still answers 2xx) is registered last by bot.slack.app.build_app. Every id a module
listens for comes from blocks.ids, so `grep ids.ACTION_X` finds its handler.

Each registration is recorded as (kind, id) on the way through; bot.slack.app refuses to start when
one has no entry in bot.usecases.permissions.ACCESS (who may use it), so no button ships unguarded.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.usecases.permissions import ACTION, COMMAND, EVENT, SHORTCUT, VIEW

LAST = "fallback"


def register_all(app: AsyncApp, services) -> set[tuple[str, str]]:
    """Register every feature's listeners; returns the (kind, id) of each registration."""
    recording = Recording(app)
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name == LAST:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:  # helpers of other listeners (search answers for commands) register nothing
            register(recording, services)
    return recording.registered


class Recording:
    """The app as listener modules see it: `app.action(...)` etc. note (kind, id), then register."""

    _KINDS = {"action": ACTION, "view": VIEW, "shortcut": SHORTCUT, "command": COMMAND, "event": EVENT}

    def __init__(self, app: AsyncApp) -> None:
        self._app = app
        self.registered: set[tuple[str, str]] = set()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._app, name)
        kind = self._KINDS.get(name)
        if kind is None:
            return attribute

        def registering(constraints, *args, **kwargs):
            self.registered.add((kind, _id(constraints)))
            return attribute(constraints, *args, **kwargs)

        return registering


def _id(constraints) -> str:
    if isinstance(constraints, re.Pattern):
        return constraints.pattern
    if isinstance(constraints, dict):  # {"type": …, "action_id"/"callback_id": …}
        return str(constraints.get("action_id") or constraints.get("callback_id") or constraints.get("type"))
    return str(constraints)

"""Every listener, one module per feature (the same word as in bot.usecases and blocks).

Each module with a `register(app, services)` is registered here, in name order, without a list to
keep up to date: a new feature's listener module is picked up by being here. `fallback` (whatever
nobody else took still answers 2xx) is registered last by bot.slack.app.build_app. Every id a module
listens for comes from blocks.ids, so `grep ids.ACTION_X` finds its handler.
"""

from __future__ import annotations

import importlib
import pkgutil

from slack_bolt.async_app import AsyncApp

LAST = "fallback"


def register_all(app: AsyncApp, services) -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name == LAST:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:  # helpers of other listeners (search answers for commands) register nothing
            register(app, services)

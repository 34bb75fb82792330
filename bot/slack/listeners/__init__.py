"""Every listener, registered in one place; each module's `register(app, services)` lists its ids."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.listeners import brief_actions, brief_modal, commands, follow_through, home, lifecycle, shortcuts, triage


def register_all(app: AsyncApp, services) -> None:
    commands.register(app, services)
    shortcuts.register(app, services)
    brief_modal.register(app, services)
    brief_actions.register(app, services)
    follow_through.register(app, services)
    lifecycle.register(app, services)
    triage.register(app, services)
    home.register(app, services)

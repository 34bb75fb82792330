"""Several workspaces: which bot token serves which workspace (the sync installation store).

Each install adds a row (bot.storage.installations); the newest row of a workspace holds its
current token. The outbound side reads it (`TeamTokens` in bot.slack_api.tokens); Bolt's OAuth
flow (bot.slack.oauth) saves and deletes through the same store, wrapped for asyncio. An uninstall
(or revoked bot token) pauses the workspace's reminders and deliveries in the same transaction, and
an install resumes them (bot.storage.workspaces): nothing is tried in between.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation

from bot.clock import Clock, SystemClock
from bot.storage import installations, workspaces
from bot.storage.db import Database

log = logging.getLogger(__name__)


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.timestamp() if isinstance(v, datetime) else v) for k, v in data.items()}


class InstallationStore:
    """Installations in `slack_installation`: the newest row of a workspace is its current install."""

    def __init__(self, db: Database, client_id: str, *, on_save: Callable[[str | None], None] | None = None, clock: Clock | None = None) -> None:
        self.db = db
        self.client_id = client_id
        self.on_save = on_save
        self.clock = clock or SystemClock()

    def save(self, installation: Installation) -> None:
        with self.db.session() as session:
            installations.add_installation(
                session,
                client_id=self.client_id,
                enterprise_id=installation.enterprise_id,
                team_id=installation.team_id,
                user_id=installation.user_id,
                bot_token=installation.bot_token,
                installed_at=datetime.now(UTC),
                data=_jsonable(installation.to_dict()),
            )
            if installation.team_id and workspaces.resume(session, installation.team_id):
                log.info("workspace %s reinstalled: its reminders and pending briefs resume", installation.team_id)
        log.info("installed in workspace %s", installation.team_id)
        if self.on_save is not None:
            self.on_save(installation.team_id)  # a re-install's new token replaces the cached one

    def find_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None, is_enterprise_install: bool | None = False
    ) -> Installation | None:
        if is_enterprise_install:
            team_id = None  # an org-wide install is keyed by the enterprise alone
        with self.db.session() as session:
            data = installations.latest_installation(session, client_id=self.client_id, enterprise_id=enterprise_id, team_id=team_id, user_id=user_id)
        return Installation(**data) if data is not None else None

    def find_bot(self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False) -> Bot | None:
        installation = self.find_installation(enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install)
        return installation.to_bot() if installation is not None and installation.bot_token else None

    def team_ids(self) -> list[str]:
        """Every workspace with an installation (the weekly digest goes to each)."""
        with self.db.session() as session:
            return installations.installed_team_ids(session, client_id=self.client_id)

    def delete_installations(self, *, enterprise_id: str | None, team_id: str | None, reason: str = "app_uninstalled") -> None:
        """app_uninstalled / tokens_revoked: forget the workspace's tokens, and pause its reminders and
        deliveries until it installs the app again (no token to probe with: the install resumes it)."""
        with self.db.session() as session:
            installations.delete_installations(session, client_id=self.client_id, enterprise_id=enterprise_id, team_id=team_id)
            if team_id:
                workspaces.pause(session, team_id, reason=reason, at=self.clock.now(), probe_at=None)
        log.warning("workspace %s %s: its reminders and pending briefs are paused until it installs the app again", team_id, reason)
        if self.on_save is not None:
            self.on_save(team_id)

"""Several workspaces: Bolt's OAuth install flow, backed by the bot's own database.

On when SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET are set (Settings.oauth).
`/slack/install` sends the admin to Slack's consent page with a one-time state; Slack returns to
`/slack/oauth_redirect` with a code, which Bolt exchanges (oauth.v2.access) for the workspace's bot
token, stored in `slack_installation`. Bolt then authorizes each request with its workspace's
installation, and the sync services pick the same token through `TeamTokens` (bot.slack_api.tokens).

The stores are sync (SQLAlchemy on the bot's engine) and reach Bolt through thin async wrappers
that run them in a thread, like every other database call here. States are signed with
SLACK_STATE_SECRET, so a forged or truncated state is refused before the database is asked.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import uuid
from datetime import UTC, datetime, timedelta

from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings
from bot.slack_api.installations import InstallationStore
from bot.storage import installations
from bot.storage.db import Database

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_LIFETIME = timedelta(minutes=10)
# The manifest's bot scopes (app_manifest.yml; a test keeps the two equal): what each workspace grants.
BOT_SCOPES = [
    "commands",
    "chat:write",
    "channels:read",
    "groups:read",
    "users:read",
    "reactions:read",
    "channels:history",
    "groups:history",
    "usergroups:read",
    "files:write",
    "im:write",
    "im:history",
]


class AsyncStore(AsyncInstallationStore):
    """Bolt's async interface over InstallationStore, each call in a worker thread."""

    def __init__(self, store: InstallationStore) -> None:
        self.store = store

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        await asyncio.to_thread(self.store.save, installation)

    async def async_save_bot(self, bot: Bot) -> None:  # saved with its installation
        return None

    async def async_find_bot(self, *, enterprise_id, team_id, is_enterprise_install=False) -> Bot | None:
        return await asyncio.to_thread(self.store.find_bot, enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install)

    async def async_find_installation(self, *, enterprise_id, team_id, user_id=None, is_enterprise_install=False) -> Installation | None:
        return await asyncio.to_thread(
            self.store.find_installation, enterprise_id=enterprise_id, team_id=team_id, user_id=user_id, is_enterprise_install=is_enterprise_install
        )

    async def async_delete_bot(self, *, enterprise_id, team_id) -> None:  # tokens_revoked (bot), and first step of app_uninstalled
        await asyncio.to_thread(self.store.delete_installations, enterprise_id=enterprise_id, team_id=team_id, reason="tokens_revoked")

    async def async_delete_installation(self, *, enterprise_id, team_id, user_id=None) -> None:
        if user_id is not None:  # tokens_revoked for a person's token: the app holds none (bot scopes only); its bot token still works
            return
        await asyncio.to_thread(self.store.delete_installations, enterprise_id=enterprise_id, team_id=team_id, reason="app_uninstalled")


class StateStore(AsyncOAuthStateStore):
    """One-time states in `slack_oauth_state`, signed with SLACK_STATE_SECRET, valid ten minutes."""

    def __init__(self, db: Database, secret: str) -> None:
        self.db = db
        self.secret = secret.encode()

    @property
    def logger(self) -> logging.Logger:
        return log

    def _sign(self, nonce: str) -> str:
        return hmac.new(self.secret, nonce.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self) -> str:
        nonce = uuid.uuid4().hex
        with self.db.session() as session:
            installations.add_oauth_state(session, nonce, expire_at=datetime.now(UTC) + STATE_LIFETIME)
        return f"{nonce}.{self._sign(nonce)}"

    def consume(self, state: str) -> bool:
        nonce, _, signature = (state or "").partition(".")
        if not nonce or not hmac.compare_digest(signature, self._sign(nonce)):
            log.warning("refused an OAuth state with a bad signature")
            return False
        with self.db.session() as session:
            return installations.consume_oauth_state(session, nonce, now=datetime.now(UTC))  # one use only

    async def async_issue(self, *args, **kwargs) -> str:
        return await asyncio.to_thread(self.issue)

    async def async_consume(self, state: str) -> bool:
        return await asyncio.to_thread(self.consume, state)


def oauth_flow(settings: Settings, store: InstallationStore, db: Database, client: AsyncWebClient) -> AsyncOAuthFlow:
    """Bolt's flow with our stores; `client` (the app's, so SLACK_API_URL applies) calls oauth.v2.access."""
    return AsyncOAuthFlow(
        client=client,
        settings=AsyncOAuthSettings(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret,
            scopes=BOT_SCOPES,
            install_path=INSTALL_PATH,
            redirect_uri_path=REDIRECT_PATH,
            install_page_rendering_enabled=False,  # straight to Slack's consent page
            installation_store=AsyncStore(store),
            state_store=StateStore(db, settings.slack_state_secret or ""),  # set: Settings.oauth needs all three
        ),
    )

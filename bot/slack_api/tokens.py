"""Which workspace's token a Web API call uses, when the app is installed in several.

The services call one `SlackGateway`. In OAuth mode it is a `TeamGateway`, which sends each call
with the bot token of the workspace being served: `current_team`, a context variable set by a
Bolt middleware for each request (and copied by asyncio into spawned tasks and `to_thread` work)
and by the scheduler for each brief it nudges. Clients are cached per workspace; a re-install
(or uninstall) in this process drops the entry, and entries expire so other replicas pick up a
new token within TOKEN_TTL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from bot.slack_api.gateway import ChannelPacer, SlackCallFailed, SlackGateway, make_web_client
from bot.slack_api.web_client import SlackWebClient
from bot.slack_api.workspace import current_team

TOKEN_TTL = 300.0  # seconds


class TeamTokens:
    """Team id → SlackWebClient with that workspace's bot token, from the installation store."""

    def __init__(self, find_token: Callable[[str], str | None], base_url: str, *, ttl: float = TOKEN_TTL) -> None:
        self.find_token = find_token
        self.base_url = base_url
        self.ttl = ttl
        self._clients: dict[str, tuple[float, SlackWebClient]] = {}
        self._lock = threading.Lock()

    def client(self, team_id: str) -> SlackWebClient | None:
        with self._lock:
            cached = self._clients.get(team_id)
        if cached is not None and time.monotonic() - cached[0] < self.ttl:
            return cached[1]
        token = self.find_token(team_id)
        if token is None:
            return None
        client = make_web_client(token, self.base_url)
        with self._lock:
            self._clients[team_id] = (time.monotonic(), client)
        return client

    def forget(self, team_id: str | None) -> None:
        with self._lock:
            self._clients.pop(team_id or "", None)

    def renewed(self, team_id: str) -> bool:
        """Drop the workspace's cached client; True when the store now holds another token for it."""
        with self._lock:
            cached = self._clients.pop(team_id, None)
        if cached is None:
            return False
        token = self.find_token(team_id)
        return token is not None and token != cached[1].token


class TeamGateway(SlackGateway):
    """A SlackGateway whose client is the current workspace's."""

    def __init__(self, tokens: TeamTokens, *, pacer: ChannelPacer | None = None) -> None:  # no super().__init__: `client` is looked up per call
        self.tokens = tokens
        self._setup(pacer)

    @property
    def client(self) -> SlackWebClient:  # type: ignore[override]
        team_id = current_team.get()
        if team_id is None:
            raise SlackCallFailed("(any)", "no_workspace")  # a programming error: every entry point sets the team
        client = self.tokens.client(team_id)
        if client is None:
            raise SlackCallFailed("(any)", "not_installed")
        return client

    def token_renewed(self, team_id: str) -> bool:
        return self.tokens.renewed(team_id)

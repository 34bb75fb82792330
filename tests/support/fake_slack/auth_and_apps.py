"""api.test, auth.test, oauth.v2.access (with add_oauth_grant) and apps.connections.open."""

from __future__ import annotations

import base64
from typing import Any

from .records import DEFAULT_SCOPES, Call, _ApiError


class AuthAndAppsAPI:
    """Mixin for FakeSlack: handlers called by FakeSlackCore's dispatcher with self._lock held."""

    def _api_test(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        return {"ok": True, "args": args}

    def _auth_test(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": self.bot_user_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def add_oauth_grant(
        self,
        code: str,
        *,
        team_id: str,
        bot_token: str,
        team_name: str = "Second",
        user_id: str = "U0ADMIN",
        client_id: str = "111.222",
        client_secret: str = "oauth-client-secret",
        scope: str = DEFAULT_SCOPES,
    ) -> None:
        """What oauth.v2.access answers for `code` (the code Slack puts in the redirect after consent)."""
        grants = self.__dict__.setdefault("oauth_grants", {})
        grants[code] = {
            "team_id": team_id,
            "bot_token": bot_token,
            "team_name": team_name,
            "user_id": user_id,
            "client_id": client_id,
            "client_secret": client_secret,
            "scope": scope,
        }

    def revoke_token(self, token: str, *, revoked: bool = True) -> None:
        """From now on every call with `token` answers token_revoked (as after an uninstall); revoked=False restores it."""
        tokens = self.__dict__.setdefault("revoked_tokens", set())
        if revoked:
            tokens.add(token)
        else:
            tokens.discard(token)

    def _oauth_v2_access(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        # The client may authenticate with HTTP Basic (slack_sdk's default) or form fields.
        client_id, client_secret = args.get("client_id"), args.get("client_secret")
        basic = call.header("Authorization") or ""
        if basic.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(basic[6:]).decode().partition(":")
        grant = getattr(self, "oauth_grants", {}).get(args.get("code"))
        if grant is None:
            raise _ApiError("invalid_code")
        if (client_id, client_secret) != (grant["client_id"], grant["client_secret"]):
            raise _ApiError("invalid_client_id" if client_id != grant["client_id"] else "bad_client_secret")
        return {
            "ok": True,
            "app_id": self.app_id,
            "authed_user": {"id": grant["user_id"]},
            "scope": grant["scope"],
            "token_type": "bot",
            "access_token": grant["bot_token"],
            "bot_user_id": self.bot_user_id,
            "team": {"id": grant["team_id"], "name": grant["team_name"]},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        # Tests running a Socket Mode server of their own set `socket_mode_url` to its ws:// address.
        base = getattr(self, "socket_mode_url", None) or "wss://127.0.0.1:1/link/"
        return {"ok": True, "url": f"{base}?ticket={self._next_id('t')}&app_id={self.app_id}"}

"""Start-up: open (and migrate) the database, check the tokens, tune the process before serving.

One place turns a start-up failure into one line for the admin (SettingsError, StartupError),
shared by the command line, the server and the brief workers.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from bot.settings import Settings, SettingsError
from bot.storage.db import Database, DatabaseUnavailable, open_migrated


def open_database(settings: Settings) -> Database:
    """The database at the latest schema; an admin's one-line sentence (SettingsError) if it cannot be opened.
    Migrations run once here, before serving, never in each worker (several would race on them)."""
    try:
        return open_migrated(settings.database_url)
    except DatabaseUnavailable as exc:
        raise SettingsError(f"DATABASE_URL: cannot open the database ({exc}): check the URL, that the server runs and the user may connect.") from None


class StartupError(Exception):
    """Slack could not be reached or refused a token at start: one line for the admin."""


_TOKEN_FIXES = {
    "invalid_auth": "is wrong or revoked: copy it again from your app's settings",
    "not_authed": "is empty",
    "token_revoked": "was revoked: reinstall the app and copy the new token",
    "account_inactive": "belongs to an uninstalled app or a deactivated workspace: reinstall the app",
    "not_allowed_token_type": "is the wrong kind of token",
}


def preflight(settings: Settings, *, socket_mode: bool) -> None:
    """Check the tokens before serving, so a typo is one clear line rather than a stack trace later."""
    from bot.slack_api.gateway import SlackCallFailed, SlackGateway, make_web_client

    checks: list[tuple[str, Callable[[], object]]] = []
    bot_token, app_token = settings.slack_bot_token, settings.slack_app_token
    if bot_token:  # OAuth mode has no token of its own: each workspace's comes at install
        checks.append(("SLACK_BOT_TOKEN", lambda: SlackGateway(make_web_client(bot_token, settings.slack_api_url)).auth_test()))
    if socket_mode:
        app_client = make_web_client(None, settings.slack_api_url)  # apps.connections.open sends the app token itself
        checks.append(("SLACK_APP_TOKEN", lambda: SlackGateway(app_client).open_socket_connection(app_token or "")))
    for name, call in checks:
        try:
            call()
        except SlackCallFailed as exc:
            if exc.error == "connection_error":
                raise StartupError(f"cannot reach Slack at {settings.slack_api_url}: check the network (or SLACK_API_URL), then start again.") from None
            fix = _TOKEN_FIXES.get(exc.error, f"was refused by Slack ({exc.error})")
            raise SettingsError(f"{name} {fix}.") from None


def freeze_startup_objects() -> None:
    """Leave what start-up built (modules, mappers, schemas: ~100k objects) out of garbage
    collection. A full collection stops every thread, acks included; over the whole heap it took
    ~100 ms here (six per 1,000 briefs), over what is allocated after start-up ~20 ms
    (benchmarks/results.md). Called once per serving process, never in tests: frozen cycles stay."""
    import gc

    gc.collect()  # start-up garbage goes now rather than being frozen
    gc.freeze()


def cap_malloc_arenas(arenas: int = 2) -> None:
    """glibc gives each thread that allocates its own malloc arena (up to 8 per core), and the
    database work runs on a pool of threads: memory freed in one arena is not reused by another.
    Two arenas kept resident size 134 MB instead of 151 MB after 3,000 briefs (benchmarks/footprint.py)
    for the same throughput. Same as MALLOC_ARENA_MAX=2, which wins when set."""
    import ctypes
    import ctypes.util
    import os

    if os.environ.get("MALLOC_ARENA_MAX") or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-8, arenas)  # M_ARENA_MAX; a no-op where malloc is not glibc's
    except (OSError, AttributeError):
        pass

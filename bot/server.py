"""Serving Slack: HTTP (uvicorn + Starlette, `POST /slack/events`, `GET /healthz`) or Socket Mode.

Migrations run once before serving, not in each worker, so several workers never race on them.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.followthrough.scheduler import start_scheduler
from bot.settings import Settings, SettingsError, load_settings
from bot.slack.app import Services, build_app, build_services, web_api_session
from bot.slack.requests import SlackRequestHandler

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
KEEP_ALIVE_SECONDS = 75


def create_asgi_app(settings: Settings, *, services: Services | None = None, run_scheduler: bool = True, brief_processes: int = 0) -> Starlette:
    """`brief_processes`: worker processes that store and post briefs (bot.brief_worker); 0 keeps
    that work on this process's threads (tests, whose services hold a test clock, use 0)."""
    services = services or build_services(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette):
        session = web_api_session()
        app.state.slack = SlackRequestHandler(build_app(services, session=session))
        if brief_processes:
            from bot.brief_worker import BriefWorkers

            services.brief_workers = BriefWorkers(settings, brief_processes)
            services.brief_workers.start()
        scheduler = start_scheduler(services.ticker, every_seconds=settings.scheduler_tick, digest=services.digest) if run_scheduler else None
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=True)  # let a tick in progress finish its sends
            if services.brief_workers is not None:
                await asyncio.to_thread(services.brief_workers.stop)
            await services.drain()
            await session.close()

    async def slack_events(request: Request) -> Response:
        return await request.app.state.slack.handle(request)

    async def healthz(_request: Request) -> Response:
        ok = await asyncio.to_thread(services.db.ping)
        return JSONResponse({"status": "ok" if ok else "database unavailable"}, status_code=200 if ok else 503)

    routes = [Route(EVENTS_PATH, slack_events, methods=["POST"]), Route("/healthz", healthz, methods=["GET"])]
    if settings.oauth:  # several workspaces: Bolt's install page and OAuth redirect (bot.slack.oauth)
        from bot.slack.oauth import INSTALL_PATH, REDIRECT_PATH

        routes += [Route(INSTALL_PATH, slack_events, methods=["GET"]), Route(REDIRECT_PATH, slack_events, methods=["GET"])]
    return Starlette(routes=routes, lifespan=lifespan)


def asgi_app_from_env() -> Starlette:
    """Factory for uvicorn workers (`--workers N` imports the app in each process)."""
    try:
        settings = load_settings()
        app = create_asgi_app(settings, brief_processes=settings.brief_processes)
        freeze_startup_objects()
        return app
    except SettingsError as exc:  # pragma: no cover - the parent already validated the same settings
        raise SystemExit(f"escalation-bot: {exc}") from None


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
    from slack_sdk import WebClient

    from bot.slack.gateway import SlackCallFailed, SlackGateway, make_web_client

    checks = []
    if settings.slack_bot_token:  # OAuth mode has no token of its own: each workspace's comes at install
        checks.append(("SLACK_BOT_TOKEN", lambda: SlackGateway(make_web_client(settings.slack_bot_token, settings.slack_api_url)).auth_test()))
    if socket_mode:
        app_client = WebClient(base_url=settings.slack_api_url, timeout=10)
        checks.append(("SLACK_APP_TOKEN", lambda: SlackGateway(app_client).open_socket_connection(settings.slack_app_token)))
    for name, call in checks:
        try:
            call()
        except SlackCallFailed as exc:
            if exc.error == "connection_error":
                raise StartupError(f"cannot reach Slack at {settings.slack_api_url}: check the network (or SLACK_API_URL), then start again.") from None
            fix = _TOKEN_FIXES.get(exc.error, f"was refused by Slack ({exc.error})")
            raise SettingsError(f"{name} {fix}.") from None


def _migrate(services: Services) -> None:
    from bot.cli import _database  # one place turns database errors into an admin's sentence

    _database(services.settings)


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


def serve_http(settings: Settings, *, host: str, port: int, workers: int = 1) -> int:
    import uvicorn

    cap_malloc_arenas()  # before the worker threads start
    services = build_services(settings)
    _migrate(services)
    try:
        preflight(settings, socket_mode=False)
    except StartupError as exc:  # HTTP mode only answers Slack: start anyway, Slack may come back
        log.warning("%s", exc)
    if workers > 1 and settings.database_url.startswith("sqlite"):
        log.warning("SQLite is for one process; use PostgreSQL for --workers > 1")
    log.info("serving Slack at http://%s:%s%s", host, port, EVENTS_PATH)
    if settings.oauth:
        log.info("several workspaces: install at http://%s:%s/slack/install", host, port)
    # Keep idle connections longer than a load balancer does (AWS ALB: 60 s), or it may reuse one
    # just as uvicorn (default 5 s) closes it: a 502 for that request. 75 s, as the benchmarked stack.
    common = dict(host=host, port=port, log_level=settings.log_level.lower(), proxy_headers=True, timeout_graceful_shutdown=15,
                  timeout_keep_alive=KEEP_ALIVE_SECONDS)
    if workers > 1:
        uvicorn.run("bot.server:asgi_app_from_env", factory=True, workers=workers, **common)
    else:
        app = create_asgi_app(settings, services=services, brief_processes=settings.brief_processes)
        freeze_startup_objects()
        uvicorn.run(app, **common)
    return 0


def serve_socket_mode(settings: Settings) -> int:
    cap_malloc_arenas()
    services = build_services(settings)
    _migrate(services)
    try:
        preflight(settings, socket_mode=True)
    except StartupError as exc:
        print(f"escalation-bot: {exc}", file=sys.stderr)
        return 1
    freeze_startup_objects()
    asyncio.run(_socket_mode(services))
    return 0


async def _socket_mode(services: Services) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
    from slack_sdk.web.async_client import AsyncWebClient

    settings = services.settings
    async with web_api_session() as session:
        app = build_app(services, session=session, request_verification=False)
        handler = AsyncSocketModeHandler(
            app,
            app_token=settings.slack_app_token,
            web_client=AsyncWebClient(token=settings.slack_app_token, base_url=settings.slack_api_url, session=session),
        )
        log.info("connecting to Slack with Socket Mode")
        scheduler = start_scheduler(services.ticker, every_seconds=settings.scheduler_tick, digest=services.digest)
        try:
            await handler.start_async()
        finally:
            scheduler.shutdown(wait=True)
            await services.drain()

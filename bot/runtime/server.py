"""Serving Slack: HTTP (uvicorn + Starlette, `POST /slack/events`, `GET /healthz`) or Socket Mode.

Migrations run once before serving, not in each worker, so several workers never race on them.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.runtime.scheduler import start_scheduler
from bot.runtime.startup import StartupError, cap_malloc_arenas, freeze_startup_objects, open_database, preflight
from bot.services import Services, build_services
from bot.settings import Settings, SettingsError, load_settings
from bot.slack.app import build_app, web_api_session
from bot.slack.requests import SlackRequestHandler
from bot.usecases.escalate import file_unfiled

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
KEEP_ALIVE_SECONDS = 75


def create_asgi_app(settings: Settings, *, services: Services | None = None, run_scheduler: bool = True, brief_processes: int = 0) -> Starlette:
    """`brief_processes`: worker processes that store and post briefs (bot.runtime.brief_worker); 0 keeps
    that work on this process's threads (tests, whose services hold a test clock, use 0)."""
    services = services or build_services(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette):
        session = web_api_session()
        app.state.slack = SlackRequestHandler(build_app(services, session=session), signing_secret=settings.slack_signing_secret or "")
        if brief_processes:
            from bot.runtime.brief_worker import BriefWorkers

            services.brief_workers = BriefWorkers(settings, brief_processes)
            services.brief_workers.start()
        scheduler = (
            start_scheduler(services.ticker, every_seconds=settings.scheduler_tick, digest=services.digest, embed_backlog=services.patterns.embed_backlog)
            if run_scheduler
            else None
        )
        if run_scheduler:  # what a crash left between an ack and its brief: filed now, not at the first tick
            services.spawn(services.run_sync(file_unfiled, services.escalations, grace=timedelta(0)), what="file unfiled submissions")
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


def serve_http(settings: Settings, *, host: str, port: int, workers: int = 1) -> int:
    import uvicorn

    cap_malloc_arenas()  # before the worker threads start
    services = build_services(settings)
    open_database(settings)
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
    common: dict[str, Any] = dict(
        host=host, port=port, log_level=settings.log_level.lower(), proxy_headers=True, timeout_graceful_shutdown=15, timeout_keep_alive=KEEP_ALIVE_SECONDS
    )
    if workers > 1:
        uvicorn.run("bot.runtime.server:asgi_app_from_env", factory=True, workers=workers, **common)
    else:
        app = create_asgi_app(settings, services=services, brief_processes=settings.brief_processes)
        freeze_startup_objects()
        uvicorn.run(app, **common)
    return 0


def serve_socket_mode(settings: Settings) -> int:
    cap_malloc_arenas()
    services = build_services(settings)
    open_database(settings)
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
        scheduler = start_scheduler(
            services.ticker, every_seconds=settings.scheduler_tick, digest=services.digest, embed_backlog=services.patterns.embed_backlog
        )
        services.spawn(services.run_sync(file_unfiled, services.escalations, grace=timedelta(0)), what="file unfiled submissions")
        try:
            await handler.start_async()
        finally:
            scheduler.shutdown(wait=True)
            await services.drain()

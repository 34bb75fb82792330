"""Building the Bolt app: its services, its error handler, and background work after ack.

Serving stack (chosen by benchmarks/serving_stacks.py on 2 cores, 50 concurrent senders):
`AsyncApp` on uvicorn with one shared aiohttp session. Bolt's sync App inside an async server
serialised requests (p99 ack 1,140 ms); the best sync stack (gunicorn gthread) reached 117 ms; the
AsyncApp 67–84 ms. Bolt's async runner polls for ack() every 10 ms, so listeners here run with
`process_before_response=True`: they ack, hand the slow part to `Services.spawn`, and return, which
answers Slack at once (p99 57 ms in the same run).
"""

from __future__ import annotations

import logging

import aiohttp
import orjson
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from blocks.notices import apology
from bot.logs import error_reference
from bot.services import Services
from bot.slack.authorization import cached_single_team_authorize

log = logging.getLogger(__name__)


def _json_body(obj) -> str:
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()


def web_api_session() -> aiohttp.ClientSession:
    """The one aiohttp session a process's async Web API calls share (a session per call doubled
    p99 latency in the serving benchmark). JSON bodies are written by orjson: views.open's brief
    modal (14 KB) took 0.3 ms with json.dumps, 15 % of the event loop's time per /escalate."""
    return aiohttp.ClientSession(json_serialize=_json_body)


def build_app(services: Services, *, session: aiohttp.ClientSession | None = None, request_verification: bool = True) -> AsyncApp:
    """The Bolt app with every listener registered. Call inside a running event loop (aiohttp)."""
    settings = services.settings
    client = AsyncWebClient(
        base_url=settings.slack_api_url,
        session=session,
        timeout=10,
        # No rate-limit handler: it would wait out Retry-After in the listener's task, and what a
        # listener does is answered within seconds or not at all (a trigger id lives 3 s). A 429
        # fails the call: the person gets the apology, or the form's own "try again" (issue 17).
        retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=2)],
    )
    if settings.oauth:  # several workspaces: Bolt authorizes each request from its installation
        from bot.slack.oauth import oauth_flow

        assert services.installations is not None  # built with the OAuth settings (bot.services)
        auth: dict = {"oauth_flow": oauth_flow(settings, services.installations, services.db, client)}
    else:
        auth = {"authorize": cached_single_team_authorize(settings.slack_bot_token or "")}  # set: require_for_mode checked it
    app = AsyncApp(
        client=client,
        **auth,
        signing_secret=settings.slack_signing_secret or "socket-mode-does-not-sign",
        process_before_response=True,
        request_verification_enabled=request_verification,
    )
    if settings.oauth:
        from bot.slack_api.workspace import current_team

        @app.middleware
        async def serve_the_requests_workspace(context, next_) -> None:
            # The sync services' Slack calls (threads, spawned tasks: they copy this context) use
            # the token of the workspace this request came from.
            current_team.set(context.team_id)
            await next_()

    @app.error
    async def on_error(error: Exception, body: dict, respond=None) -> None:
        ref = error_reference()
        log.error("listener failed [%s] for %s", ref, _describe(body), exc_info=error)
        if respond is not None and isinstance(body, dict) and body.get("response_url"):
            try:
                await respond(text=apology(ref), response_type="ephemeral", replace_original=False)
            except Exception:  # noqa: BLE001
                log.warning("could not send the apology for %s", ref, exc_info=True)

    from bot.slack.dedupe import EventDedupe
    from bot.slack.listeners import register_all
    from bot.slack.typed_text import StorableText
    from bot.usecases.permissions import ACCESS

    app.middleware(StorableText())  # typed text every database can store, before any listener reads it
    app.middleware(EventDedupe(services))  # a retried or replayed event has one effect

    unguarded = register_all(app, services) - ACCESS.keys()
    if unguarded:  # a new button, modal or event must say who may use it before it can ship
        raise RuntimeError(f"listeners with no entry in bot.usecases.permissions.ACCESS: {sorted(unguarded)}")
    if settings.oauth:  # an uninstall or revoked token forgets that workspace's installation (Bolt's listeners, our store)
        app.enable_token_revocation_listeners()
    # Know who is in each destination channel before anyone clicks (permission checks read the cache).
    services.spawn(services.run_sync(services.members.warm, settings.channels.values()), what="channel members")
    from bot.slack.listeners import fallback

    fallback.register(app)  # last: everything unhandled still answers 2xx
    return app


def _describe(body: dict) -> str:
    if not isinstance(body, dict):
        return "a request"
    return str(body.get("type") or body.get("command") or (body.get("event") or {}).get("type") or "a request")

"""Building the Bolt app: its services, its error handler, and background work after ack.

Serving stack (chosen by benchmarks/serving_stacks.py on 2 cores, 50 concurrent senders):
`AsyncApp` on uvicorn with one shared aiohttp session. Bolt's sync App inside an async server
serialised requests (p99 ack 1,140 ms); the best sync stack (gunicorn gthread) reached 117 ms; the
AsyncApp 67–84 ms. Bolt's async runner polls for ack() every 10 ms, so listeners here run with
`process_before_response=True`: they ack, hand the slow part to `Services.spawn`, and return, which
answers Slack at once (p99 57 ms in the same run).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
import orjson
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler, AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from blocks.notices import apology
from bot.clock import Clock, SystemClock
from bot.escalations import Escalations
from bot.followthrough.lifecycle import Lifecycle
from bot.followthrough.permissions import ChannelMembers, Guard
from bot.followthrough.service import FollowThrough
from bot.followthrough.tick import Ticker, worker_id
from bot.digest import Digest
from bot.insight import Insight
from bot.knowledge import Knowledge
from bot.tiers import Tiers
from bot.ticketing.service import Ticketing
from bot.settings import Settings
from bot.slack.authorization import cached_single_team_authorize
from bot.slack.gateway import ChannelPacer, SlackGateway, make_web_client
from bot.storage.db import Database

log = logging.getLogger(__name__)


def error_reference() -> str:
    """A short code a person can quote to an admin, and that the log line carries."""
    return "ERR-" + secrets.token_hex(4).upper()


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock
    escalations: Escalations
    follow_through: FollowThrough
    ticker: Ticker
    tiers: Tiers
    knowledge: Knowledge
    lifecycle: Lifecycle
    members: ChannelMembers  # destination channels' members: who may act on a brief
    insight: Insight | None = None  # App Home, /escalate list and stats
    digest: Digest | None = None  # the weekly digest to the leadership channel
    ticketing: Ticketing | None = None
    installations: object | None = None  # bot.slack.oauth.InstallationStore when installed in several workspaces
    brief_workers: object | None = None  # bot.brief_worker.BriefWorkers while serving HTTP with ESCALATION_BRIEF_PROCESSES > 0
    _tasks: set[asyncio.Task] = field(default_factory=set)

    async def run_sync(self, fn: Callable, *args, **kwargs):
        """Database and sync Slack work off the event loop, so acks never wait behind it."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    def spawn(self, coro: Awaitable, *, what: str, notify: Callable[[str], Awaitable] | None = None) -> asyncio.Task:
        """Run work after ack. Failures are logged with a reference and, if possible, told to the person."""

        async def guarded() -> None:
            try:
                await coro
            except Exception:  # noqa: BLE001 - the last line of defence for work nobody awaits
                ref = error_reference()
                log.exception("%s failed [%s]", what, ref)
                if notify is not None:
                    try:
                        await notify(apology(ref))
                    except Exception:  # noqa: BLE001
                        log.warning("could not tell the user about %s", ref, exc_info=True)

        task = asyncio.ensure_future(guarded())
        self._tasks.add(task)  # keep a reference: the loop holds tasks weakly
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self, timeout: float = 10.0) -> None:
        """Let in-flight work finish on shutdown (a brief being stored or posted)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)
        # A members refresh still reading from Slack must not outlive the process's connections.
        await asyncio.to_thread(self.members.wait_for_refreshes, timeout)


def _json_body(obj) -> str:
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()


def web_api_session() -> aiohttp.ClientSession:
    """The one aiohttp session a process's async Web API calls share (a session per call doubled
    p99 latency in the serving benchmark). JSON bodies are written by orjson: views.open's brief
    modal (14 KB) took 0.3 ms with json.dumps, 15 % of the event loop's time per /escalate."""
    return aiohttp.ClientSession(json_serialize=_json_body)


def build_services(settings: Settings, *, clock: Clock | None = None, db: Database | None = None) -> Services:
    db = db or Database(settings.database_url)
    clock = clock or SystemClock()
    installations, gateway = _workspaces(settings, db)
    cadences = settings.cadences
    knowledge = Knowledge(db, clock)
    owner = worker_id()
    ticketing = Ticketing.from_settings(settings, db, clock, owner=owner)
    ticketing = ticketing if (ticketing.sinks or ticketing.templates) else None
    db.outbox_sinks = ticketing.sinks if ticketing else frozenset()  # log entries → outbox rows, same transaction
    escalations = Escalations(db, gateway, clock, settings.channels, cadences, enforce_tiers=settings.enforce_tiers, knowledge=knowledge, ticketing=ticketing)
    members = ChannelMembers(gateway)
    follow_through = FollowThrough(db, gateway, clock, escalations, cadences, guard=Guard(db, clock, members, settings.admins))
    return Services(
        settings=settings,
        db=db,
        clock=clock,
        escalations=escalations,
        follow_through=follow_through,
        ticker=Ticker(db, gateway, clock, escalations, cadences, owner=owner, ticketing=ticketing),
        tiers=Tiers(gateway, settings.l2_usergroup),
        knowledge=knowledge,
        lifecycle=Lifecycle(follow_through),
        members=members,
        insight=Insight(db, gateway, clock, list(settings.channels.values()), members),
        digest=Digest(db, gateway, clock, channel_id=settings.channel_leadership, tz=settings.digest_tz, enabled=settings.digest_enabled,
                      installed_teams=installations.team_ids if installations is not None else None),
        ticketing=ticketing,
        installations=installations,
    )


def _workspaces(settings: Settings, db: Database) -> tuple[object | None, SlackGateway]:
    """One bot token (the default), or OAuth: an installation store and a token per workspace."""
    pacer = ChannelPacer(settings.post_interval)
    if not settings.oauth:
        return None, SlackGateway(make_web_client(settings.slack_bot_token, settings.slack_api_url), pacer=pacer)
    from bot.slack.oauth import InstallationStore
    from bot.slack.teams import TeamGateway, TeamTokens

    def find_token(team_id: str) -> str | None:
        bot = store.find_bot(enterprise_id=None, team_id=team_id)
        return bot.bot_token if bot is not None else None

    tokens = TeamTokens(find_token, settings.slack_api_url)
    store = InstallationStore(db, settings.slack_client_id, on_save=tokens.forget)
    return store, TeamGateway(tokens, pacer=pacer)


def build_app(services: Services, *, session: aiohttp.ClientSession | None = None, request_verification: bool = True) -> AsyncApp:
    """The Bolt app with every listener registered. Call inside a running event loop (aiohttp)."""
    settings = services.settings
    client = AsyncWebClient(
        base_url=settings.slack_api_url,
        session=session,
        timeout=10,
        retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=2), AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    if settings.oauth:  # several workspaces: Bolt authorizes each request from its installation
        from bot.slack.oauth import oauth_flow

        auth: dict = {"oauth_flow": oauth_flow(settings, services.installations, services.db, client)}
    else:
        auth = {"authorize": cached_single_team_authorize(settings.slack_bot_token)}
    app = AsyncApp(
        client=client,
        **auth,
        signing_secret=settings.slack_signing_secret or "socket-mode-does-not-sign",
        process_before_response=True,
        request_verification_enabled=request_verification,
    )
    if settings.oauth:
        from bot.slack.teams import current_team

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

    app.middleware(EventDedupe(services))  # a retried or replayed event has one effect

    register_all(app, services)
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

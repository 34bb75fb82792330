"""The one composition root: `Services` holds what every entry point (listeners, the scheduler,
brief workers, the command line) works with, and `build_services` wires it from the settings.

Nothing else in the bot constructs use cases, gateways or caches; tests build the same object with a frozen
clock and their own database (`build_services(settings, clock=..., db=...)`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from blocks.notices import apology
from bot.clock import Clock, SystemClock
from bot.embeddings import Embedder
from bot.embeddings.factory import build_embedder
from bot.logs import error_reference
from bot.settings import Settings
from bot.slack_api.directory import ChannelMembers, Tiers
from bot.slack_api.gateway import ChannelPacer, SlackGateway, make_web_client
from bot.slack_api.installations import InstallationStore
from bot.storage.db import Database
from bot.ticketing.service import Ticketing
from bot.usecases.complete_brief import CompleteBriefs
from bot.usecases.digest import Digest
from bot.usecases.drafts import Drafts
from bot.usecases.escalate import BriefJob, Escalations
from bot.usecases.follow_through import FollowThrough
from bot.usecases.home import Home
from bot.usecases.lifecycle import Lifecycle
from bot.usecases.move import Move
from bot.usecases.nudges import Ticker, worker_id
from bot.usecases.pattern_links import PatternLinks
from bot.usecases.patterns import Patterns
from bot.usecases.permissions import Guard
from bot.usecases.search import Search
from bot.usecases.stats import Stats

log = logging.getLogger(__name__)


class BriefQueue(Protocol):
    """Where a listener hands an accepted brief when it is filed in another process (bot.runtime.brief_worker)."""

    def submit(self, job: BriefJob) -> None: ...

    def stop(self, timeout: float = ...) -> None: ...


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock
    escalations: Escalations
    follow_through: FollowThrough
    ticker: Ticker
    tiers: Tiers
    patterns: Patterns  # recurring patterns among briefs
    search: Search  # /escalate search, triage's "resolved before"
    lifecycle: Lifecycle
    members: ChannelMembers  # destination channels' members: who may act on a brief
    home: Home  # App Home and /escalate list
    stats: Stats  # /escalate stats
    complete_briefs: CompleteBriefs  # a brief posted with *Post now*, completed later by its agent
    pattern_links: PatternLinks  # "possibly the same problem": Same problem / Not related, /escalate link and unlink
    move: Move  # move an escalation to another team
    digest: Digest | None = None  # the weekly digest to the leadership channel
    ticketing: Ticketing | None = None
    installations: InstallationStore | None = None  # when installed in several workspaces (OAuth)
    brief_workers: BriefQueue | None = None  # bot.runtime.brief_worker.BriefWorkers while serving HTTP with ESCALATION_BRIEF_PROCESSES > 0
    embedder: Embedder | None = None  # pattern matching's semantic signal (ESCALATION_EMBEDDINGS); None: lexical only
    drafts: Drafts | None = None  # the brief form's drafts, each read by its own agent only
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


def build_services(settings: Settings, *, clock: Clock | None = None, db: Database | None = None) -> Services:
    db = db or Database(settings.database_url)
    clock = clock or SystemClock()
    installations, gateway = _workspaces(settings, db, clock)
    cadences = settings.cadences
    embedder = build_embedder(settings)  # None: pattern matching is lexical only
    patterns = Patterns(db, clock, embedder=embedder, private_details_outside=settings.security_details_outside_slack)
    owner = worker_id()
    configured = Ticketing.from_settings(settings, db, clock, owner=owner)
    ticketing = configured if (configured.sinks or configured.templates) else None
    db.outbox_sinks = ticketing.sinks if ticketing else frozenset()  # log entries → outbox rows, same transaction
    db.outbox_private_details = settings.security_details_outside_slack
    members = ChannelMembers(gateway)
    guard = Guard(db, clock, members, settings.admins)  # who may see and act on each brief: one rule (bot.domain.visibility)
    escalations = Escalations(
        db,
        gateway,
        clock,
        settings.channels,
        cadences,
        enforce_tiers=settings.enforce_tiers,
        patterns=patterns,
        ticketing=ticketing,
        guard=guard,
        post_now=settings.post_now,
    )
    follow_through = FollowThrough(db, gateway, clock, escalations, cadences, guard=guard)
    drafts = Drafts(db, gateway, clock, keep=timedelta(days=settings.draft_days), form_options={"post_now": settings.post_now})
    return Services(
        settings=settings,
        db=db,
        clock=clock,
        escalations=escalations,
        follow_through=follow_through,
        ticker=Ticker(
            db,
            gateway,
            clock,
            escalations,
            cadences,
            owner=owner,
            ticketing=ticketing,
            tick_every=timedelta(seconds=settings.scheduler_tick),
            drafts_keep=drafts.keep,
        ),
        tiers=Tiers(gateway, settings.l2_usergroup),
        patterns=patterns,
        search=Search(db, clock, guard, embedder=embedder),
        pattern_links=PatternLinks(escalations),
        lifecycle=Lifecycle(follow_through),
        members=members,
        home=Home(db, gateway, clock, list(settings.channels.values()), members, drafts=drafts),
        stats=Stats(db, clock),
        complete_briefs=CompleteBriefs(escalations, default_currency=settings.default_currency),
        move=Move(follow_through, settings.channels),
        digest=Digest(
            db,
            gateway,
            clock,
            channel_id=settings.channel_leadership,
            tz=settings.digest_tz,
            enabled=settings.digest_enabled,
            installed_teams=installations.team_ids if installations is not None else None,
        ),
        ticketing=ticketing,
        installations=installations,
        drafts=drafts,
        embedder=embedder,
    )


def _workspaces(settings: Settings, db: Database, clock: Clock) -> tuple[InstallationStore | None, SlackGateway]:
    """One bot token (the default), or OAuth: an installation store and a token per workspace."""
    pacer = ChannelPacer(settings.post_interval, now=lambda: clock.now().timestamp())  # Retry-After counted on the services' clock
    if not settings.oauth:
        return None, SlackGateway(make_web_client(settings.slack_bot_token or "", settings.slack_api_url), pacer=pacer)  # set: require_for_mode
    from bot.slack_api.tokens import TeamGateway, TeamTokens

    def find_token(team_id: str) -> str | None:
        bot = store.find_bot(enterprise_id=None, team_id=team_id)
        return bot.bot_token if bot is not None else None

    tokens = TeamTokens(find_token, settings.slack_api_url)
    store = InstallationStore(db, settings.slack_client_id or "", on_save=tokens.forget, clock=clock)  # set: Settings.oauth needs it
    return store, TeamGateway(tokens, pacer=pacer)

"""APScheduler as the timer only: one in-memory interval job per process calls `Ticker.tick`.

Not APScheduler's persistent job stores: they cannot be shared by several processes (duplicate or
missed runs, per its FAQ) and silently drop pickled jobs when a function is renamed. The database
holds the schedule; every replica runs this same job and the leases decide who sends what.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from bot.usecases.nudges import Ticker

log = logging.getLogger(__name__)

JOB_ID = "follow-through-tick"
DIGEST_JOB_ID = "weekly-digest"
EMBED_JOB_ID = "embed-backlog"
EMBED_EVERY_SECONDS = 30  # up to Patterns.EMBED_BATCH briefs each time: 100k stored briefs take ~4 h at 200 per 30 s
DIGEST_EVERY_SECONDS = 60  # the digest is due once a week; checking each minute costs one small query


def start_scheduler(ticker: Ticker, *, every_seconds: int, digest=None, embed_backlog: Callable[[], int] | None = None) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_job(
        _safe(ticker),
        "interval",
        seconds=every_seconds,
        id=JOB_ID,
        coalesce=True,  # a late process runs one tick, not one per missed interval
        max_instances=1,  # never two ticks of this process at once
        misfire_grace_time=None,  # the default skips a run more than 1 s late; a late tick is still wanted
        jitter=min(5, max(1, every_seconds // 10)),  # replicas started together don't tick in lockstep
        next_run_time=datetime.now(UTC),  # catch up at start: one nudge per overdue timer
    )
    if digest is not None and digest.enabled:
        # The same design as the nudges: every replica checks, the digest_run row's lease decides.
        scheduler.add_job(
            _safe_digest(digest),
            "interval",
            seconds=DIGEST_EVERY_SECONDS,
            id=DIGEST_JOB_ID,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            jitter=5,
            next_run_time=datetime.now(UTC),
        )
    if embed_backlog is not None:
        # Briefs stored without a vector (before embeddings, or while the embedder failed) are matched
        # lexically until this embeds them, a bounded batch at a time (bot.usecases.patterns.Patterns.embed_backlog).
        scheduler.add_job(
            _safe_backlog(embed_backlog),
            "interval",
            seconds=EMBED_EVERY_SECONDS,
            id=EMBED_JOB_ID,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            jitter=5,
            next_run_time=datetime.now(UTC),
        )
    scheduler.start()
    log.info("follow-through tick every %s s", every_seconds)
    return scheduler


def _safe(ticker: Ticker):
    def tick() -> None:
        try:
            report = ticker.tick()
            if report.claimed:
                log.info("tick: %s due, %s sent, %s skipped, %s failed", report.claimed, report.sent, report.skipped, report.failed)
        except Exception:  # noqa: BLE001 - the database may be briefly away; the next tick retries
            log.exception("follow-through tick failed")

    return tick


def _safe_digest(digest):
    def tick() -> None:
        try:
            report = digest.tick()
            if report.sent:
                log.info("weekly digest sent")
        except Exception:  # noqa: BLE001 - the next minute retries
            log.exception("weekly digest tick failed")

    return tick


def _safe_backlog(embed_backlog: Callable[[], int]):
    def tick() -> None:
        try:
            embedded = embed_backlog()
            if embedded:
                log.info("embedded %s stored briefs for pattern matching", embedded)
        except Exception:  # noqa: BLE001 - the next run retries
            log.exception("embedding stored briefs failed")

    return tick

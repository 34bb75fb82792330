"""APScheduler is the timer only: one interval job per process, configured so late ticks still run
once and never overlap; a started server ticks at once (catching up after downtime)."""

from __future__ import annotations

from datetime import timedelta

from bot.runtime.scheduler import JOB_ID, start_scheduler
from bot.usecases.nudges import TickReport
from tests.conftest import _ServerThread, make_settings
from tests.e2e import wait_until
from tests.test_follow_through import post_brief


class CountingTicker:
    def __init__(self) -> None:
        self.calls = 0

    def tick(self) -> TickReport:
        self.calls += 1
        return TickReport()


def test_the_tick_job_is_coalesced_single_and_never_skipped():
    ticker = CountingTicker()
    scheduler = start_scheduler(ticker, every_seconds=30)
    try:
        job = scheduler.get_job(JOB_ID)
        assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time is None
        assert job.trigger.interval == timedelta(seconds=30)
        wait_until(lambda: ticker.calls >= 1, timeout=5, what="the first tick at start")
        assert len(scheduler.get_jobs()) == 1
    finally:
        scheduler.shutdown(wait=True)


def test_a_started_server_sends_what_fell_due_while_it_was_down(bot, fake_slack, tmp_path):
    from bot.runtime.server import create_asgi_app
    from bot.services import build_services

    escalation_id = post_brief(bot, "critical")
    bot.clock.advance(timedelta(minutes=20))  # the ack window (15 min) passed while "down"
    settings = make_settings(fake_slack, bot.db.url)
    server = _ServerThread(create_asgi_app(settings, services=build_services(settings, clock=bot.clock, db=bot.db)))  # scheduler on
    server.start()
    try:
        ping = wait_until(lambda: [c for c in fake_slack.calls("chat.postMessage") if "<!here>" in c.args.get("text", "")], timeout=10, what="ack ping")
        assert len(ping) == 1 and "ESC-1" in ping[0].args["text"]
    finally:
        server.stop()
    assert escalation_id == 1

"""Durable before the ack: when the agent sees "Saving…", the validated submission is already in the
database; whatever dies after the ack (the thread, the worker process, the whole bot), the tick (and
start-up) files it, once per view."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

from bot.domain.brief import Destination
from bot.storage import escalations, intake
from bot.usecases.escalate import INTAKE_GRACE, file_unfiled
from tests.conftest import CHANNELS, TEAM
from tests.e2e import escalate, posts_to, wait_until

ENG = CHANNELS[Destination.ENGINEERING][0]


class DeadWorker:
    """A brief worker that accepted the job and died before filing it (bot.services.BriefQueue)."""

    def __init__(self) -> None:
        self.jobs: list = []

    def submit(self, job) -> None:
        self.jobs.append(job)

    def stop(self, timeout: float = 0) -> None:
        pass


def unfiled(bot) -> list:
    with bot.db.session() as s:
        return intake.unfiled(s)


def briefs(bot) -> list:
    with bot.db.session() as s:
        return [r for r in (escalations.get_by_number(s, TEAM, n) for n in range(1, 10)) if r is not None]


def test_the_submission_is_stored_before_slack_is_answered(bot_any_db):
    bot = bot_any_db
    bot.services.brief_workers = DeadWorker()
    view, response = escalate(bot, Destination.ENGINEERING, summary="Acme exports time out")
    assert response.status_code == 200 and response.json()["response_action"] == "update"  # "Saving…"
    [kept] = unfiled(bot)  # read the moment the answer arrived: nothing ran after the ack
    assert kept.view_id == view["id"] and kept.job["brief"]["summary"] == "Acme exports time out" and kept.filed_at is None
    assert briefs(bot) == [] and not posts_to(bot, ENG)


def test_a_submission_whose_filing_died_is_filed_by_the_tick_once(bot_any_db):
    bot = bot_any_db
    bot.services.brief_workers = DeadWorker()
    view, response = escalate(bot, Destination.ENGINEERING, summary="Acme exports time out")
    assert response.status_code == 200
    assert bot.services.ticker.tick().recovered == 0  # too young: the process that acked may still be filing it
    bot.clock.advance(INTAKE_GRACE + timedelta(seconds=1))
    assert bot.services.ticker.tick().recovered == 1
    [post] = posts_to(bot, ENG)
    assert "Acme exports time out" in json.dumps(post.args["blocks"])
    assert unfiled(bot) == [] and len(briefs(bot)) == 1
    result = bot.slack.view(view["id"])  # the agent's modal, if still open, shows the outcome
    assert "ESC-1" in json.dumps(result)
    bot.clock.advance(timedelta(minutes=5))
    assert bot.services.ticker.tick().recovered == 0 and len(posts_to(bot, ENG)) == 1


def test_filing_twice_at_once_stores_and_posts_one_brief(bot_any_db):
    """The process that acked and a replica's tick (or two ticks) file the same submission together."""
    bot = bot_any_db
    worker = DeadWorker()
    bot.services.brief_workers = worker
    escalate(bot, Destination.ENGINEERING, summary="Acme exports time out")
    bot.clock.advance(INTAKE_GRACE + timedelta(seconds=1))
    from bot.usecases.escalate import file_job

    barrier = threading.Barrier(3)

    def late_worker() -> None:
        barrier.wait()
        file_job(bot.services.escalations, worker.jobs[0])

    def tick() -> None:
        barrier.wait()
        file_unfiled(bot.services.escalations)

    threads = [threading.Thread(target=late_worker), threading.Thread(target=tick), threading.Thread(target=tick)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(briefs(bot)) == 1 and len(posts_to(bot, ENG)) == 1 and unfiled(bot) == []


def test_when_the_submission_cannot_be_kept_the_agent_gets_everything_back(bot, monkeypatch):
    def refuse(*_a, **_k):
        raise RuntimeError("database is down")

    monkeypatch.setattr(intake, "record", refuse)
    view, response = escalate(bot, Destination.ENGINEERING, summary="Acme exports time out")
    answer = response.json()
    assert answer["response_action"] == "update"
    shown = json.dumps(answer["view"])
    assert "Your brief was not saved" in shown and "Acme exports time out" in shown  # the form again, as typed
    assert briefs(bot) == [] and not posts_to(bot, ENG)


def test_a_submission_filed_normally_leaves_nothing_for_the_tick(bot):
    view, response = escalate(bot, Destination.ENGINEERING, summary="Acme exports time out")
    wait_until(lambda: posts_to(bot, ENG), what="the brief")
    wait_until(lambda: unfiled(bot) == [], what="the intake marked filed")
    bot.clock.advance(timedelta(minutes=1))
    assert bot.services.ticker.tick().recovered == 0 and len(posts_to(bot, ENG)) == 1

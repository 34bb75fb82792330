"""Several replicas: three real bot processes on one PostgreSQL behind a round-robin "load balancer".

Each process is `python -m bot run --http`, with its own scheduler ticking every second on the
system clock; check-ins and acknowledgement windows are a few seconds, so the replicas race for
the same due periods while the test runs. Asserts: one post per brief, one nudge per due period.
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from blocks.brief_modal import brief_modal
from bot.domain.brief import Destination
from bot.domain.status import LogKind
from bot.storage.db import Database
from bot.storage.models import Escalation, EscalationLog
from tests.conftest import AGENT, CHANNELS, POSTGRES_URL, SIGNING_SECRET, TEAM, _postgres_schema_url, settings_env
from tests.e2e import state_for, wait_until
from tests.factories import draft
from tests.support.slack_requests import SlackSender

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[1]
REPLICAS, BRIEFS = 3, 100  # 3 requests per brief (command, submission, reaction): 300 in all
CHANNEL = CHANNELS[Destination.SUPPORT_L2][0]
FAST = {  # seconds, not hours: nudges fall due while the test runs (high severity)
    "ESCALATION_CHECKIN_HIGH": "4s",
    "ESCALATION_ACK_WINDOW_HIGH": "3s",
    "ESCALATION_CUSTOMER_UPDATE_HIGH": "5s-9s",
    "ESCALATION_SCHEDULER_TICK": "1",
    "ESCALATION_ENFORCE_TIERS": "false",
    "LOG_LEVEL": "WARNING",
}


@pytest.fixture
def shared_postgres() -> str:
    if not POSTGRES_URL:
        pytest.skip("TEST_POSTGRES_URL is not set")
    yield from _postgres_schema_url()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def replicas(fake_slack, shared_postgres, tmp_path):
    db = Database(shared_postgres)
    db.upgrade()  # `escalation-bot db upgrade` once, before the rollout
    env = {**os.environ, **settings_env(fake_slack.base_url, shared_postgres), **FAST, "PYTHONPATH": str(ROOT)}
    procs, urls = [], []

    def stop() -> None:
        """SIGTERM, as a rollout does: each replica finishes its tick in progress, then exits."""
        for proc, _log in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc, log in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()

    try:
        for n in range(REPLICAS):
            port = _free_port()
            log = open(tmp_path / f"replica{n}.log", "wb")
            procs.append(
                (
                    subprocess.Popen(
                        [sys.executable, "-m", "bot", "run", "--http", "--host", "127.0.0.1", "--port", str(port)],
                        env=env,
                        cwd=tmp_path,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    ),
                    log,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        for (proc, _log), url in zip(procs, urls):
            wait_until(lambda: proc.poll() is None and _healthy(url), timeout=30, what=f"{url} healthy")
        yield urls, db, stop
    finally:
        stop()
        db.dispose()
    for n in range(REPLICAS):
        text = (tmp_path / f"replica{n}.log").read_text(errors="replace")
        assert "Traceback" not in text, f"replica {n} logged an error:\n{text[-3000:]}"


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_three_replicas_post_each_brief_once_and_each_nudge_once(fake_slack, replicas):
    urls, db, stop = replicas
    senders = [SlackSender(url, SIGNING_SECRET, response_url_base=fake_slack.hooks_url) for url in urls]
    turn = itertools.count()  # the load balancer: every request goes to the next replica
    lock = threading.Lock()

    def next_sender() -> SlackSender:
        with lock:
            return senders[next(turn) % REPLICAS]

    def one_brief(i: int) -> str:
        marker = f"case-{i:03d}-replicas"
        trigger = f"trig.{i}.{time.time_ns()}"
        assert next_sender().command(command="/escalate", text="", user_id=AGENT, team_id=TEAM, channel_id="C0SUPPORT", trigger_id=trigger).status_code == 200
        opened = wait_until(lambda: [c for c in fake_slack.calls("views.open") if c.args.get("trigger_id") == trigger and c.ok], what="the modal")[0]
        view = {**opened.response["view"], "blocks": brief_modal(destination=Destination.SUPPORT_L2)["blocks"]}
        values = draft(
            Destination.SUPPORT_L2, now=datetime.now(UTC), severity="high", summary=f"CSV export times out ({marker})"
        )  # the bot runs on the real clock
        assert next_sender().submit_view(view, state_for(view, values), user_id=AGENT, team_id=TEAM).status_code == 200
        post = wait_until(
            lambda: [
                c
                for c in fake_slack.calls("chat.postMessage")
                if c.ok and c.args.get("channel") == CHANNEL and not c.args.get("thread_ts") and marker in (c.args.get("text") or "")
            ],
            timeout=30,
            what=f"brief {i} posted",
        )[0]
        ts = post.response["ts"]
        reaction = {
            "type": "reaction_added",
            "user": "U0ENGINEER",
            "reaction": "eyes",
            "item_user": "UBOT",
            "item": {"type": "message", "channel": CHANNEL, "ts": ts},
            "event_ts": f"{time.time():.6f}",
        }
        assert next_sender().event(reaction, team_id=TEAM).status_code == 200
        return ts

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=12) as pool:
        posted_ts = list(pool.map(one_brief, range(BRIEFS)))
    time.sleep(max(0.0, 10 - (time.monotonic() - started)))  # let a few check-in periods fall due and be nudged

    def thread_nudges() -> int:
        with db.session() as s:
            periods = s.exec(select(EscalationLog).where(EscalationLog.kind == LogKind.NUDGE.value))
            return sum(1 for p in periods if (p.data or {}).get("kind") in ("checkin", "ack"))

    # On a loaded machine filing 100 briefs can take most of those 10 s: the last ones filed need
    # their own 4 s before a check-in falls due. Wait for as many nudges as briefs, not for a time.
    wait_until(lambda: thread_nudges() >= BRIEFS, timeout=90, what="a check-in nudge per brief")
    for sender in senders:
        sender.close()
    stop()  # every tick in flight completes: what the log recorded has been sent

    # One post per brief: 100 briefs stored, each posted once in its channel.
    with db.session() as s:
        briefs = list(s.exec(select(Escalation)))
    assert len(briefs) == BRIEFS
    brief_posts = [
        c
        for c in fake_slack.calls("chat.postMessage")
        if c.ok and c.args.get("channel") == CHANNEL and not c.args.get("thread_ts") and "-replicas)" in (c.args.get("text") or "")
    ]
    assert len(brief_posts) == BRIEFS and len({c.response["ts"] for c in brief_posts}) == BRIEFS
    assert sorted(b.message_ts for b in briefs) == sorted(posted_ts)

    # One nudge per due period: every period the running log recorded was posted once in the
    # brief's thread, and nothing else was nudged.
    with db.session() as s:
        periods = list(s.exec(select(EscalationLog).where(EscalationLog.kind == LogKind.NUDGE.value)))
        thread_of = {b.id: b.message_ts for b in s.exec(select(Escalation))}
    assert periods, "no nudge fell due: the cadence settings did not apply"
    assert len({(p.follow_up_id, p.due_at) for p in periods}) == len(periods)
    nudge_texts = {p.text for p in periods}
    in_threads = [c for c in fake_slack.calls("chat.postMessage") if c.ok and c.args.get("thread_ts") and c.args.get("text") in nudge_texts]
    expected: dict[tuple[str, str], int] = {}
    for p in periods:
        if (p.data or {}).get("kind") in ("checkin", "ack"):  # these two are posted in the brief's thread
            key = (thread_of[p.escalation_id], p.text)
            expected[key] = expected.get(key, 0) + 1
    posted: dict[tuple[str, str], int] = {}
    for c in in_threads:
        key = (c.args["thread_ts"], c.args["text"])
        posted[key] = posted.get(key, 0) + 1
    assert posted == expected
    assert sum(expected.values()) >= BRIEFS  # every brief got at least one check-in nudge

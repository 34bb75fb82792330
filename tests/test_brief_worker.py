"""ESCALATION_BRIEF_PROCESSES=1: a real `python -m bot run --http` whose briefs are stored and posted by
a worker process. Through signed HTTP and the stand-in Slack: the brief is posted once and the modal
shows the result; a worker killed with SIGKILL is replaced and the next brief still goes out; a
SIGTERM stops both processes without a traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from blocks.brief_modal import brief_modal
from bot.domain.brief import Destination
from tests.conftest import AGENT, CHANNELS, SIGNING_SECRET, TEAM, settings_env
from tests.e2e import state_for, wait_until
from tests.factories import draft
from tests.support.slack_requests import SlackSender
from tests.test_replicas import _free_port, _healthy

ROOT = Path(__file__).resolve().parents[1]
CHANNEL = CHANNELS[Destination.SUPPORT_L2][0]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and b"spawn_main" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    return found


@pytest.fixture
def bot_with_worker(fake_slack, tmp_path):
    if not Path("/proc").exists():
        pytest.skip("reads worker processes from /proc")
    env = {
        **os.environ,
        **settings_env(fake_slack.base_url, f"sqlite:///{tmp_path / 'bot.db'}"),
        "ESCALATION_BRIEF_PROCESSES": "1",
        "ESCALATION_ENFORCE_TIERS": "false",
        "LOG_LEVEL": "INFO",
        "PYTHONPATH": str(ROOT),
    }
    port = _free_port()
    log = open(tmp_path / "bot.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--http", "--host", "127.0.0.1", "--port", str(port)], env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: proc.poll() is None and _healthy(url), timeout=30, what="the bot healthy")
        yield proc, SlackSender(url, SIGNING_SECRET, response_url_base=fake_slack.hooks_url), tmp_path / "bot.log"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for child in _children(proc.pid):
            os.kill(child, signal.SIGKILL)
        log.close()


def _submit(fake_slack, sender: SlackSender, marker: str) -> str:
    trigger = f"trig.{marker}.{time.time_ns()}"
    assert sender.command(command="/escalate", text="", user_id=AGENT, team_id=TEAM, channel_id="C0SUPPORT", trigger_id=trigger).status_code == 200
    opened = wait_until(lambda: [c for c in fake_slack.calls("views.open") if c.args.get("trigger_id") == trigger and c.ok], what="the modal")[0]
    view = {**opened.response["view"], "blocks": brief_modal(destination=Destination.SUPPORT_L2)["blocks"]}
    values = draft(Destination.SUPPORT_L2, now=datetime.now(UTC), severity="high", summary=f"CSV export times out ({marker})")  # the bot runs on the real clock
    assert sender.submit_view(view, state_for(view, values), user_id=AGENT, team_id=TEAM).status_code == 200
    return view["id"]


def _posts(fake_slack, marker: str) -> list:
    return [
        c
        for c in fake_slack.calls("chat.postMessage")
        if c.ok and c.args.get("channel") == CHANNEL and not c.args.get("thread_ts") and marker in (c.args.get("text") or "")
    ]


def _result_shown(fake_slack, view_id: str) -> bool:
    return any(c.ok and c.args.get("view_id") == view_id and "is posted" in str(c.args.get("view")) for c in fake_slack.calls("views.update"))


def test_a_worker_process_posts_each_brief_once_and_is_replaced_when_killed(fake_slack, bot_with_worker):
    proc, sender, log_path = bot_with_worker
    workers = wait_until(lambda: _children(proc.pid), what="the brief worker process")
    assert len(workers) == 1

    first = _submit(fake_slack, sender, "first-brief")
    wait_until(lambda: _posts(fake_slack, "first-brief"), timeout=20, what="the first brief posted")
    wait_until(lambda: _result_shown(fake_slack, first), what="the first result in the modal")

    os.kill(workers[0], signal.SIGKILL)  # the worker dies; the serving process starts another
    replaced = wait_until(lambda: [p for p in _children(proc.pid) if p != workers[0]], timeout=20, what="a new brief worker")
    assert replaced
    second = _submit(fake_slack, sender, "second-brief")
    wait_until(lambda: _posts(fake_slack, "second-brief"), timeout=30, what="the second brief posted")
    wait_until(lambda: _result_shown(fake_slack, second), what="the second result in the modal")
    assert len(_posts(fake_slack, "first-brief")) == 1 and len(_posts(fake_slack, "second-brief")) == 1

    proc.send_signal(signal.SIGTERM)  # as a rollout does: the worker is told to stop, then the server
    assert proc.wait(timeout=30) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once shut down
    wait_until(lambda: not _children(proc.pid), timeout=10, what="no worker left")
    text = log_path.read_text(errors="replace")
    assert "brief worker" in text and "died" in text  # the admin sees what happened
    assert text.count("Traceback") == 0, text[-3000:]


def test_a_job_handed_over_twice_files_one_brief(bot):
    """What a replaced worker does with the jobs its predecessor held: filing again changes nothing."""
    from blocks.brief_modal import ModalContext
    from bot.domain.routing import Tier
    from bot.domain.validation import validate_draft
    from bot.usecases.escalate import BriefJob, file_brief

    brief = validate_draft(draft(Destination.SUPPORT_L2, now=bot.clock.now()), now=bot.clock.now(), default_currency="USD")
    job = BriefJob(team_id=TEAM, user_id=AGENT, view_id="V0TWICE", brief=brief, context=ModalContext(source_channel_id="C0SUPPORT"), values={}, tier=Tier.L2)
    file_brief(bot.services, job)
    file_brief(bot.services, job)
    posts = [c for c in bot.slack.calls("chat.postMessage") if c.args.get("channel") == CHANNEL and not c.args.get("thread_ts")]
    assert len(posts) == 1
    results = [c for c in bot.slack.calls("views.update") if c.args.get("view_id") == "V0TWICE"]
    assert len(results) == 1  # the second filing reports nothing: the first already did

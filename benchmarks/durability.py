#!/usr/bin/env python
"""Nothing lost: what keeping a submission before the ack costs, and a crash test that SIGKILLs the bot.

    python benchmarks/durability.py                       # both parts, SQLite and PostgreSQL
    python benchmarks/durability.py --no-postgres --submissions 50 --kills 6

1. **Ack cost.** The brief modal's submission is written to the database (bot.storage.intake) before
   Slack is answered. `accept_brief` is timed on its own, 300 times, with a realistic job (a full
   Engineering brief and the modal's state), on SQLite (a file) and PostgreSQL.
2. **Crash test.** The real bot (`python -m bot run --http`) serves a stand-in Slack
   (tests/support/fake_slack, in this process, so it outlives the bot). A sender thread submits the
   brief modal N times through signed HTTP, each submission retried with its same view id until it
   gets a 200 (an agent pressing *Escalate* again). Meanwhile the bot is SIGKILLed at least `--kills`
   times, half of them within 0–3 ms of a 200 (between the ack and the brief's commit), and
   restarted at once. Before each restart the database is read: a submission acked but not yet stored
   as a brief proves that kill fell between the ack and the commit. At the end every submission that
   got a 200 must be posted in the channel exactly once (start-up and the tick file what the kills
   left; a post cut off mid-way is found by its metadata and not repeated).

PostgreSQL is BENCH_POSTGRES_URL or TEST_POSTGRES_URL (a temporary schema, dropped afterwards).
Exit status 1 if any submission that got a 200 was lost or posted twice.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from pattern_matching import DEFAULT_PG, postgres_answers  # noqa: E402
from rig.processes import find_free_port, wait_http_ready  # noqa: E402

from blocks.brief_modal import ModalContext, brief_modal  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.domain.brief import Destination  # noqa: E402
from bot.domain.validation import validate_draft  # noqa: E402
from bot.storage import intake  # noqa: E402
from bot.storage.db import Database  # noqa: E402
from bot.usecases.escalate import BriefJob, accept_brief  # noqa: E402
from tests.e2e import state_for  # noqa: E402
from tests.factories import draft  # noqa: E402
from tests.support.fake_slack import FakeSlack  # noqa: E402
from tests.support.postgres import fresh_schema  # noqa: E402
from tests.support.slack_requests import SlackSender, view_submission  # noqa: E402

SECRET = "0123456789abcdef0123456789abcdef"
ENG, TEAM, AGENT = "C0ENGINEER", "T0001", "U0AGENT"
CHANNELS = {"SUPPORT_L2": "C0SUPPORTL2", "ENGINEERING": ENG, "PRODUCT": "C0PRODUCT1", "SECURITY": "G0SECURITY", "LEADERSHIP": "C0LEADERS1"}


# --- 1. the ack's extra cost ---------------------------------------------------------------------


def ack_cost(url: str, n: int = 300) -> dict[str, float]:
    db = Database(url)
    db.upgrade()
    now = datetime.now(UTC)
    values = draft(Destination.ENGINEERING, now=now, summary="Exports time out for Acme")
    brief = validate_draft(values, now=now)
    view = brief_modal(destination=Destination.ENGINEERING)
    state = state_for(view, values)
    escalations = SimpleNamespace(db=db, clock=SystemClock())
    samples = []
    for i in range(n + 20):
        job = BriefJob(team_id=TEAM, user_id=AGENT, view_id=f"VACK{i:06d}", brief=brief, context=ModalContext(), values=state, tier=None)
        started = time.perf_counter()
        accept_brief(escalations, job)  # type: ignore[arg-type]
        if i >= 20:  # the first ones warm the connection pool and compile the statement
            samples.append((time.perf_counter() - started) * 1000)
    db.dispose()
    samples.sort()
    return {"p50": statistics.median(samples), "p95": samples[int(0.95 * len(samples)) - 1], "p99": samples[int(0.99 * len(samples)) - 1], "max": samples[-1]}


# --- 2. the crash test ---------------------------------------------------------------------------


class Bot:
    """The bot as a child process (its own process group), restartable, killable with SIGKILL."""

    def __init__(self, slack: FakeSlack, database_url: str, log: Path) -> None:
        self.port = find_free_port()
        self.env = {
            **os.environ,
            "SLACK_BOT_TOKEN": "xoxb-crash-test",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.base_url,
            "DATABASE_URL": database_url,
            "ESCALATION_POST_INTERVAL": "0",
            "ESCALATION_SCHEDULER_TICK": "1",
            "ESCALATION_DIGEST_ENABLED": "false",
            "LOG_LEVEL": "WARNING",
            **{f"ESCALATION_CHANNEL_{k}": v for k, v in CHANNELS.items()},
        }
        self.log = log.open("ab")
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        argv = [sys.executable, "-m", "bot", "--env-file", "/dev/null", "run", "--http", "--host", "127.0.0.1", "--port", str(self.port)]
        self.proc = subprocess.Popen(argv, env=self.env, cwd=ROOT, stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL, start_new_session=True)
        wait_http_ready(self.port, self.proc, timeout_s=60)

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


def _fake_slack() -> FakeSlack:
    slack = FakeSlack()
    slack.start()
    for name, channel in CHANNELS.items():
        slack.add_channel(channel, name.lower(), is_member=True, is_private=channel.startswith("G"), members=["U0ENGINEER"])
    slack.add_channel("C0SUPPORT", "support", is_member=True)
    slack.add_user(AGENT, "agent.alice", tz="Europe/Paris")
    return slack


def _summary(i: int) -> str:
    return f"Crash test submission #{i:03d}: exports time out"


def _posted(slack: FakeSlack) -> dict[int, int]:
    """How many times each submission's brief was posted as a top-level message."""
    counts: dict[int, int] = {}
    for call in slack.calls("chat.postMessage"):
        if call.args.get("channel") == ENG and not call.args.get("thread_ts") and call.ok:
            text = call.args.get("text", "") + json.dumps(call.args.get("blocks") or [])
            for i in {int(part[:3]) for part in text.split("Crash test submission #")[1:] if part[:3].isdigit()}:
                counts[i] = counts.get(i, 0) + 1
    return counts


def _acked_not_stored(database_url: str, acked: set[str]) -> int:
    db = Database(database_url)
    try:
        with db.session() as s:
            return sum(1 for row in intake.unfiled(s) if row.view_id in acked)
    finally:
        db.dispose()


def crash_test(database_url: str, *, submissions: int, kills: int, seed: int, workdir: Path) -> dict:
    rng = random.Random(seed)
    slack = _fake_slack()
    bot = Bot(slack, database_url, workdir / "bot.log")
    db = Database(database_url)
    db.upgrade()
    db.dispose()
    bot.start()
    sender = SlackSender(f"http://127.0.0.1:{bot.port}", SECRET)
    acked: dict[int, str] = {}  # submission → its view id, once it got a 200
    ack_event = threading.Event()
    done = threading.Event()
    lock = threading.Lock()
    view = brief_modal(destination=Destination.ENGINEERING)

    def send_all() -> None:
        for i in range(submissions):
            values = draft(Destination.ENGINEERING, now=datetime.now(UTC), summary=_summary(i), affected_names=f"Customer {i}")
            body, ctype = view_submission({**view, "id": f"VCRASH{i:04d}"}, state_for(view, values), user_id=AGENT, team_id=TEAM)
            while True:  # the agent presses Escalate again until the form answers
                try:
                    response = sender.post(body, ctype)
                    if response.status_code == 200:
                        break
                except Exception:  # noqa: BLE001 - the bot is down (killed): try again in a moment
                    pass
                time.sleep(0.05)
            with lock:
                acked[i] = f"VCRASH{i:04d}"
            ack_event.set()
            time.sleep(rng.uniform(0, 0.08))
        done.set()

    thread = threading.Thread(target=send_all, daemon=True)
    thread.start()
    kill_log = []
    for k in range(kills):
        right_after_ack = k % 2 == 0
        if right_after_ack:
            ack_event.clear()
            ack_event.wait(timeout=30)
            time.sleep(rng.uniform(0, 0.003))
        else:
            time.sleep(rng.uniform(0.2, 1.2))
        if done.is_set():
            break
        bot.kill()
        with lock:
            acked_ids = set(acked.values())
        kill_log.append({"right_after_ack": right_after_ack, "acked_so_far": len(acked_ids), "acked_not_stored": _acked_not_stored(database_url, acked_ids)})
        bot.start()
    thread.join(timeout=600)
    deadline = time.monotonic() + 120  # start-up, then the 1 s tick with its 15 s grace, file what is left
    while time.monotonic() < deadline:
        counts = _posted(slack)
        if all(counts.get(i) for i in acked):
            break
        time.sleep(0.5)
    time.sleep(2)  # anything posted twice would show now
    counts = _posted(slack)
    bot.stop()
    slack.stop()
    lost = sorted(i for i in acked if not counts.get(i))
    twice = sorted(i for i, n in counts.items() if n > 1)
    return {
        "submissions": submissions,
        "acked": len(acked),
        "kills": len(kill_log),
        "kills_between_ack_and_commit": sum(1 for k in kill_log if k["acked_not_stored"]),
        "acked_not_stored_at_kills": [k["acked_not_stored"] for k in kill_log],
        "posted_once": sum(1 for i in acked if counts.get(i) == 1),
        "lost": lost,
        "posted_twice": twice,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=50)
    parser.add_argument("--kills", type=int, default=6)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--skip-ack-cost", action="store_true")
    args = parser.parse_args(argv)
    pg_url = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_POSTGRES_URL") or DEFAULT_PG
    use_pg = not args.no_postgres and postgres_answers(pg_url)
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        databases: list[tuple[str, object]] = [("SQLite", lambda: _sqlite(work))]
        if use_pg:
            databases.append(("PostgreSQL", lambda: fresh_schema(pg_url, prefix="crash_")))
        else:
            print("PostgreSQL: not reachable, skipped")
        for name, make in databases:
            if not args.skip_ack_cost:
                with make() as url:  # type: ignore[operator]
                    cost = ack_cost(url)
                print(
                    f"{name}: keeping a submission before the ack: p50 {cost['p50']:.2f} ms, p95 {cost['p95']:.2f} ms, p99 {cost['p99']:.2f} ms, max {cost['max']:.2f} ms"
                )
            with make() as url:  # type: ignore[operator]
                result = crash_test(url, submissions=args.submissions, kills=args.kills, seed=args.seed, workdir=work)
            print(f"{name}: crash test: {json.dumps(result)}")
            failed |= bool(result["lost"] or result["posted_twice"] or result["acked"] != args.submissions)
    return 1 if failed else 0


class _sqlite:
    """A fresh SQLite file per use (a context manager, as fresh_schema is)."""

    counter = 0

    def __init__(self, work: Path) -> None:
        _sqlite.counter += 1
        self.path = work / f"crash{_sqlite.counter}.db"

    def __enter__(self) -> str:
        return f"sqlite:///{self.path}"

    def __exit__(self, *exc) -> None:
        pass


if __name__ == "__main__":
    sys.exit(main())

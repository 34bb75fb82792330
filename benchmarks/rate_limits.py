#!/usr/bin/env python
"""One rate-limited channel must stall nobody else (issue 17).

    python benchmarks/rate_limits.py [--throttled 7] [--retry-after 20] [--brief-processes 0] [--repeat 1]

The stand-in Web API (benchmarks/rig) answers every chat.postMessage into Engineering's channel
with 429 and `Retry-After: 20`. The bot (`python -m bot run --http`, SQLite, pacing on as by
default) gets `--throttled` brief submissions for Engineering at once; as soon as they are acked,
an unrelated `/escalate list` and a Support L2 brief (another channel). Printed, in ms from the
request being sent: each ack; `/escalate list` → its answer (response_url); the L2 brief →
its post in its channel; each throttled agent's submission → the result in their form
(views.update); and how many posts Slack answered 429.

Before issue 17's change, slack_sdk's rate-limit retry handler slept through Retry-After on a worker
thread per throttled post: `/escalate list` waited for a free thread (39.9 s in the issue), agents
for their result up to 82 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH_DIR))

from bot_vs_bolt import AGENT, BOT_SECRET, SOURCE, TEAM, bot_env, wait_healthy  # noqa: E402
from rig.payloads import sign_headers  # noqa: E402
from rig.processes import PY, ProcessGroups, find_free_port, start_standin  # noqa: E402

THROTTLED_CHANNEL = "C0BENCHENG"  # bot_env's Engineering channel


def submission(destination_name: str, key: str, view_id: str) -> bytes:
    from blocks.brief_modal import ModalContext, brief_modal
    from bot.domain.brief import Destination
    from tests.e2e import state_for
    from tests.factories import draft
    from tests.support.slack_requests import view_submission

    destination = Destination[destination_name]
    values = draft(destination, now=datetime.now(UTC), summary=f"{key} customers cannot export invoices")
    view = {**brief_modal(destination=destination, eng_kind=values.get("eng_kind"), context=ModalContext(source_channel_id=SOURCE)), "id": view_id}
    body, _ = view_submission(view, state_for(view, values), user_id=AGENT, team_id=TEAM)
    return body.encode()


def list_command(response_url: str) -> bytes:
    from tests.support.slack_requests import slash_command

    body, _ = slash_command("/escalate", "list", user_id=AGENT, team_id=TEAM, channel_id=SOURCE, response_url=response_url)
    return body.encode()


async def scenario(bot_url: str, standin_url: str, throttled: int, run_id: str) -> dict:
    import aiohttp

    eng = [(f"benchkey-{run_id}.eng.{i}", f"V{run_id}E{i}") for i in range(throttled)]
    l2_key, l2_view = f"benchkey-{run_id}.l2", f"V{run_id}L2"
    bodies = {view: submission("ENGINEERING", key, view) for key, view in eng}
    l2_body = submission("SUPPORT_L2", l2_key, l2_view)
    hook = f"list{run_id}"
    list_body = list_command(f"{standin_url}/hooks/{hook}")

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as session:

        async def send(body: bytes) -> tuple[float, float]:
            sent = time.monotonic()
            async with session.post(bot_url, data=body, headers=sign_headers(BOT_SECRET, body)) as resp:
                await resp.read()
                assert resp.status == 200, resp.status
            return sent, (time.monotonic() - sent) * 1000

        async def seen(method: str, key: str, timeout: float = 240) -> float | None:
            """When the stand-in received `key` (monotonic, system-wide), waiting up to `timeout`."""
            async with session.post(f"{standin_url}/_bench/wait", json={"method": method, "key": key, "timeout": timeout}) as w:
                if not (await w.json())["seen"]:
                    return None
            async with session.post(f"{standin_url}/_bench/take", json={"method": method, "keys": [key]}) as t:
                return (await t.json())["found"].get(key)

        throttled_acks = await asyncio.gather(*(send(bodies[view]) for _key, view in eng))
        (list_sent, list_ack), (l2_sent, l2_ack) = await asyncio.gather(send(list_body), send(l2_body))
        listed, posted = await asyncio.gather(seen("response_url", hook), seen("chat.postMessage", l2_key))
        results = await asyncio.gather(*(seen("views.update", view) for _key, view in eng))
        async with session.get(f"{standin_url}/_bench/stats") as resp:
            counts = (await resp.json())["counts"]

    def since(at: float | None, sent: float) -> float | None:
        return None if at is None else round((at - sent) * 1000, 1)

    return {
        "throttled_ack_ms": [round(ms, 1) for _sent, ms in throttled_acks],
        "list_ack_ms": round(list_ack, 1),
        "list_answer_ms": since(listed, list_sent),
        "other_channel_ack_ms": round(l2_ack, 1),
        "other_channel_post_ms": since(posted, l2_sent),
        "throttled_result_ms": [since(at, sent) for at, (sent, _ms) in zip(results, throttled_acks)],
        "answered_429": counts.get("429", 0),
    }


def run_round(throttled: int, retry_after: int, brief_processes: int, workdir: Path, post_interval: float = 1.0) -> dict:
    with ProcessGroups() as pg:
        standin_proc, standin_url = start_standin(pg, 0.0, ["--ratelimit-channel", THROTTLED_CHANNEL, "--retry-after", str(retry_after)])
        env = {
            **bot_env(standin_url, f"sqlite:///{workdir / 'ratelimits.db'}"),
            "ESCALATION_POST_INTERVAL": str(post_interval),  # 1, the default: pacing on
            "ESCALATION_BRIEF_PROCESSES": str(brief_processes),
        }
        port = find_free_port()
        with open(workdir / "bot.log", "wb") as log:
            proc = pg.start(
                [PY, "-m", "bot", "run", "--http", "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=workdir
            )
        try:
            wait_healthy(port, proc)
            run_id = f"{os.getpid()}{time.time_ns() % 10**9}"
            return asyncio.run(scenario(f"http://127.0.0.1:{port}/slack/events", standin_url, throttled, run_id))
        finally:
            pg.stop(proc)
            pg.stop(standin_proc)


def report(rounds: list[dict], throttled: int, retry_after: int, brief_processes: int, post_interval: float = 1.0) -> str:
    def ms(value) -> str:
        return "—" if value is None else f"{value:,.1f}"

    def spread(values: list) -> str:
        known = sorted(v for v in values if v is not None)
        missing = len(values) - len(known)
        text = f"{ms(known[len(known) // 2])} / {ms(known[-1])}" if known else "—"
        return text + (f" ({missing} never)" if missing else "")

    lines = [
        f"## One rate-limited channel (`benchmarks/rate_limits.py`): {throttled} briefs into a channel answering 429, Retry-After {retry_after} s",
        "",
        f"ESCALATION_BRIEF_PROCESSES={brief_processes}, ESCALATION_POST_INTERVAL={post_interval:g}. ms from the request being sent; median / max over the throttled briefs.",
        "",
        "| round | throttled acks | throttled agents' result (views.update) | `/escalate list` ack | `/escalate list` answer | other channel's brief ack | → posted | posts answered 429 |",
        "|---:|---|---|---:|---:|---:|---:|---:|",
    ]
    for n, r in enumerate(rounds, 1):
        lines.append(
            f"| {n} | {spread(r['throttled_ack_ms'])} | {spread(r['throttled_result_ms'])} | {ms(r['list_ack_ms'])} | {ms(r['list_answer_ms'])} | "
            f"{ms(r['other_channel_ack_ms'])} | {ms(r['other_channel_post_ms'])} | {r['answered_429']} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--throttled", type=int, default=7, help="briefs submitted into the rate-limited channel (default 7, as in issue 17)")
    parser.add_argument("--retry-after", type=int, default=20)
    parser.add_argument("--brief-processes", type=int, default=0, help="ESCALATION_BRIEF_PROCESSES (default 0, the quickstart)")
    parser.add_argument("--post-interval", type=float, default=1.0, help="ESCALATION_POST_INTERVAL (default 1, the bot's default)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the raw figures too")
    args = parser.parse_args(argv)
    rounds = []
    with tempfile.TemporaryDirectory(prefix="rate-limits-") as tmp:
        for _ in range(args.repeat):
            workdir = Path(tmp)
            (workdir / "ratelimits.db").unlink(missing_ok=True)
            rounds.append(run_round(args.throttled, args.retry_after, args.brief_processes, workdir, args.post_interval))
    print(report(rounds, args.throttled, args.retry_after, args.brief_processes, args.post_interval))
    if args.json:
        print(json.dumps(rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python
"""The bot in HTTP mode against a minimal Bolt app, on the same server, in the same run.

    python benchmarks/bot_vs_bolt.py [--requests N] [--concurrency 1,10,50] [--warmup W] [--brief-processes 0,1] [--repeat R]

Reuses the benchmark rig (benchmarks/rig): its stand-in Slack Web API (own process, records when each
views.open / chat.postMessage arrives), its signed closed-loop senders, CPU meter and percentiles.

1. The minimal app: serving_stacks' AsyncApp + Starlette on uvicorn (uvloop, httptools), acking
   and handing the API call to a task (the bot's listener style): ack, a one-input modal, a post.
2. The bot: `python -m bot run --http` on SQLite (the quickstart), same stand-in, once as one process
   and once with ESCALATION_BRIEF_PROCESSES=1 (briefs stored and posted by a worker process).
   /escalate opens the real brief modal; the submission is a whole Support L2 brief, stored then posted.

Per concurrency level (closed loop, C senders): ack p50/p99, /escalate → views.open, submission →
chat.postMessage (the brief in its channel), throughput; each of the bot's figures also as a ratio
to the minimal app's. Targets at 50 senders: p99 ack ≤ 1.25× the minimal app and < 300 ms;
submission → post p99 < 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH_DIR))

from rig.load import Sample, closed_loop, command_builder, run_phase, submission_builder  # noqa: E402
from rig.payloads import SIGNING_SECRET, sign_headers  # noqa: E402
from rig.processes import KEEPALIVE_SECONDS, PY, CpuMeter, ProcessGroups, find_free_port, scan_log, start_standin, wait_http_ready  # noqa: E402
from rig.report import StackResult, merge_runs, percentile  # noqa: E402
from rig.standin import StandinClient, _install_uvloop  # noqa: E402
from serving_stacks import default_stacks  # noqa: E402

BOT_SECRET = "0123456789abcdef0123456789abcdef"  # the bot checks it looks like Slack's (hex)
MINIMAL_STACK = "async-starlette-uvicorn-w1"  # run with BENCH_PATTERN=task: ack, then the API call in a task (as the bot)
TEAM, AGENT, SOURCE = "T0BENCH", "U0AGENT", "C0SUPPORT"


def bot_env(standin_url: str, database_url: str) -> dict[str, str]:
    from bot.domain.brief import Destination

    return {
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": BOT_SECRET,
        "SLACK_API_URL": standin_url.rstrip("/") + "/api/",
        "DATABASE_URL": database_url,
        "ESCALATION_ENFORCE_TIERS": "false",
        "LOG_LEVEL": "WARNING",
        # Pacing off: it spaces posts to one channel by a second (Slack's limit, which the stand-in
        # does not enforce), so with it every brief here would wait for its channel's slot and the
        # figures would show the pacer (1 brief/s), not the bot's own cost. See results.md.
        "ESCALATION_POST_INTERVAL": "0",
        "PYTHONPATH": str(ROOT),
        **{f"ESCALATION_CHANNEL_{d.name}": ("G0BENCH" if d is Destination.SECURITY else f"C0BENCH{d.name[:3]}") for d in Destination},
    }


def start_bot(
    pg: ProcessGroups, standin_url: str, workdir: Path, *, log_name: str = "bot.log", brief_processes: int = 0, database_url: str | None = None
) -> tuple[subprocess.Popen, int, float]:
    """`python -m bot run --http` in its own process group; returns (process, port, seconds to healthy)."""
    port = find_free_port()
    env = {**bot_env(standin_url, database_url or f"sqlite:///{workdir / 'bench.db'}"), "ESCALATION_BRIEF_PROCESSES": str(brief_processes)}
    started = time.monotonic()
    with open(workdir / log_name, "wb") as log:
        proc = pg.start(
            [PY, "-m", "bot", "run", "--http", "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=workdir
        )  # cwd: no stray .env
    wait_healthy(port, proc)
    return proc, port, time.monotonic() - started


def wait_healthy(port: int, proc: subprocess.Popen, timeout_s: float = 30.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the bot exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError("the bot was not healthy in time")


def worker_pids(pid: int) -> list[int]:
    """The brief worker processes of the bot `pid` (ESCALATION_BRIEF_PROCESSES), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if (
                entry.name.isdigit()
                and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid
                and b"spawn_main" in (entry / "cmdline").read_bytes()
            ):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- Requests the bot gets (built before a phase, so the senders only sign and send) -------------


def submission_template() -> tuple[dict, dict]:
    """The brief modal as the bot renders it for Support L2, and a whole brief's state values."""
    from blocks.brief_modal import ModalContext, brief_modal
    from bot.domain.brief import Destination
    from tests.factories import draft

    view = brief_modal(destination=Destination.SUPPORT_L2, context=ModalContext(source_channel_id=SOURCE))
    values = draft(Destination.SUPPORT_L2, now=datetime.now(UTC))
    return view, values


def bot_command_builder(run_id: str):
    from tests.support.slack_requests import slash_command

    def build(i: int):
        key = f"benchkey-{run_id}.cmd.{i}"
        body, _ = slash_command("/escalate", "", user_id=AGENT, team_id=TEAM, channel_id=SOURCE, trigger_id=key)
        raw = body.encode()
        return key, raw, sign_headers(BOT_SECRET, raw)

    return build


def varied_briefs(n: int, seed: int = 3) -> list[tuple[str, str]]:
    """(summary, narrative) pairs as varied as real briefs: pattern_matching.py's synthetic pool.
    Identical briefs would all match each other, the pattern matcher's worst case, not a workload."""
    import random

    from pattern_matching import synthetic_pool

    summaries, sentences, _vocabulary, _weights = synthetic_pool()
    rng = random.Random(seed)
    return [(rng.choice(summaries)[0], " ".join(rng.sample(sentences, 4)).capitalize() + ".") for _ in range(n)]


def bot_submission_builder(run_id: str, template: tuple[dict, dict], n: int, varied: list[tuple[str, str]]):
    """n submissions, each its own modal (view id) and a summary carrying the correlation key."""
    from tests.e2e import state_for
    from tests.support.slack_requests import view_submission

    view, values = template
    bodies = []
    for i in range(n):
        key = f"benchkey-{run_id}.sub.{i}"
        summary, narrative = varied[i % len(varied)]
        v = {**view, "id": f"V{run_id}{i}".replace(".", "")[-40:]}
        body, _ = view_submission(v, state_for(v, {**values, "summary": f"{key} {summary}"[:140], "narrative": narrative}), user_id=AGENT, team_id=TEAM)
        bodies.append((key, body.encode()))

    def build(i: int):
        key, raw = bodies[i]
        return key, raw, sign_headers(BOT_SECRET, raw)  # signed when sent: timestamps stay fresh

    return build


def result_paced(standin_url: str, method: str):
    """A closed loop whose senders, like agents, wait for their brief to be posted before the next."""

    async def loop(session, url, build, n: int, concurrency: int):
        indices = iter(range(n))
        samples: list = [None] * n

        async def sender() -> None:
            for i in indices:
                key, body, headers = build(i)
                sent = time.monotonic()
                try:
                    async with session.post(url, data=body, headers=headers) as resp:
                        await resp.read()
                        status = str(resp.status)
                except Exception as exc:  # counted, not fatal
                    status = type(exc).__name__
                samples[i] = Sample(key, sent, (time.monotonic() - sent) * 1000.0, status)
                async with session.post(f"{standin_url.rstrip('/')}/_bench/wait", json={"method": method, "key": key, "timeout": 30}) as w:
                    await w.read()

        started = time.monotonic()
        await asyncio.gather(*(sender() for _ in range(concurrency)))
        return [s for s in samples if s is not None], time.monotonic() - started

    return loop


def builders(app: str, run_id: str, n: int, template, varied):
    """(command builder, submission builder) for the bot or the minimal app; keys carry BENCH_KEY.

    The load generator's garbage is collected here, between phases: building 500 of the bot's 33 KB
    submissions leaves enough behind that a collection in the next phase paused every sender for
    ~1 s, and that pause was counted as the bot's ack latency (automatic collection is off in the
    load generator, see loadgen_main)."""
    if app == "minimal":
        built = command_builder(f"benchkey-{run_id}", SIGNING_SECRET), submission_builder(f"benchkey-{run_id}", SIGNING_SECRET)
    else:
        built = bot_command_builder(run_id), bot_submission_builder(run_id, template, n, varied)
    gc.collect()
    return built


async def run_bot_plan(plan: dict[str, Any]) -> dict[str, Any]:
    """rig.load.run_plan's phases for either app, plus submissions paced by their posts."""
    import aiohttp

    app, run_id, n = plan.get("app", "bot"), plan["run_id"], plan["requests"]
    max_c = max(plan["concurrency"] or [10])
    template, varied = (submission_template(), varied_briefs(1000)) if app == "bot" else (None, None)
    connector = aiohttp.TCPConnector(limit=max_c * 2, keepalive_timeout=KEEPALIVE_SECONDS - 5)
    phases = []
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        standin = StandinClient(session, plan["standin_url"])
        meter = CpuMeter(plan.get("pgids", {}))
        target = plan["target_url"]
        warm = plan.get("warmup", 0)
        if warm:
            cmd, sub = builders(app, f"{run_id}.warm", warm, template, varied)
            await closed_loop(session, target, cmd, warm, max_c)
            samples, _ = await closed_loop(session, target, sub, warm, max_c)
            await standin.take("chat.postMessage", [s.key for s in samples], 60)
            await standin.take("views.open", [cmd(i)[0] for i in range(warm)], 5)
        for c in plan["concurrency"]:
            cmd, sub = builders(app, f"{run_id}.c{c}", n, template, varied)
            phases.append(await run_phase(session, standin, meter, label="/escalate", url=target, build=cmd, n=n, concurrency=c, downstream="views.open"))
            phases.append(
                await run_phase(
                    session,
                    standin,
                    meter,
                    label="submission",
                    url=target,
                    build=sub,
                    n=n,
                    concurrency=c,
                    downstream="chat.postMessage",
                    downstream_timeout_s=120,
                )
            )
            _cmd, paced = builders(app, f"{run_id}.p{c}", n, template, varied)
            phases.append(
                await run_phase(
                    session,
                    standin,
                    meter,
                    label="submission paced",
                    url=target,
                    build=paced,
                    n=n,
                    concurrency=c,
                    downstream="chat.postMessage",
                    downstream_timeout_s=60,
                    loop=result_paced(plan["standin_url"], "chat.postMessage"),
                )
            )
        # Footprint (benchmarks/footprint.py): more briefs in chunks, each posted before the next, so
        # memory is read in a steady state rather than with a backlog of queued work.
        extra = plan.get("briefs_total", 0) - n * 2 * len(plan["concurrency"]) - warm
        done, missing, statuses, started = 0, 0, {}, time.monotonic()
        while done < extra:
            chunk = min(200, extra - done)
            _cmd, sub = builders(app, f"{run_id}.bulk{done}", chunk, template, varied[done % 1000 :] + varied[: done % 1000])
            samples, _ = await closed_loop(session, target, sub, chunk, 10)
            posted = await standin.take("chat.postMessage", [s.key for s in samples], 60)
            missing += chunk - len(posted)  # reported, not fatal: the log findings say why
            for sample in samples:
                statuses[sample.status] = statuses.get(sample.status, 0) + 1
            done += chunk
        if extra > 0:
            phases.append({"phase": "bulk", "n": done, "missing": missing, "status": statuses, "rps": round(done / (time.monotonic() - started), 1)})
    return {"phases": phases}


def loadgen_main(argv: Sequence[str]) -> None:
    _install_uvloop()
    gc.disable()  # collected between phases only (builders): a pause here would be charged to the app measured
    sys.stdout.write(json.dumps(asyncio.run(run_bot_plan(json.loads(argv[0])))) + "\n")


def run_bot_loadgen(pg: ProcessGroups, plan: dict[str, Any], timeout_s: float) -> dict[str, Any]:
    proc = pg.start([PY, str(Path(__file__).resolve()), "_loadgen", json.dumps(plan)], stdout=subprocess.PIPE)
    try:
        out, _ = proc.communicate(timeout=timeout_s)
    finally:
        pg.stop(proc)
    if proc.returncode != 0:
        raise RuntimeError(f"load generator exited with {proc.returncode}")
    return json.loads(out.decode().strip().splitlines()[-1])


# --- Orchestration and report --------------------------------------------------------------------


def start_minimal(pg: ProcessGroups, standin_url: str, workdir: Path) -> tuple[subprocess.Popen, int]:
    """serving_stacks' minimal AsyncApp (ack, then the API call in a task) on uvicorn + Starlette."""
    stack = next(s for s in default_stacks() if s.name == MINIMAL_STACK).with_env("+task", BENCH_PATTERN="task")
    port = find_free_port()
    env = {"BENCH_STANDIN_URL": standin_url, "BENCH_SIGNING_SECRET": SIGNING_SECRET, **dict(stack.env)}
    print(f"[minimal] {stack.display_command(port)}", file=sys.stderr, flush=True)
    with open(workdir / "minimal.log", "wb") as log:
        proc = pg.start(stack.command(port), env=env, stdout=log, stderr=subprocess.STDOUT, cwd=BENCH_DIR)
    wait_http_ready(port, proc)
    return proc, port


def drive(
    pg: ProcessGroups,
    app: str,
    proc: subprocess.Popen,
    port: int,
    standin_proc: subprocess.Popen,
    standin_url: str,
    *,
    requests: int,
    concurrency: list[int],
    warmup: int,
    briefs_total: int = 0,
) -> dict[str, Any]:
    plan = {
        "app": app,
        "run_id": f"{app[0]}{os.getpid()}{time.time_ns() % 10**9}",
        "target_url": f"http://127.0.0.1:{port}/slack/events",
        "standin_url": standin_url,
        "requests": requests,
        "concurrency": concurrency,
        "warmup": warmup,
        "pgids": {"app": proc.pid, "standin": standin_proc.pid},
        "briefs_total": briefs_total,
    }
    return run_bot_loadgen(pg, plan, timeout_s=1800)


def run_bot(
    pg: ProcessGroups,
    standin_proc: subprocess.Popen,
    standin_url: str,
    workdir: Path,
    *,
    requests: int,
    concurrency: list[int],
    warmup: int,
    briefs_total: int = 0,
    brief_processes: int = 0,
    postgres_url: str | None = None,
) -> dict[str, Any]:
    """Start the bot, drive it, stop it; returns its phases, start-up time and resident sizes
    (rss_*_mb: the serving process; workers_rss_*_mb: its brief worker processes, summed)."""
    engine = "PostgreSQL" if postgres_url else "SQLite"
    print(f"[bot] python -m bot run --http ({engine}, ESCALATION_BRIEF_PROCESSES={brief_processes})", file=sys.stderr, flush=True)
    (workdir / "bench.db").unlink(missing_ok=True)
    with fresh_database(postgres_url) as database_url:
        return _run_bot(
            pg,
            standin_proc,
            standin_url,
            workdir,
            requests=requests,
            concurrency=concurrency,
            warmup=warmup,
            briefs_total=briefs_total,
            brief_processes=brief_processes,
            database_url=database_url,
        )


@contextlib.contextmanager
def fresh_database(postgres_url: str | None):
    """None (the bot's SQLite file in the work directory), or an empty schema of `postgres_url`, dropped after."""
    if not postgres_url:
        yield None
        return
    from tests.support.postgres import fresh_schema

    with fresh_schema(postgres_url, prefix="bench_") as url:
        yield url


def _run_bot(
    pg: ProcessGroups,
    standin_proc: subprocess.Popen,
    standin_url: str,
    workdir: Path,
    *,
    requests: int,
    concurrency: list[int],
    warmup: int,
    briefs_total: int,
    brief_processes: int,
    database_url: str | None,
) -> dict[str, Any]:
    proc, port, startup_s = start_bot(
        pg, standin_url, workdir, log_name=f"bot{brief_processes}.log", brief_processes=brief_processes, database_url=database_url
    )
    try:
        rss_start = rss_mb(proc.pid)
        workers_start = sum(rss_mb(p) for p in worker_pids(proc.pid))
        out = drive(pg, "bot", proc, port, standin_proc, standin_url, requests=requests, concurrency=concurrency, warmup=warmup, briefs_total=briefs_total)
        rss_end = rss_mb(proc.pid)
        workers_end = sum(rss_mb(p) for p in worker_pids(proc.pid))
    finally:
        pg.stop(proc)
    bulk = next((p for p in out["phases"] if p["phase"] == "bulk"), None)
    return {
        "phases": [p for p in out["phases"] if p["phase"] != "bulk"],
        "startup_s": startup_s,
        "rss_start_mb": rss_start,
        "rss_end_mb": rss_end,
        "workers_rss_start_mb": workers_start,
        "workers_rss_end_mb": workers_end,
        "briefs_handled": warmup + 2 * requests * len(concurrency) + (bulk["n"] if bulk else 0),
        "bulk_rps": bulk["rps"] if bulk else None,
        "bulk_missing": bulk.get("missing", 0) if bulk else 0,
        "bulk_status": bulk.get("status", {}) if bulk else {},
        "log_findings": scan_log(workdir / f"bot{brief_processes}.log"),
    }


def measure(
    requests: int,
    concurrency: list[int],
    warmup: int,
    api_latency_ms: float = 0.0,
    configs: Sequence[int] = (0, 1),
    postgres_url: str | None = None,
    repeat: int = 1,
) -> dict[str, Any]:
    """Minimal app, then the bot once per number of brief worker processes in `configs`; same stand-in,
    same load. `repeat` > 1: the whole round again (fresh processes, a new database), samples pooled
    per phase: a p99 of 500 samples is its 5 slowest, and one stall of either app moves the ratio."""
    minimal_runs: list[list[dict]] = []
    bot_runs: dict[int, list[dict]] = {n: [] for n in configs}
    with tempfile.TemporaryDirectory(prefix="bot-vs-bolt-") as tmp, ProcessGroups() as pg:
        workdir = Path(tmp)
        standin_proc, standin_url = start_standin(pg, api_latency_ms)
        for i in range(repeat):
            if repeat > 1:
                print(f"(round {i + 1}/{repeat})", file=sys.stderr, flush=True)
            proc, port = start_minimal(pg, standin_url, workdir)
            try:
                minimal_runs.append(
                    drive(pg, "minimal", proc, port, standin_proc, standin_url, requests=requests, concurrency=concurrency, warmup=warmup)["phases"]
                )
            finally:
                pg.stop(proc)
            for n in configs:
                bot_runs[n].append(
                    run_bot(
                        pg,
                        standin_proc,
                        standin_url,
                        workdir,
                        requests=requests,
                        concurrency=concurrency,
                        warmup=warmup,
                        brief_processes=n,
                        postgres_url=postgres_url,
                    )
                )
    return {
        "minimal": pooled(minimal_runs),
        "bots": {n: pooled([b["phases"] for b in runs]) for n, runs in bot_runs.items()},
        "log_findings": {k: v for runs in bot_runs.values() for b in runs for k, v in b["log_findings"].items()},
        "repeat": repeat,
    }


def pooled(runs: list[list[dict]]) -> list[dict]:
    """The phases of repeated runs, samples pooled (rig.report.merge_runs; each run's p99 kept)."""
    return runs[0] if len(runs) == 1 else merge_runs([StackResult(None, phases=phases) for phases in runs]).phases


def _p(phase: dict | None, key: str, q: float) -> float:
    return percentile(phase.get(key) or [], q) if phase else float("nan")


PHASES = (
    ("/escalate", "views.open", "/escalate → views.open"),
    ("submission", "chat.postMessage", "submission → post, senders paced by acks"),
    ("submission paced", "chat.postMessage", "submission → post, senders wait for their post"),
)


CONFIG_LABEL = {0: "as one process (the quickstart: `python -m bot run --http`)", 1: "with a brief worker process (`ESCALATION_BRIEF_PROCESSES=1`)"}


def report(result: dict[str, Any], concurrency: list[int], requests: int) -> str:
    ref = {(p["phase"], p["concurrency"]): p for p in result["minimal"]}
    repeat = result.get("repeat", 1)
    runs = f" × {repeat} rounds, pooled" if repeat > 1 else ""
    lines = [
        f"## The bot vs a minimal Bolt app ({requests} requests per phase{runs}, closed loop, uvicorn + Starlette for both, same stand-in)\n",
        "ms; (ratio) = bot ÷ minimal app. ack = request sent → HTTP response; → call = request sent → the Web API call reached the "
        "stand-in (views.open for the command, the brief's chat.postMessage for the submission). Senders paced by acks send the next "
        "request when the ack returns, faster than briefs can be stored and posted, so a backlog builds during the phase; senders "
        "that wait for their post are agents who submit again only once they see the result. The bot runs twice on a new database: "
        "as one process, then with its briefs stored and posted by a worker process.\n",
    ]
    for n, phases in result["bots"].items():
        bot = {(p["phase"], p["concurrency"]): p for p in phases}
        lines += [
            f"### The bot {CONFIG_LABEL.get(int(n), f'with {n} brief worker processes')}\n",
            "| C | request | ack p50 | ack p99 | → call p50 | → call p99 | req/s | minimal app: ack p99 / → call p99 / req/s | errors |",
            "|---:|---|---:|---:|---:|---:|---:|---|---|",
        ]
        for c in concurrency:
            for phase, _call, label in PHASES:
                b, m = bot.get((phase, c)), ref.get((phase, c))
                r = lambda key, q: _p(b, key, q) / _p(m, key, q) if _p(m, key, q) else float("nan")
                errs = {k: v for k, v in (b or {}).get("status", {}).items() if k != "200"}
                missing = (b or {}).get("downstream_missing", 0)
                lines.append(
                    f"| {c} | {label} | {_p(b, 'ack_ms', 50):.1f} ({r('ack_ms', 50):.1f}×) | {_p(b, 'ack_ms', 99):.1f} ({r('ack_ms', 99):.1f}×) | "
                    f"{_p(b, 'downstream_ms', 50):.1f} ({r('downstream_ms', 50):.1f}×) | {_p(b, 'downstream_ms', 99):.1f} ({r('downstream_ms', 99):.1f}×) | "
                    f"{(b or {}).get('rps', 0):.0f} ({(b or {}).get('rps', 0) / max((m or {}).get('rps', 1), 1e-9):.2f}×) | "
                    f"{_p(m, 'ack_ms', 99):.1f} / {_p(m, 'downstream_ms', 99):.1f} / {(m or {}).get('rps', 0):.0f} | "
                    f"{errs or ''}{f' {missing} calls missing' if missing else ''} |"
                )
        top = max(concurrency)
        verdict = lambda ok: "met" if ok else "MISSED"
        lines += ["", f"Targets at C={top}:"]
        for ph, _c, _l in PHASES:
            b99, m99 = _p(bot.get((ph, top)), "ack_ms", 99), _p(ref.get((ph, top)), "ack_ms", 99)
            spread = ""
            if repeat > 1:  # each round's own p99s: how much of the ratio is one round's stall
                spread = f"; each round: bot {(bot.get((ph, top)) or {}).get('runs_ack_p99')} vs {(ref.get((ph, top)) or {}).get('runs_ack_p99')} ms"
            lines.append(
                f"- p99 ack of {ph}: {b99:.1f} ms vs {m99:.1f} ms = {b99 / m99:.2f}× the minimal app (≤ 1.25×: {verdict(b99 <= 1.25 * m99)}; "
                f"< 300 ms: {verdict(b99 < 300)}{spread})"
            )
        for ph in ("submission", "submission paced"):
            post99 = _p(bot.get((ph, top)), "downstream_ms", 99)
            lines.append(f"- submission → post p99 ({ph}): {post99:.0f} ms (< 1 s: {verdict(post99 < 1000)})")
        lines.append("")
    if result["log_findings"]:
        lines.append("Bot log warnings: " + "; ".join(f"{k} ×{v}" for k, v in list(result["log_findings"].items())[:5]))
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    if argv and argv[0] == "_loadgen":
        loadgen_main(argv[1:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=500, help="requests per phase and concurrency level (default 500)")
    parser.add_argument("--concurrency", default="1,10,50")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--api-latency-ms", type=float, default=0.0, help="the stand-in answers after this delay (Slack: ~100-300 ms)")
    parser.add_argument("--brief-processes", default="0,1", help="bot configurations: ESCALATION_BRIEF_PROCESSES values (default 0,1)")
    parser.add_argument("--postgres", metavar="URL", help="run the bot on PostgreSQL (a fresh schema of URL, dropped after) instead of SQLite")
    parser.add_argument("--repeat", type=int, default=1, help="rounds (minimal app, then each bot configuration), samples pooled per phase")
    args = parser.parse_args(argv)
    concurrency = [int(c) for c in args.concurrency.split(",")]
    configs = [int(n) for n in args.brief_processes.split(",")]
    print(report(measure(args.requests, concurrency, args.warmup, args.api_latency_ms, configs, args.postgres, args.repeat), concurrency, args.requests))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Load generator (runs in its own process): closed-loop senders of signed requests.

Each sender sends its next request as soon as the previous answer is in; every request is a
`Sample` (send time, ack latency, status).  A phase also asks the stand-in when the Web API call
each request caused arrived, and meters the CPU of the watched process groups.

Started by `processes.run_loadgen` (not meant to be run by hand)::

    python -m rig.load '<json plan>'    # from benchmarks/; prints the result as one JSON line
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .payloads import BOT_TOKEN, SIGNING_SECRET, escalation_modal, postmessage_text, sign_headers, slash_command_body, view_submission_body
from .processes import KEEPALIVE_SECONDS, CpuMeter
from .report import _count, percentile
from .standin import StandinClient, _install_uvloop


@dataclass
class Sample:
    key: str
    sent: float  # time.monotonic() just before the request is handed to the pool
    ack_ms: float
    status: str  # HTTP status or exception class name


async def closed_loop(session, url: str, build: Callable[[int], tuple[str, bytes, dict]], n: int, concurrency: int) -> tuple[list[Sample], float]:
    """`concurrency` senders; each sends its next request as soon as the previous answer is in."""
    indices = iter(range(n))  # shared by all senders; safe, the loop is single-threaded
    samples: list[Sample | None] = [None] * n

    async def sender() -> None:
        for i in indices:
            key, body, headers = build(i)
            sent = time.monotonic()
            try:
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    status = str(resp.status)
            except Exception as exc:  # counted, not fatal: errors under load are a result
                status = type(exc).__name__
            samples[i] = Sample(key, sent, (time.monotonic() - sent) * 1000.0, status)

    started = time.monotonic()
    await asyncio.gather(*(sender() for _ in range(concurrency)))
    return [s for s in samples if s is not None], time.monotonic() - started


def command_builder(run_id: str, secret: str) -> Callable[[int], tuple[str, bytes, dict]]:
    def build(i: int):
        key = f"{run_id}.cmd.{i}"
        body = slash_command_body(trigger_id=key)
        return key, body, sign_headers(secret, body)

    return build


def submission_builder(run_id: str, secret: str) -> Callable[[int], tuple[str, bytes, dict]]:
    def build(i: int):
        key = f"{run_id}.sub.{i}"
        body = view_submission_body(key)
        return postmessage_text(key), body, sign_headers(secret, body)

    return build


def standin_direct_builder(run_id: str) -> Callable[[int], tuple[str, bytes, dict]]:
    """Hits the stand-in's views.open directly: the rig's own ceiling."""

    def build(i: int):
        key = f"{run_id}.direct.{i}"
        body = json.dumps({"trigger_id": key, "view": escalation_modal()}).encode()
        return key, body, {"Content-Type": "application/json", "Authorization": f"Bearer {BOT_TOKEN}"}

    return build


async def run_phase(
    session,
    standin: StandinClient,
    meter: CpuMeter,
    *,
    label: str,
    url: str,
    build,
    n: int,
    concurrency: int,
    downstream: str | None,
    downstream_timeout_s: float = 15.0,
    loop=None,
) -> dict[str, Any]:
    before = meter.snapshot()
    samples, wall = await (loop or closed_loop)(session, url, build, n, concurrency)
    cpu = meter.percent(before, meter.snapshot(), wall)
    result: dict[str, Any] = {
        "phase": label,
        "concurrency": concurrency,
        "n": len(samples),
        "wall_s": round(wall, 3),
        "rps": round(len(samples) / wall, 1),
        "ack_ms": [round(s.ack_ms, 3) for s in samples],
        "status": _count(s.status for s in samples),
        "cpu_pct": cpu,
    }
    if downstream:
        received = await standin.take(downstream, [s.key for s in samples], downstream_timeout_s)
        result["downstream"] = downstream
        result["downstream_ms"] = [round((received[s.key] - s.sent) * 1000.0, 3) for s in samples if s.key in received]
        result["downstream_missing"] = len(samples) - len(result["downstream_ms"])
    print(
        f"    {label:<11} c={concurrency:<3} {result['rps']:>7} req/s  ack p99 "
        f"{percentile(result['ack_ms'], 99):7.1f} ms  status {result['status']}  CPU % {cpu}",
        file=sys.stderr,
        flush=True,
    )
    return result


async def run_plan(plan: dict[str, Any]) -> dict[str, Any]:
    """Warm-up, then per concurrency level: N commands, then N view submissions."""
    import aiohttp

    secret = plan.get("secret", SIGNING_SECRET)
    run_id = plan["run_id"]
    max_c = max(plan["concurrency"])
    # limit=max_c: one pooled keep-alive connection per sender, never more.
    connector = aiohttp.TCPConnector(limit=max_c, keepalive_timeout=KEEPALIVE_SECONDS - 5)
    timeout = aiohttp.ClientTimeout(total=plan.get("request_timeout_s", 10.0))
    phases = []
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        standin = StandinClient(session, plan["standin_url"])
        meter = CpuMeter(plan.get("pgids", {}))
        target = plan.get("target_url")
        if target is None:  # self-test of the rig: stand-in only
            url = plan["standin_url"].rstrip("/") + "/api/views.open"
            for c in plan["concurrency"]:
                phases.append(
                    await run_phase(
                        session,
                        standin,
                        meter,
                        label="direct",
                        url=url,
                        build=standin_direct_builder(f"{run_id}.c{c}"),
                        n=plan["requests"],
                        concurrency=c,
                        downstream="views.open",
                    )
                )
            return {"phases": phases}

        calls_before = await standin.stats()
        warm = plan.get("warmup", 100)
        if warm:
            # Opens every pooled connection, pays auth.test, imports, JIT-less caches.
            await closed_loop(session, target, command_builder(f"{run_id}.warm", secret), warm, max_c)
            await closed_loop(session, target, submission_builder(f"{run_id}.warm", secret), warm, max_c)
            await standin.take("views.open", [f"{run_id}.warm.cmd.{i}" for i in range(warm)], 10)
            await standin.take("chat.postMessage", [postmessage_text(f"{run_id}.warm.sub.{i}") for i in range(warm)], 10)
        for c in plan["concurrency"]:
            phases.append(
                await run_phase(
                    session,
                    standin,
                    meter,
                    label="/escalate",
                    url=target,
                    build=command_builder(f"{run_id}.c{c}", secret),
                    n=plan["requests"],
                    concurrency=c,
                    downstream="views.open",
                )
            )
            phases.append(
                await run_phase(
                    session,
                    standin,
                    meter,
                    label="submission",
                    url=target,
                    build=submission_builder(f"{run_id}.c{c}", secret),
                    n=plan["requests"],
                    concurrency=c,
                    downstream="chat.postMessage",
                )
            )
        # Every Web API method the app called during this plan (e.g. auth.test once per worker).
        calls_after = await standin.stats()
        api_calls = {m: n - calls_before.get(m, 0) for m, n in calls_after.items() if n != calls_before.get(m, 0)}
    return {"phases": phases, "api_calls": api_calls}


def loadgen_main(argv: Sequence[str]) -> None:
    _install_uvloop()
    result = asyncio.run(run_plan(json.loads(argv[0])))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    loadgen_main(sys.argv[1:])

"""Stand-in Slack Web API (aiohttp, its own process, random free port).

It answers ``views.open`` / ``chat.postMessage`` / ``auth.test`` like Slack and records, per call,
the CLOCK_MONOTONIC time it was received.  That clock is system-wide on Linux, so the load
generator (another process) can subtract its own send timestamps from it.

Started by `processes.start_standin` (not meant to be run by hand)::

    python -m rig.standin [--port P] [--api-latency-ms MS]    # from benchmarks/; prints READY <port>
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import time
import urllib.parse
from collections.abc import Iterable, Sequence

from .payloads import BENCH_KEY

AUTH_TEST_RESPONSE = {
    "ok": True,
    "url": "https://bench.slack.com/",
    "team": "bench",
    "user": "escalation-brief",
    "team_id": "T1",
    "user_id": "UBOT",
    "bot_id": "B1",
    "is_enterprise_install": False,
}


def make_standin_app(api_latency_s: float = 0.0, *, ratelimit_channel: str | None = None, retry_after: int = 20):
    """aiohttp app faking the Web API; records receive times for correlation.

    Records are keyed by `trigger_id` (views.open), `text` (chat.postMessage) and `view_id`
    (views.update), and consumed through POST /_bench/take, so memory stays bounded across runs.
    `api_latency_s` delays responses (not the recorded receive time) to mimic
    real Slack round trips, which is what makes thread pools fill up.
    `ratelimit_channel`: every chat.postMessage into it is answered 429 with `Retry-After:
    retry_after` (counted as "429" in /_bench/stats, not recorded as posted).
    POST /hooks/{key} stands in for response_url: recorded as method "response_url" under `key`.
    """
    from aiohttp import web

    canned = {
        "views.open": json.dumps({"ok": True, "view": {"id": "V1"}}).encode(),
        "chat.postMessage": json.dumps({"ok": True, "channel": "C1", "ts": "1700000000.000100"}).encode(),
        "auth.test": json.dumps(AUTH_TEST_RESPONSE).encode(),
        # Slack's form for the canned post above, so the bot's permalink cache works as against Slack.
        "chat.getPermalink": json.dumps({"ok": True, "permalink": "https://bench.slack.com/archives/C1/p1700000000000100"}).encode(),
    }
    default = b'{"ok":true}'
    records: dict[str, dict[str, float]] = {"views.open": {}, "chat.postMessage": {}, "views.update": {}, "response_url": {}}
    counts: dict[str, int] = {}
    record_field = {"views.open": "trigger_id", "chat.postMessage": "text", "views.update": "view_id"}
    throttled = json.dumps({"ok": False, "error": "ratelimited"}).encode()
    waiters: dict[str, asyncio.Event] = {}

    async def api(request: web.Request) -> web.Response:
        received = time.monotonic()
        method = request.match_info["method"]
        counts[method] = counts.get(method, 0) + 1
        if method in record_field:
            raw = await request.read()
            # slack_sdk sends these two as JSON; accept form too for other clients.
            if request.content_type == "application/x-www-form-urlencoded":
                args = dict(urllib.parse.parse_qsl(raw.decode()))
            else:
                args = json.loads(raw or b"{}")
            if ratelimit_channel and method == "chat.postMessage" and args.get("channel") == ratelimit_channel:
                counts["429"] = counts.get("429", 0) + 1
                return web.Response(status=429, body=throttled, content_type="application/json", headers={"Retry-After": str(retry_after)})
            key = args.get(record_field[method])
            if key is not None:
                records[method][key] = received
                if key in waiters:
                    waiters.pop(key).set()
            # Apps that write their own text (the bot's brief) carry a key anywhere in the call;
            # the first call that carries it counts (the brief, not the agent's confirmation DM).
            for found in BENCH_KEY.findall(raw.decode(errors="replace")):
                records[method].setdefault(found, received)
                if found in waiters:
                    waiters.pop(found).set()
        if api_latency_s:
            await asyncio.sleep(api_latency_s)
        return web.Response(body=canned.get(method, default), content_type="application/json")

    async def hook(request: web.Request) -> web.Response:
        received = time.monotonic()
        await request.read()
        key = request.match_info["key"]
        records["response_url"][key] = received
        if key in waiters:
            waiters.pop(key).set()
        return web.Response(text="ok")

    async def take(request: web.Request) -> web.Response:
        req = await request.json()
        bucket = records[req["method"]]
        found = {k: bucket.pop(k) for k in req["keys"] if k in bucket}
        return web.json_response({"found": found})

    async def stats(_: web.Request) -> web.Response:
        return web.json_response({"counts": counts})

    async def wait(request: web.Request) -> web.Response:
        """Long-poll until a key was seen (a sender that waits for its brief to be posted)."""
        req = await request.json()
        if req["key"] not in records[req["method"]]:
            event = waiters.setdefault(req["key"], asyncio.Event())
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(event.wait(), req.get("timeout", 30))
        return web.json_response({"seen": req["key"] in records[req["method"]]})

    app = web.Application()
    app.router.add_route("*", "/api/{method}", api)
    app.router.add_post("/_bench/take", take)
    app.router.add_get("/_bench/stats", stats)
    app.router.add_post("/_bench/wait", wait)
    app.router.add_post("/hooks/{key}", hook)
    return app


def _install_uvloop() -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def standin_main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m rig.standin")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--api-latency-ms", type=float, default=0.0)
    parser.add_argument("--ratelimit-channel", help="answer every chat.postMessage into this channel 429")
    parser.add_argument("--retry-after", type=int, default=20, help="the Retry-After of those 429s (seconds)")
    args = parser.parse_args(argv)
    _install_uvloop()

    async def serve() -> None:
        from aiohttp import web

        app = make_standin_app(args.api_latency_ms / 1000.0, ratelimit_channel=args.ratelimit_channel, retry_after=args.retry_after)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, args.host, args.port, backlog=2048)
        await site.start()
        port = runner.addresses[0][1]
        print(f"READY {port}", flush=True)  # the orchestrator blocks on this line
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await runner.cleanup()

    asyncio.run(serve())


class StandinClient:
    """Load-generator side of the stand-in: fetch receive times for known keys."""

    def __init__(self, session, base_url: str):
        self.session = session
        self.base_url = base_url.rstrip("/")

    async def take(self, method: str, keys: Iterable[str], timeout_s: float) -> dict[str, float]:
        """Poll until every key was seen or timeout; missing keys are simply absent."""
        pending = set(keys)
        found: dict[str, float] = {}
        deadline = time.monotonic() + timeout_s
        while pending:
            async with self.session.post(f"{self.base_url}/_bench/take", json={"method": method, "keys": sorted(pending)}) as resp:
                got = (await resp.json())["found"]
            found.update(got)
            pending.difference_update(got)
            if not pending or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        return found

    async def stats(self) -> dict[str, int]:
        async with self.session.get(f"{self.base_url}/_bench/stats") as resp:
            return (await resp.json())["counts"]


if __name__ == "__main__":
    standin_main(sys.argv[1:])

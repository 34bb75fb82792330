#!/usr/bin/env python
"""Measure candidate HTTP serving stacks for the Bolt app, end to end.

Usage::

    python benchmarks/serving_stacks.py [--requests N] [--concurrency 1,10,50]
                                        [--stacks NAME,...] [--repeat R] [--no-variants]
                                        [--api-latency-ms MS] [--json-out FILE]
    python benchmarks/serving_stacks.py --list        # show candidate stacks

Needs, beyond the app's own dependencies: gunicorn, uvloop, httptools and
uvicorn-worker (for the gunicorn + UvicornWorker stack).

What one run does
-----------------
1. Starts a stand-in Slack Web API (aiohttp, own process, random free port).
   It answers ``views.open`` / ``chat.postMessage`` / ``auth.test`` like Slack
   and records, per call, the CLOCK_MONOTONIC time it was received.  That clock
   is system-wide on Linux, so the load generator (another process) can
   subtract its own send timestamps from it.
2. Self-tests stand-in + load generator without Bolt in between, so the table
   shows the ceiling of the measuring rig itself.
3. For every candidate stack: starts the server (gunicorn / uvicorn ...) in its
   own process group, loads a minimal Bolt app from *this module* (factories
   ``make_*_app`` below), warms it up, then runs a separate load-generator
   process that, for each concurrency level, sends N signed ``/escalate``
   slash commands and then N ``view_submission`` payloads, closed loop.
4. Re-runs the best async stacks (best "ack then call" one and best overall)
   and the best sync stack at the highest concurrency with a 2 ms blocking
   "DB call" after ``ack()`` (and, for async, the same call moved to a thread
   with ``asyncio.to_thread``).
5. Prints markdown tables; ``--json-out`` keeps raw per-request samples.
   With ``--repeat R`` every stack runs R times round-robin and the samples are
   pooled; the per-run p99s are printed too, because a shared 2-core machine
   is noisy.

Reading the numbers: with Bolt's default listener style an ack can't come
back in under ~10 ms, because Bolt polls for ``ack()`` every 10 ms (see
``AppConfig.pattern``).  At C=50 every stack is CPU-bound, so ack p50 is
roughly 50 / throughput (Little's law).

Everything the script starts runs in its own process group and is killed in
a ``finally`` block (also on Ctrl-C / SIGTERM).

Caveat worth keeping in mind when reading numbers: app server, stand-in and
load generator share the same cores.  The CPU columns show how much each one
used, so a saturated machine is visible rather than hidden.

Internal roles (started by the orchestrator, not meant to be run by hand)::

    python serving_stacks.py _standin [--port P] [--api-latency-ms MS]
    python serving_stacks.py _loadgen '<json plan>'
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import hashlib
import hmac
import importlib.metadata
import json
import logging
import math
import os
import re
import select
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

BENCH_DIR = Path(__file__).resolve().parent
MODULE = Path(__file__).stem  # what gunicorn / uvicorn import the app factories from
SLACK_PATH = "/slack/events"
SIGNING_SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-test"
MODAL_CALLBACK_ID = "escalate_modal"
BENCH_KEY = re.compile(r"benchkey-[A-Za-z0-9_.-]+")  # correlation key inside any Web API call's arguments
BLOCKING_CALL_SECONDS = 0.002  # a typical small synchronous DB round trip

# A realistic production keep-alive: longer than any gap between phases, so the
# load generator never races a server closing an idle pooled connection.
KEEPALIVE_SECONDS = 75


# ---------------------------------------------------------------------------
# Statistics helpers
# ---------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: every reported value was observed)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


# ---------------------------------------------------------------------------
# Slack request signing and payloads (what Slack itself would send)
# ---------------------------------------------------------------------------


def sign_headers(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack adds to every request: v0 HMAC-SHA256 over 'v0:{ts}:{raw body}'."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    basestring = b"v0:" + ts.encode() + b":" + body
    digest = hmac.new(secret.encode(), basestring, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }


def slash_command_body(trigger_id: str, command: str = "/escalate", text: str = "") -> bytes:
    """Form-encoded slash command; trigger_id doubles as the correlation key."""
    return urllib.parse.urlencode(
        {
            "token": "legacy-verification-token-unused",
            "team_id": "T1",
            "team_domain": "bench",
            "channel_id": "C1",
            "channel_name": "escalations",
            "user_id": "U1",
            "user_name": "bench",
            "command": command,
            "text": text,
            "api_app_id": "A1",
            "is_enterprise_install": "false",
            "response_url": "https://hooks.slack.com/commands/T1/1/bench",
            "trigger_id": trigger_id,
        }
    ).encode()


def view_submission_body(key: str, callback_id: str = MODAL_CALLBACK_ID) -> bytes:
    """Form-encoded `payload=<json>`; the summary input value doubles as correlation key."""
    payload = {
        "type": "view_submission",
        "team": {"id": "T1", "domain": "bench"},
        "user": {"id": "U1", "username": "bench", "name": "bench", "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy-verification-token-unused",
        "trigger_id": f"trig-{key}",
        "view": {
            "id": "V1",
            "team_id": "T1",
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": "",
            "hash": "1700000000.abcdef",
            "title": {"type": "plain_text", "text": "Escalate"},
            "blocks": [],
            "state": {"values": {"summary_block": {"summary": {"type": "plain_text_input", "value": key}}}},
            "app_id": "A1",
            "bot_id": "B1",
        },
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return urllib.parse.urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode()


def postmessage_text(key: str) -> str:
    """Text the view_submission listener posts; the stand-in indexes chat.postMessage by it."""
    return f"Escalation: {key}"


# ---------------------------------------------------------------------------
# Stand-in Slack Web API
# ---------------------------------------------------------------------------

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


def make_standin_app(api_latency_s: float = 0.0):
    """aiohttp app faking the Web API; records receive times for correlation.

    Records are keyed by `trigger_id` (views.open) and `text` (chat.postMessage)
    and consumed through POST /_bench/take, so memory stays bounded across runs.
    `api_latency_s` delays responses (not the recorded receive time) to mimic
    real Slack round trips, which is what makes thread pools fill up.
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
    records: dict[str, dict[str, float]] = {"views.open": {}, "chat.postMessage": {}}
    counts: dict[str, int] = {}
    record_field = {"views.open": "trigger_id", "chat.postMessage": "text"}
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
    return app


def _install_uvloop() -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def standin_main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(prog="serving_stacks.py _standin")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--api-latency-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    _install_uvloop()

    async def serve() -> None:
        from aiohttp import web

        runner = web.AppRunner(make_standin_app(args.api_latency_ms / 1000.0), access_log=None)
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
            async with self.session.post(
                f"{self.base_url}/_bench/take", json={"method": method, "keys": sorted(pending)}
            ) as resp:
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


# ---------------------------------------------------------------------------
# Bolt apps under test.  gunicorn / uvicorn import these factories from this
# module; configuration comes from BENCH_* environment variables so one
# factory serves every variant.
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AppConfig:
    standin_url: str  # e.g. http://127.0.0.1:1234 (the '/api/' suffix is added here)
    signing_secret: str = SIGNING_SECRET
    # "none" | "block" (time.sleep in the listener) | "to_thread" (async only)
    after_ack: str = "none"
    # "ack_then_call": one listener that acks then calls the API (Bolt's usual style).
    #     Bolt runs the listener in the background and polls every 10 ms until
    #     ack() was called, so an ack never returns in under ~10 ms.
    # "lazy": process_before_response=True + a Bolt lazy listener for the API
    #     call: the response goes out as soon as the ack function returns.
    #     Bolt deep-copies the request for lazy listeners, which fails for
    #     AsyncApp with a shared aiohttp session (the copy reaches the event loop).
    # "task" (async only): process_before_response=True; the listener acks and
    #     hands the API call to asyncio.create_task, same effect as "lazy"
    #     without the deep copy.
    pattern: str = "ack_then_call"
    listener_threads: int | None = None  # sync App listener_executor size (Bolt default: 5)
    shared_session: bool = True  # async only: one aiohttp.ClientSession per process

    @classmethod
    def from_env(cls) -> "AppConfig":
        threads = os.environ.get("BENCH_LISTENER_THREADS")
        return cls(
            standin_url=os.environ["BENCH_STANDIN_URL"],
            signing_secret=os.environ.get("BENCH_SIGNING_SECRET", SIGNING_SECRET),
            after_ack=os.environ.get("BENCH_AFTER_ACK", "none"),
            pattern=os.environ.get("BENCH_PATTERN", "ack_then_call"),
            listener_threads=int(threads) if threads else None,
            shared_session=os.environ.get("BENCH_SHARED_SESSION", "1") == "1",
        )

    @property
    def api_base_url(self) -> str:
        return self.standin_url.rstrip("/") + "/api/"


def escalation_modal() -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": MODAL_CALLBACK_ID,
        "title": {"type": "plain_text", "text": "Escalate"},
        "submit": {"type": "plain_text", "text": "Submit"},
        "blocks": [
            {
                "type": "input",
                "block_id": "summary_block",
                "label": {"type": "plain_text", "text": "Summary"},
                "element": {"type": "plain_text_input", "action_id": "summary"},
            }
        ],
    }


def _summary(view: dict[str, Any]) -> str:
    return view["state"]["values"]["summary_block"]["summary"]["value"]


def make_sync_bolt_app(cfg: AppConfig):
    from concurrent.futures import ThreadPoolExecutor

    from slack_bolt import App
    from slack_sdk import WebClient

    logging.basicConfig(level=logging.WARNING)
    if cfg.pattern == "task":
        raise ValueError("the 'task' pattern is AsyncApp-only; Bolt's 'lazy' works for the sync App")
    kwargs: dict[str, Any] = {}
    if cfg.listener_threads:
        # Bolt's default pool has 5 threads per process and runs both listeners
        # and lazy listeners.  The request thread polls until a pool thread has
        # run ack(), so with Slack's ~150 ms API calls holding pool threads,
        # 5 threads cap a process at ~33 requests/s whatever gunicorn's --threads.
        kwargs["listener_executor"] = ThreadPoolExecutor(max_workers=cfg.listener_threads)
    app = App(
        signing_secret=cfg.signing_secret,
        # The token lives on the client: passing token= as well only logs a warning.
        client=WebClient(token=BOT_TOKEN, base_url=cfg.api_base_url),
        # No auth.test at import time; Bolt still calls it (and caches the
        # result) on each worker's first request(s).
        token_verification_enabled=False,
        process_before_response=cfg.pattern == "lazy",
        **kwargs,
    )

    def blocking_work() -> None:
        if cfg.after_ack == "block":
            time.sleep(BLOCKING_CALL_SECONDS)

    def open_modal(body, client) -> None:
        blocking_work()
        client.views_open(trigger_id=body["trigger_id"], view=escalation_modal())

    def post_brief(view, client) -> None:
        blocking_work()
        client.chat_postMessage(channel="C1", text=postmessage_text(_summary(view)))

    def just_ack(ack) -> None:
        ack()

    if cfg.pattern == "lazy":
        app.command("/escalate")(ack=just_ack, lazy=[open_modal])
        app.view(MODAL_CALLBACK_ID)(ack=just_ack, lazy=[post_brief])
    else:

        @app.command("/escalate")
        def escalate(ack, body, client):
            ack()
            open_modal(body, client)

        @app.view(MODAL_CALLBACK_ID)
        def submitted(ack, view, client):
            ack()
            post_brief(view, client)

    return app


def make_async_bolt_app(cfg: AppConfig):
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    logging.basicConfig(level=logging.WARNING)
    app = AsyncApp(
        signing_secret=cfg.signing_secret,
        # The shared session is attached later (it must be created inside the
        # server's running event loop); Bolt copies app.client.session into
        # every per-request client, so setting it once is enough.
        client=AsyncWebClient(token=BOT_TOKEN, base_url=cfg.api_base_url),
        process_before_response=cfg.pattern in ("lazy", "task"),
    )
    # The loop keeps only weak references to tasks; without this set a
    # fire-and-forget API call could be garbage-collected mid-flight.
    background: set[asyncio.Task] = set()

    def spawn(coro) -> None:
        task = asyncio.create_task(coro)
        background.add(task)
        task.add_done_callback(_log_task_failure)
        task.add_done_callback(background.discard)

    async def blocking_work() -> None:
        if cfg.after_ack == "block":
            time.sleep(BLOCKING_CALL_SECONDS)  # deliberately blocks the event loop
        elif cfg.after_ack == "to_thread":
            await asyncio.to_thread(time.sleep, BLOCKING_CALL_SECONDS)

    async def open_modal(body, client) -> None:
        await blocking_work()
        await client.views_open(trigger_id=body["trigger_id"], view=escalation_modal())

    async def post_brief(view, client) -> None:
        await blocking_work()
        await client.chat_postMessage(channel="C1", text=postmessage_text(_summary(view)))

    async def just_ack(ack) -> None:
        await ack()

    if cfg.pattern == "lazy":
        app.command("/escalate")(ack=just_ack, lazy=[open_modal])
        app.view(MODAL_CALLBACK_ID)(ack=just_ack, lazy=[post_brief])
    elif cfg.pattern == "task":

        @app.command("/escalate")
        async def escalate_task(ack, body, client):
            await ack()
            spawn(open_modal(body, client))

        @app.view(MODAL_CALLBACK_ID)
        async def submitted_task(ack, view, client):
            await ack()
            spawn(post_brief(view, client))

    else:

        @app.command("/escalate")
        async def escalate(ack, body, client):
            await ack()
            await open_modal(body, client)

        @app.view(MODAL_CALLBACK_ID)
        async def submitted(ack, view, client):
            await ack()
            await post_brief(view, client)

    return app


def _log_task_failure(task: asyncio.Task) -> None:
    # Bolt's error handlers never see exceptions raised in our own tasks.
    if not task.cancelled() and task.exception() is not None:
        logging.getLogger(__name__).error("background API call failed", exc_info=task.exception())


async def _open_shared_session(bolt_app, cfg: AppConfig):
    if not cfg.shared_session:
        return None  # slack_sdk then opens (and closes) a session per API call
    import aiohttp

    session = aiohttp.ClientSession()
    bolt_app.client.session = session
    return session


class SharedSessionLifespan:
    """ASGI wrapper: opens the shared aiohttp session on lifespan startup.

    Bolt's bare ASGI adapter acknowledges lifespan events but has no hook for
    resources, so this wraps it instead of adding a framework.
    """

    def __init__(self, asgi_app, bolt_app, cfg: AppConfig):
        self.asgi_app = asgi_app
        self.bolt_app = bolt_app
        self.cfg = cfg
        self.session = None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "lifespan":
            return await self.asgi_app(scope, receive, send)
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.session = await _open_shared_session(self.bolt_app, self.cfg)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.session is not None:
                    await self.session.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def make_wsgi_app():
    """sync App behind Bolt's plain WSGI adapter (for gunicorn)."""
    from slack_bolt.adapter.wsgi import SlackRequestHandler

    return SlackRequestHandler(make_sync_bolt_app(AppConfig.from_env()), path=SLACK_PATH)


def make_asgi_async_app():
    """AsyncApp behind Bolt's bare ASGI adapter (for uvicorn / gunicorn+uvicorn-worker)."""
    from slack_bolt.adapter.asgi.async_handler import AsyncSlackRequestHandler

    cfg = AppConfig.from_env()
    bolt_app = make_async_bolt_app(cfg)
    return SharedSessionLifespan(AsyncSlackRequestHandler(bolt_app, path=SLACK_PATH), bolt_app, cfg)


def make_starlette_async_app():
    """AsyncApp behind Starlette (if the service needs more routes than /slack/events)."""
    from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
    from starlette.applications import Starlette
    from starlette.routing import Route

    cfg = AppConfig.from_env()
    bolt_app = make_async_bolt_app(cfg)
    handler = AsyncSlackRequestHandler(bolt_app)

    async def events(request):
        return await handler.handle(request)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        session = await _open_shared_session(bolt_app, cfg)
        try:
            yield
        finally:
            if session is not None:
                await session.close()

    return Starlette(routes=[Route(SLACK_PATH, events, methods=["POST"])], lifespan=lifespan)


def make_sync_starlette_app():
    """Known-bad reference: sync App.dispatch runs *on* the event loop."""
    from slack_bolt.adapter.starlette import SlackRequestHandler
    from starlette.applications import Starlette
    from starlette.routing import Route

    handler = SlackRequestHandler(make_sync_bolt_app(AppConfig.from_env()))

    async def events(request):
        return await handler.handle(request)

    return Starlette(routes=[Route(SLACK_PATH, events, methods=["POST"])])


def make_aiohttp_app():
    """AsyncApp as an aiohttp web.Application (for gunicorn's aiohttp worker)."""
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request

    cfg = AppConfig.from_env()
    bolt_app = make_async_bolt_app(cfg)

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt_app.async_dispatch(await to_bolt_request(request)))

    async def session_ctx(_app):
        session = await _open_shared_session(bolt_app, cfg)
        yield
        if session is not None:
            await session.close()

    web_app = web.Application()
    web_app.router.add_post(SLACK_PATH, events)
    web_app.cleanup_ctx.append(session_ctx)
    return web_app


# ---------------------------------------------------------------------------
# Candidate stacks
# ---------------------------------------------------------------------------

PY = sys.executable
_GUNICORN = [PY, "-m", "gunicorn", "--bind", "127.0.0.1:{port}", "--pythonpath", "{bench_dir}",
             "--keep-alive", str(KEEPALIVE_SECONDS), "--graceful-timeout", "5", "--log-level", "warning"]
_UVICORN = [PY, "-m", "uvicorn", "--host", "127.0.0.1", "--port", "{port}", "--app-dir", "{bench_dir}",
            "--timeout-keep-alive", str(KEEPALIVE_SECONDS), "--no-access-log", "--log-level", "warning",
            "--lifespan", "on"]
_UVLOOP = ["--loop", "uvloop", "--http", "httptools"]


@dataclass(frozen=True)
class Stack:
    name: str
    kind: str  # "sync" or "async": which Bolt App class the stack runs
    argv: tuple[str, ...]  # '{port}' and '{bench_dir}' are filled in at start
    env: tuple[tuple[str, str], ...] = ()  # BENCH_* app settings
    note: str = ""
    candidate: bool = True  # False: a reference/pitfall run, never "recommended"

    def command(self, port: int) -> list[str]:
        return [a.format(port=port, bench_dir=BENCH_DIR) for a in self.argv]

    def display_command(self, port: int | str = "$PORT") -> str:
        """Shell form a human would type (console scripts instead of python -m)."""
        args = [a.format(port=port, bench_dir=BENCH_DIR) for a in self.argv]
        if args[:2] == [PY, "-m"]:
            args = args[2:]
        env = " ".join(f"{k}={v}" for k, v in self.env)
        return (env + " " if env else "") + shlex.join(args)

    def with_env(self, suffix: str, **env: str) -> "Stack":
        merged = dict(self.env) | env
        return dataclasses.replace(self, name=self.name + suffix, env=tuple(sorted(merged.items())), candidate=False)


def default_stacks() -> list[Stack]:
    gthread = lambda w, t: (*_GUNICORN, "--worker-class", "gthread", "--workers", str(w), "--threads", str(t),
                            f"{MODULE}:make_wsgi_app()")  # noqa: E731
    uvicorn = lambda factory, w, extra=(): (*_UVICORN, "--workers", str(w), *extra, "--factory",
                                            f"{MODULE}:{factory}")  # noqa: E731
    return [
        Stack("sync-gthread-w2t16", "sync", gthread(2, 16), note="App + wsgi adapter, gunicorn gthread"),
        Stack("sync-gthread-w1t32", "sync", gthread(1, 32), note="App + wsgi adapter, gunicorn gthread"),
        Stack("sync-gthread-w2t16-pool32", "sync", gthread(2, 16), (("BENCH_LISTENER_THREADS", "32"),),
              note="as w2t16, listener_executor=ThreadPoolExecutor(32)"),
        Stack("sync-gthread-w2t16-lazy", "sync", gthread(2, 16), (("BENCH_PATTERN", "lazy"),),
              note="process_before_response=True, API call in lazy listener"),
        Stack("sync-starlette-uvicorn-w1", "sync", uvicorn("make_sync_starlette_app", 1, _UVLOOP),
              note="known-bad reference: sync App on the event loop", candidate=False),
        Stack("async-uvicorn-w1-asyncio", "async", uvicorn("make_asgi_async_app", 1, ("--loop", "asyncio", "--http", "h11")),
              note="AsyncApp + bare ASGI adapter, stdlib loop + h11"),
        Stack("async-uvicorn-w1", "async", uvicorn("make_asgi_async_app", 1, _UVLOOP),
              note="AsyncApp + bare ASGI adapter, uvloop + httptools"),
        Stack("async-uvicorn-w2", "async", uvicorn("make_asgi_async_app", 2, _UVLOOP),
              note="AsyncApp + bare ASGI adapter, uvloop + httptools"),
        Stack("async-gunicorn-uvicornworker-w2", "async",
              (*_GUNICORN, "--worker-class", "uvicorn_worker.UvicornWorker", "--workers", "2",
               f"{MODULE}:make_asgi_async_app()"),
              note="uvicorn-worker package (uvloop/httptools auto)"),
        Stack("async-starlette-uvicorn-w1", "async", uvicorn("make_starlette_async_app", 1, _UVLOOP),
              note="AsyncApp + Starlette async adapter"),
        Stack("async-aiohttp-gunicorn-w1", "async",
              (*_GUNICORN, "--worker-class", "aiohttp.GunicornUVLoopWebWorker", "--workers", "1",
               f"{MODULE}:make_aiohttp_app()"),
              note="AsyncApp in aiohttp.web under gunicorn"),
        Stack("async-uvicorn-w1-task", "async", uvicorn("make_asgi_async_app", 1, _UVLOOP), (("BENCH_PATTERN", "task"),),
              note="process_before_response=True, API call in asyncio.create_task"),
        Stack("async-uvicorn-w1-nosession", "async", uvicorn("make_asgi_async_app", 1, _UVLOOP),
              (("BENCH_SHARED_SESSION", "0"),), note="pitfall: aiohttp session per API call", candidate=False),
    ]


# ---------------------------------------------------------------------------
# Process management
# ---------------------------------------------------------------------------

_CLK_TCK = os.sysconf("SC_CLK_TCK")


def process_group_cpu_seconds(pgid: int) -> dict[int, float]:
    """user+system CPU per live member of a process group (gunicorn master + workers)."""
    per_pid: dict[int, float] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2 :].split()  # comm may contain spaces
        if int(fields[2]) == pgid:
            per_pid[int(entry.name)] = (int(fields[11]) + int(fields[12])) / _CLK_TCK
    return per_pid


def find_free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http_ready(port: int, proc: subprocess.Popen, timeout_s: float = 30.0) -> None:
    """Ready = any HTTP status line on GET; the Bolt route itself is exercised by warm-up."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(16).startswith(b"HTTP/"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server on port {port} not ready after {timeout_s}s")


class ProcessGroups:
    """Starts children in their own process groups and guarantees they die.

    Use as a context manager; `stop` is also safe to call early.
    """

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def __enter__(self) -> "ProcessGroups":
        return self

    def __exit__(self, *exc) -> None:
        for proc in reversed(self.procs):
            self.stop(proc)

    def start(self, argv: Sequence[str], *, env: dict[str, str] | None = None, stdout=None, stderr=None,
              cwd: Path | None = None) -> subprocess.Popen:
        proc = subprocess.Popen(
            list(argv), env={**os.environ, **(env or {})}, stdout=stdout, stderr=stderr, cwd=cwd,
            stdin=subprocess.DEVNULL, start_new_session=True,  # pgid == pid
        )
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen, grace_s: float = 8.0) -> None:
        pgid = proc.pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace_s)
        # Workers can outlive a master that died first; sweep the whole group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=2)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        if proc in self.procs:
            self.procs.remove(proc)


def _read_line(proc: subprocess.Popen, timeout_s: float) -> str:
    ready, _, _ = select.select([proc.stdout], [], [], timeout_s)
    if not ready:
        raise RuntimeError("timed out waiting for child output")
    return proc.stdout.readline().decode()


# ---------------------------------------------------------------------------
# Load generator (runs in its own process)
# ---------------------------------------------------------------------------


@dataclass
class Sample:
    key: str
    sent: float  # time.monotonic() just before the request is handed to the pool
    ack_ms: float
    status: str  # HTTP status or exception class name


async def closed_loop(session, url: str, build: Callable[[int], tuple[str, bytes, dict]], n: int,
                      concurrency: int) -> tuple[list[Sample], float]:
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


class CpuMeter:
    """CPU seconds per watched process group between two points in time."""

    def __init__(self, groups: dict[str, int]):
        self.groups = {**groups, "loadgen": os.getpgid(0)}

    def snapshot(self) -> dict[str, dict[int, float]]:
        return {name: process_group_cpu_seconds(pgid) for name, pgid in self.groups.items()}

    @staticmethod
    def percent(before, after, wall_s: float) -> dict[str, Any]:
        """Group totals, plus the per-process split of 'app' (shows worker imbalance)."""
        out: dict[str, Any] = {}
        for group, procs in after.items():
            used = {pid: secs - before[group].get(pid, 0.0) for pid, secs in procs.items()}
            out[group] = round(100.0 * sum(used.values()) / wall_s, 1)
            if group == "app":
                out["app_procs"] = sorted((round(100.0 * v / wall_s) for v in used.values() if v > 0), reverse=True)
        return out


async def run_phase(session, standin: StandinClient, meter: CpuMeter, *, label: str, url: str,
                    build, n: int, concurrency: int, downstream: str | None,
                    downstream_timeout_s: float = 15.0, loop=None) -> dict[str, Any]:
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
    print(f"    {label:<11} c={concurrency:<3} {result['rps']:>7} req/s  ack p99 "
          f"{percentile(result['ack_ms'], 99):7.1f} ms  status {result['status']}  CPU % {cpu}", file=sys.stderr, flush=True)
    return result


def _count(items: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return counts


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
                phases.append(await run_phase(session, standin, meter, label="direct", url=url,
                                              build=standin_direct_builder(f"{run_id}.c{c}"), n=plan["requests"],
                                              concurrency=c, downstream="views.open"))
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
            phases.append(await run_phase(session, standin, meter, label="/escalate", url=target,
                                          build=command_builder(f"{run_id}.c{c}", secret), n=plan["requests"],
                                          concurrency=c, downstream="views.open"))
            phases.append(await run_phase(session, standin, meter, label="submission", url=target,
                                          build=submission_builder(f"{run_id}.c{c}", secret), n=plan["requests"],
                                          concurrency=c, downstream="chat.postMessage"))
        # Every Web API method the app called during this plan (e.g. auth.test once per worker).
        calls_after = await standin.stats()
        api_calls = {m: n - calls_before.get(m, 0) for m, n in calls_after.items() if n != calls_before.get(m, 0)}
    return {"phases": phases, "api_calls": api_calls}


def loadgen_main(argv: Sequence[str]) -> None:
    _install_uvloop()
    result = asyncio.run(run_plan(json.loads(argv[0])))
    sys.stdout.write(json.dumps(result) + "\n")


# ---------------------------------------------------------------------------
# Orchestration
# ---------------------------------------------------------------------------


@dataclass
class StackResult:
    stack: Stack
    phases: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    log_findings: dict[str, int] = field(default_factory=dict)
    api_calls: dict[str, int] = field(default_factory=dict)

    def phase(self, label: str, concurrency: int) -> dict[str, Any] | None:
        return next((p for p in self.phases if p["phase"] == label and p["concurrency"] == concurrency), None)


def start_standin(pg: ProcessGroups, api_latency_ms: float) -> tuple[subprocess.Popen, str]:
    proc = pg.start([PY, str(Path(__file__).resolve()), "_standin", "--api-latency-ms", str(api_latency_ms)], stdout=subprocess.PIPE)
    line = _read_line(proc, 20)
    if not line.startswith("READY "):
        raise RuntimeError(f"stand-in failed to start: {line!r}")
    return proc, f"http://127.0.0.1:{int(line.split()[1])}"


def run_loadgen(pg: ProcessGroups, plan: dict[str, Any], timeout_s: float) -> dict[str, Any]:
    proc = pg.start([PY, str(Path(__file__).resolve()), "_loadgen", json.dumps(plan)], stdout=subprocess.PIPE)
    try:
        out, _ = proc.communicate(timeout=timeout_s)
    finally:
        pg.stop(proc)
    if proc.returncode != 0:
        raise RuntimeError(f"load generator exited with {proc.returncode}")
    return json.loads(out.decode().strip().splitlines()[-1])


def scan_log(path: Path) -> dict[str, int]:
    """Distinct WARNING/ERROR lines the server logged (e.g. 'Unhandled request', ack timeouts)."""
    findings: dict[str, int] = {}
    for line in path.read_text(errors="replace").splitlines():
        if "WARNING" in line or "ERROR" in line or "Traceback" in line:
            key = line.strip()[:160]
            findings[key] = findings.get(key, 0) + 1
    return findings


def run_stack(pg: ProcessGroups, stack: Stack, standin_url: str, standin_pgid: int, *, requests: int,
              concurrency: list[int], warmup: int, log_dir: Path) -> StackResult:
    port = find_free_port()
    env = {"BENCH_STANDIN_URL": standin_url, "BENCH_SIGNING_SECRET": SIGNING_SECRET, **dict(stack.env)}
    log_path = log_dir / f"{stack.name}.log"
    result = StackResult(stack)
    print(f"[{stack.name}] {stack.display_command(port)}", file=sys.stderr, flush=True)
    with open(log_path, "wb") as log:
        proc = pg.start(stack.command(port), env=env, stdout=log, stderr=subprocess.STDOUT, cwd=BENCH_DIR)
    try:
        wait_http_ready(port, proc)
        plan = {
            "run_id": f"{stack.name}.{os.getpid()}.{time.time_ns()}",
            "target_url": f"http://127.0.0.1:{port}{SLACK_PATH}",
            "standin_url": standin_url,
            "secret": SIGNING_SECRET,
            "requests": requests,
            "concurrency": concurrency,
            "warmup": warmup,
            "pgids": {"app": proc.pid, "standin": standin_pgid},
        }
        out = run_loadgen(pg, plan, timeout_s=120 + requests * len(concurrency) * 0.2)
        result.phases, result.api_calls = out["phases"], out["api_calls"]
    except Exception as exc:  # one broken stack must not hide the others' results
        result.error = f"{type(exc).__name__}: {exc}"
        print(f"[{stack.name}] FAILED: {result.error}", file=sys.stderr, flush=True)
    finally:
        pg.stop(proc)
        result.log_findings = scan_log(log_path)
    return result


def merge_runs(runs: list[StackResult]) -> StackResult:
    """Pool the samples of repeated runs of one stack.

    Pooling (rather than averaging percentiles) gives p99 more samples to stand
    on; each run's own p99 and throughput are kept to show the spread.
    """
    merged = StackResult(runs[0].stack)
    merged.error = "; ".join(r.error for r in runs if r.error) or None
    for r in runs:
        for line, n in r.log_findings.items():
            merged.log_findings[line] = merged.log_findings.get(line, 0) + n
        for method, n in r.api_calls.items():
            merged.api_calls[method] = merged.api_calls.get(method, 0) + n
    keys = list(dict.fromkeys((p["phase"], p["concurrency"]) for r in runs for p in r.phases))
    for label, c in keys:
        parts = [p for r in runs if (p := r.phase(label, c)) is not None]
        wall = sum(p["wall_s"] for p in parts)
        n = sum(p["n"] for p in parts)
        cpu = {g: round(sum(p["cpu_pct"][g] * p["wall_s"] for p in parts) / wall, 1)
               for g in parts[0]["cpu_pct"] if g != "app_procs"}
        if "app_procs" in parts[0]["cpu_pct"]:
            width = max(len(p["cpu_pct"]["app_procs"]) for p in parts)
            padded = [p["cpu_pct"]["app_procs"] + [0] * (width - len(p["cpu_pct"]["app_procs"])) for p in parts]
            cpu["app_procs"] = [round(sum(col) / len(col)) for col in zip(*padded)]
        phase: dict[str, Any] = {
            "phase": label, "concurrency": c, "n": n, "wall_s": round(wall, 3), "rps": round(n / wall, 1),
            "ack_ms": [v for p in parts for v in p["ack_ms"]],
            "status": _count(k for p in parts for k, v in p["status"].items() for _ in range(v)),
            "cpu_pct": cpu,
            "runs_ack_p99": [round(percentile(p["ack_ms"], 99), 1) for p in parts],
            "runs_rps": [p["rps"] for p in parts],
        }
        if "downstream" in parts[0]:
            phase["downstream"] = parts[0]["downstream"]
            phase["downstream_ms"] = [v for p in parts for v in p["downstream_ms"]]
            phase["downstream_missing"] = sum(p["downstream_missing"] for p in parts)
            phase["runs_downstream_p99"] = [round(percentile(p["downstream_ms"], 99), 1) for p in parts]
        merged.phases.append(phase)
    return merged


def pick_best(results: list[StackResult], kind: str, concurrency: int,
              pattern: str | None = None) -> StackResult | None:
    """Lowest /escalate ack p99 at `concurrency` among error-free candidates of one kind."""
    best, best_p99 = None, math.inf
    for r in results:
        p = r.phase("/escalate", concurrency)
        if r.error or not r.stack.candidate or r.stack.kind != kind or p is None:
            continue
        if pattern is not None and dict(r.stack.env).get("BENCH_PATTERN", "ack_then_call") != pattern:
            continue
        if set(p["status"]) != {"200"} or p.get("downstream_missing"):
            continue
        p99 = percentile(p["ack_ms"], 99)
        if p99 < best_p99:
            best, best_p99 = r, p99
    return best


# ---------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------


def _fmt(v: float) -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.1f}"


def _errors(p: dict[str, Any] | None) -> str:
    if p is None:
        return "n/a"
    bad = {k: v for k, v in p["status"].items() if k != "200"}
    if p.get("downstream_missing"):
        bad["no-API-call"] = p["downstream_missing"]
    return ", ".join(f"{k}×{v}" for k, v in bad.items()) or "0"


def _split(cpu: dict[str, Any]) -> str:
    procs = [p for p in cpu.get("app_procs", []) if p >= 1]
    return f" ({'+'.join(map(str, procs))})" if len(procs) > 1 else ""


def _cpu(p: dict[str, Any]) -> str:
    # /proc counts CPU in 10 ms ticks: a phase shorter than ~0.5 s gives noise.
    if p["wall_s"] < 0.5:
        return "n/a (phase < 0.5 s)"
    cpu = p["cpu_pct"]
    return f"{cpu.get('app', 0):.0f}{_split(cpu)}/{cpu.get('standin', 0):.0f}/{cpu.get('loadgen', 0):.0f}"


def results_table(results: list[StackResult]) -> str:
    head = ("| stack | C | /escalate ack p50 | ack p99 | req/s | cmd→views.open p50 | p99 "
            "| submit ack p50 | ack p99 | req/s | submit→postMessage p50 | p99 | errors | CPU% app/stand-in/loadgen |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        if r.error and not r.phases:
            lines.append(f"| {r.stack.name} | – | FAILED: {r.error} |" + " |" * 11)
            continue
        for c in sorted({p["concurrency"] for p in r.phases}):
            cmd, sub = r.phase("/escalate", c), r.phase("submission", c)
            lines.append(
                f"| {r.stack.name} | {c} "
                f"| {_fmt(percentile(cmd['ack_ms'], 50))} | {_fmt(percentile(cmd['ack_ms'], 99))} | {cmd['rps']:.0f} "
                f"| {_fmt(percentile(cmd['downstream_ms'], 50))} | {_fmt(percentile(cmd['downstream_ms'], 99))} "
                f"| {_fmt(percentile(sub['ack_ms'], 50))} | {_fmt(percentile(sub['ack_ms'], 99))} | {sub['rps']:.0f} "
                f"| {_fmt(percentile(sub['downstream_ms'], 50))} | {_fmt(percentile(sub['downstream_ms'], 99))} "
                f"| cmd {_errors(cmd)}; sub {_errors(sub)} "
                f"| {_cpu(cmd)} |"
            )
    return "\n".join(lines)


def requirement_table(results: list[StackResult], concurrency: int) -> str:
    """The later acceptance rule: ack p99 ≤ 1.25× fastest bare stack and < 300 ms; submit→post p99 < 1 s."""
    rows = []
    for r in results:
        cmd, sub = r.phase("/escalate", concurrency), r.phase("submission", concurrency)
        if cmd and sub:
            rows.append((r, percentile(cmd["ack_ms"], 99), percentile(sub["downstream_ms"], 99)))
    if not rows:
        return ""
    fastest = min(p99 for _, p99, _ in rows)
    out = [f"| stack (C={concurrency}) | /escalate ack p99 ms | × fastest | < 300 ms | per-run ack p99 | per-run req/s "
           f"| submit→postMessage p99 ms | < 1 s | per-run submit→postMessage p99 |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r, ack99, post99 in sorted(rows, key=lambda row: row[1]):
        ok = lambda b: "yes" if b else "**no**"  # noqa: E731
        cmd, sub = r.phase("/escalate", concurrency), r.phase("submission", concurrency)
        spread = lambda xs: " / ".join(f"{x:.0f}" for x in xs) if xs else "–"  # noqa: E731
        out.append(f"| {r.stack.name} | {ack99:.1f} | {ack99 / fastest:.2f} | {ok(ack99 < 300)} "
                   f"| {spread(cmd.get('runs_ack_p99'))} | {spread(cmd.get('runs_rps'))} "
                   f"| {_fmt(post99)} | {ok(post99 < 1000)} | {spread(sub.get('runs_downstream_p99'))} |")
    return "\n".join(out)


def versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for dist in ("slack_bolt", "slack_sdk", "aiohttp", "uvicorn", "uvicorn-worker", "gunicorn", "starlette",
                 "uvloop", "httptools", "h11"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=400, help="requests per phase and concurrency level")
    parser.add_argument("--concurrency", default="1,10,50", help="comma-separated closed-loop sender counts")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured requests of each type per stack")
    parser.add_argument("--stacks", default="", help="comma-separated stack names (default: all; see --list)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run every stack this many times (round-robin) and pool the samples")
    parser.add_argument("--no-variants", action="store_true", help="skip the 2 ms blocking-call variants")
    parser.add_argument("--variant-stacks", default="",
                        help="stacks for the blocking-call variants (default: best async + best sync)")
    parser.add_argument("--api-latency-ms", type=float, default=0.0,
                        help="stand-in response delay, to mimic Slack's own API latency (e.g. 150); "
                             "exposes thread-pool and connection-pool limits that a 0 ms stand-in hides")
    parser.add_argument("--json-out", type=Path, help="write raw samples and summaries here")
    parser.add_argument("--keep-logs", action="store_true", help="keep server logs (path printed)")
    parser.add_argument("--list", action="store_true", help="list candidate stacks and exit")
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    stacks = default_stacks()
    if args.list:
        for s in stacks:
            print(f"{s.name:<34} {s.kind:<5} {s.note}\n    {s.display_command()}")
        return 0
    if args.stacks:
        wanted = args.stacks.split(",")
        unknown = set(wanted) - {s.name for s in stacks}
        if unknown:
            raise SystemExit(f"unknown stacks: {', '.join(sorted(unknown))} (see --list)")
        stacks = [s for s in stacks if s.name in wanted]
    concurrency = [int(c) for c in args.concurrency.split(",")]
    top_c = max(concurrency)

    # SIGTERM must unwind through the finally blocks so children are killed too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    log_dir = Path(tempfile.mkdtemp(prefix="serving_stacks."))
    started = time.monotonic()
    results: list[StackResult] = []
    variant_results: list[StackResult] = []
    selftest: dict[str, Any] = {}
    try:
        with ProcessGroups() as pg:
            standin_proc, standin_url = start_standin(pg, args.api_latency_ms)
            print(f"stand-in Slack API at {standin_url}; logs in {log_dir}", file=sys.stderr)
            print("[rig self-test: load generator → stand-in views.open]", file=sys.stderr)
            selftest = run_loadgen(pg, {"run_id": f"self.{time.time_ns()}", "standin_url": standin_url,
                                        # More requests than a stack phase: the rig is ~5x faster, and
                                        # CPU% needs a phase well above the 10 ms clock tick.
                                        "requests": args.requests * 5, "concurrency": [top_c],
                                        "pgids": {"standin": standin_proc.pid}}, timeout_s=120)
            common = dict(requests=args.requests, warmup=args.warmup, log_dir=log_dir)

            def run_repeated(todo: list[Stack], levels: list[int]) -> list[StackResult]:
                # Round-robin over stacks, so slow drift of the (shared) machine
                # spreads over all stacks instead of penalising one.
                runs: dict[str, list[StackResult]] = {s.name: [] for s in todo}
                for i in range(args.repeat):
                    for stack in todo:
                        if args.repeat > 1:
                            print(f"(repeat {i + 1}/{args.repeat})", file=sys.stderr)
                        runs[stack.name].append(run_stack(pg, stack, standin_url, standin_proc.pid,
                                                          concurrency=levels, **common))
                return [merge_runs(r) for r in runs.values()]

            results = run_repeated(stacks, concurrency)

            if not args.no_variants:
                if args.variant_stacks:
                    bases = [s for s in default_stacks() if s.name in args.variant_stacks.split(",")]
                else:
                    # Best plain "ack then call" async stack (Bolt's usual listener
                    # style), best async overall, best sync.
                    picks = (pick_best(results, "async", top_c, "ack_then_call"), pick_best(results, "async", top_c),
                             pick_best(results, "sync", top_c))
                    bases = list({b.stack.name: b.stack for b in picks if b}.values())
                variants = []
                for base in bases:
                    variants.append(base.with_env("+block2ms", BENCH_AFTER_ACK="block"))
                    if base.kind == "async":
                        variants.append(base.with_env("+to_thread2ms", BENCH_AFTER_ACK="to_thread"))
                variant_results = run_repeated(variants, [top_c])
    finally:
        if not args.keep_logs:
            for p in log_dir.glob("*.log"):
                p.unlink()
            with contextlib.suppress(OSError):
                log_dir.rmdir()

    elapsed = time.monotonic() - started
    report(results, variant_results, selftest, concurrency, args, elapsed)
    if args.json_out:
        args.json_out.write_text(json.dumps({
            "versions": versions(), "args": {k: str(v) for k, v in vars(args).items()}, "selftest": selftest,
            "results": [{"stack": dataclasses.asdict(r.stack), "error": r.error, "phases": r.phases,
                         "log_findings": r.log_findings, "api_calls": r.api_calls} for r in results + variant_results],
        }, indent=1))
    return 0


def report(results, variant_results, selftest, concurrency, args, elapsed) -> None:
    top_c = max(concurrency)
    print(f"## Serving stacks: {args.requests} requests per phase × {args.repeat} run(s), closed loop, "
          f"stand-in API latency {args.api_latency_ms:g} ms, run took {elapsed:.0f} s\n")
    print("Versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()) + "\n")
    for p in selftest.get("phases", []):
        print(f"Rig ceiling (load generator → stand-in views.open, C={p['concurrency']}): {p['rps']:.0f} req/s, "
              f"p50 {percentile(p['ack_ms'], 50):.1f} ms, p99 {percentile(p['ack_ms'], 99):.1f} ms, "
              f"CPU% stand-in {p['cpu_pct'].get('standin', 0):.0f} / loadgen {p['cpu_pct'].get('loadgen', 0):.0f}\n")
    print("Latencies in ms. ack = request sent → HTTP response received; cmd→views.open and "
          "submit→postMessage = request sent → API call received by the stand-in. CPU% measured "
          "during the /escalate phase (200% = both cores).\n")
    print(results_table(results) + "\n")
    print(requirement_table(results, top_c) + "\n")
    if variant_results:
        print(f"### 2 ms blocking call after ack() (C={top_c})\n")
        print(results_table(variant_results) + "\n")
    print("### Command lines\n")
    for r in results + variant_results:
        print(f"- `{r.stack.name}`: `{r.stack.display_command()}`")
    findings = [(r.stack.name, line, n) for r in results + variant_results for line, n in r.log_findings.items()]
    if findings:
        print("\n### Server log warnings/errors\n")
        for name, line, n in findings[:40]:
            print(f"- {name}: {n}× `{line}`")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_standin":
        standin_main(sys.argv[2:])
    elif len(sys.argv) > 1 and sys.argv[1] == "_loadgen":
        loadgen_main(sys.argv[2:])
    else:
        sys.exit(main(sys.argv[1:]))

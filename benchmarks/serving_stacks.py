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

The measuring rig (stand-in, load generator, process groups, tables) is the
``rig`` package next to this script, shared with bot_vs_bolt.py and footprint.py;
this module holds the minimal apps, the candidate stacks and the command line.
Internal roles (started by the orchestrator, not meant to be run by hand)::

    python -m rig.standin [--port P] [--api-latency-ms MS]   # from benchmarks/
    python -m rig.load '<json plan>'                          # from benchmarks/
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rig.payloads import BOT_TOKEN, MODAL_CALLBACK_ID, SIGNING_SECRET, SLACK_PATH, escalation_modal, postmessage_text
from rig.processes import KEEPALIVE_SECONDS, PY, ProcessGroups, Stack, run_loadgen, run_stack, start_standin
from rig.report import StackResult, merge_runs, pick_best, report, versions

MODULE = Path(__file__).stem  # what gunicorn / uvicorn import the app factories from
BLOCKING_CALL_SECONDS = 0.002  # a typical small synchronous DB round trip


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
    def from_env(cls) -> AppConfig:
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

_GUNICORN = [
    PY,
    "-m",
    "gunicorn",
    "--bind",
    "127.0.0.1:{port}",
    "--pythonpath",
    "{bench_dir}",
    "--keep-alive",
    str(KEEPALIVE_SECONDS),
    "--graceful-timeout",
    "5",
    "--log-level",
    "warning",
]
_UVICORN = [
    PY,
    "-m",
    "uvicorn",
    "--host",
    "127.0.0.1",
    "--port",
    "{port}",
    "--app-dir",
    "{bench_dir}",
    "--timeout-keep-alive",
    str(KEEPALIVE_SECONDS),
    "--no-access-log",
    "--log-level",
    "warning",
    "--lifespan",
    "on",
]
_UVLOOP = ["--loop", "uvloop", "--http", "httptools"]


def default_stacks() -> list[Stack]:
    gthread = lambda w, t: (*_GUNICORN, "--worker-class", "gthread", "--workers", str(w), "--threads", str(t), f"{MODULE}:make_wsgi_app()")  # noqa: E731
    uvicorn = lambda factory, w, extra=(): (*_UVICORN, "--workers", str(w), *extra, "--factory", f"{MODULE}:{factory}")  # noqa: E731
    return [
        Stack("sync-gthread-w2t16", "sync", gthread(2, 16), note="App + wsgi adapter, gunicorn gthread"),
        Stack("sync-gthread-w1t32", "sync", gthread(1, 32), note="App + wsgi adapter, gunicorn gthread"),
        Stack(
            "sync-gthread-w2t16-pool32", "sync", gthread(2, 16), (("BENCH_LISTENER_THREADS", "32"),), note="as w2t16, listener_executor=ThreadPoolExecutor(32)"
        ),
        Stack("sync-gthread-w2t16-lazy", "sync", gthread(2, 16), (("BENCH_PATTERN", "lazy"),), note="process_before_response=True, API call in lazy listener"),
        Stack(
            "sync-starlette-uvicorn-w1",
            "sync",
            uvicorn("make_sync_starlette_app", 1, _UVLOOP),
            note="known-bad reference: sync App on the event loop",
            candidate=False,
        ),
        Stack(
            "async-uvicorn-w1-asyncio",
            "async",
            uvicorn("make_asgi_async_app", 1, ("--loop", "asyncio", "--http", "h11")),
            note="AsyncApp + bare ASGI adapter, stdlib loop + h11",
        ),
        Stack("async-uvicorn-w1", "async", uvicorn("make_asgi_async_app", 1, _UVLOOP), note="AsyncApp + bare ASGI adapter, uvloop + httptools"),
        Stack("async-uvicorn-w2", "async", uvicorn("make_asgi_async_app", 2, _UVLOOP), note="AsyncApp + bare ASGI adapter, uvloop + httptools"),
        Stack(
            "async-gunicorn-uvicornworker-w2",
            "async",
            (*_GUNICORN, "--worker-class", "uvicorn_worker.UvicornWorker", "--workers", "2", f"{MODULE}:make_asgi_async_app()"),
            note="uvicorn-worker package (uvloop/httptools auto)",
        ),
        Stack("async-starlette-uvicorn-w1", "async", uvicorn("make_starlette_async_app", 1, _UVLOOP), note="AsyncApp + Starlette async adapter"),
        Stack(
            "async-aiohttp-gunicorn-w1",
            "async",
            (*_GUNICORN, "--worker-class", "aiohttp.GunicornUVLoopWebWorker", "--workers", "1", f"{MODULE}:make_aiohttp_app()"),
            note="AsyncApp in aiohttp.web under gunicorn",
        ),
        Stack(
            "async-uvicorn-w1-task",
            "async",
            uvicorn("make_asgi_async_app", 1, _UVLOOP),
            (("BENCH_PATTERN", "task"),),
            note="process_before_response=True, API call in asyncio.create_task",
        ),
        Stack(
            "async-uvicorn-w1-nosession",
            "async",
            uvicorn("make_asgi_async_app", 1, _UVLOOP),
            (("BENCH_SHARED_SESSION", "0"),),
            note="pitfall: aiohttp session per API call",
            candidate=False,
        ),
    ]


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=400, help="requests per phase and concurrency level")
    parser.add_argument("--concurrency", default="1,10,50", help="comma-separated closed-loop sender counts")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured requests of each type per stack")
    parser.add_argument("--stacks", default="", help="comma-separated stack names (default: all; see --list)")
    parser.add_argument("--repeat", type=int, default=1, help="run every stack this many times (round-robin) and pool the samples")
    parser.add_argument("--no-variants", action="store_true", help="skip the 2 ms blocking-call variants")
    parser.add_argument("--variant-stacks", default="", help="stacks for the blocking-call variants (default: best async + best sync)")
    parser.add_argument(
        "--api-latency-ms",
        type=float,
        default=0.0,
        help="stand-in response delay, to mimic Slack's own API latency (e.g. 150); exposes thread-pool and connection-pool limits that a 0 ms stand-in hides",
    )
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
            selftest = run_loadgen(
                pg,
                {
                    "run_id": f"self.{time.time_ns()}",
                    "standin_url": standin_url,
                    # More requests than a stack phase: the rig is ~5x faster, and
                    # CPU% needs a phase well above the 10 ms clock tick.
                    "requests": args.requests * 5,
                    "concurrency": [top_c],
                    "pgids": {"standin": standin_proc.pid},
                },
                timeout_s=120,
            )
            common = dict(requests=args.requests, warmup=args.warmup, log_dir=log_dir)

            def run_repeated(todo: list[Stack], levels: list[int]) -> list[StackResult]:
                # Round-robin over stacks, so slow drift of the (shared) machine
                # spreads over all stacks instead of penalising one.
                runs: dict[str, list[StackResult]] = {s.name: [] for s in todo}
                for i in range(args.repeat):
                    for stack in todo:
                        if args.repeat > 1:
                            print(f"(repeat {i + 1}/{args.repeat})", file=sys.stderr)
                        runs[stack.name].append(run_stack(pg, stack, standin_url, standin_proc.pid, concurrency=levels, **common))
                return [merge_runs(r) for r in runs.values()]

            results = run_repeated(stacks, concurrency)

            if not args.no_variants:
                if args.variant_stacks:
                    bases = [s for s in default_stacks() if s.name in args.variant_stacks.split(",")]
                else:
                    # Best plain "ack then call" async stack (Bolt's usual listener
                    # style), best async overall, best sync.
                    picks = (pick_best(results, "async", top_c, "ack_then_call"), pick_best(results, "async", top_c), pick_best(results, "sync", top_c))
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
        args.json_out.write_text(
            json.dumps(
                {
                    "versions": versions(),
                    "args": {k: str(v) for k, v in vars(args).items()},
                    "selftest": selftest,
                    "results": [
                        {"stack": dataclasses.asdict(r.stack), "error": r.error, "phases": r.phases, "log_findings": r.log_findings, "api_calls": r.api_calls}
                        for r in results + variant_results
                    ],
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

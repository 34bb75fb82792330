"""The Web API client of the use cases, the scheduler's tick, the brief workers and the CLI.

Those callers are synchronous code on worker threads, several at once; the use cases stay
synchronous so the same code runs on the serving process's threads, in a brief worker process and
in the CLI. So this is a synchronous client, built only from supported APIs: slack_sdk's
`AsyncWebClient` on an `aiohttp.ClientSession` whose connector keeps connections to Slack open and
reuses them. Each thread that calls Slack gets its own event loop and session, made at its first
call, and runs each call to completion on it (`loop.run_until_complete`): the calling thread does its
own I/O, as a sync client would, with its own kept-open connections.

Why not slack_sdk's sync `WebClient`: it sends each call through urllib's `urlopen`, a new TCP and
TLS connection per call (~13% of the bot's CPU under load, benchmarks/results.md). Keeping its
connections open meant replacing one of its private functions, which any slack_sdk release may
change (issue 17). Everything here is public: AsyncWebClient's constructor (`session`, `timeout`,
`retry_handlers`, `ssl`) and typed methods, aiohttp's session and connector, asyncio.
Why a loop per thread rather than one loop thread serving every thread: with one, each call crossed
threads three times, and in the brief worker (8 threads busy rendering and storing) the loop thread
waited for the GIL at each step: 15-20 % fewer briefs posted a second in benchmarks/bot_vs_bolt.py.
That shared loop thread is still used for a call made on a thread whose event loop is running
(a listener calling synchronously, which blocks its loop anyway): its own loop cannot be re-entered.

What each call does:
- retries: only connection errors, by slack_sdk's `AsyncConnectionErrorRetryHandler`. A 429 is never
  waited out here: it is answered at once as `SlackApiError` (status 429, `Retry-After` in its
  headers), and the caller re-queues the work for after Retry-After (bot.slack_api.gateway);
- `timeout` bounds the whole call, retries included; on expiry the request is cancelled (its
  connection closed, never reused) and `TimeoutError` raised;
- a kept connection is reused while idle less than KEEP_ALIVE_SECONDS and not closed by the server
  (a thread's loop runs only during its calls, so each call first lets it take in what arrived
  meanwhile, a server's close included); a `Connection: close` answer is not reused;
- requests, headers and bodies are slack_sdk's own (JSON for the methods that take blocks, a query
  string for reads), JSON written by orjson.

A thread's loop and session are closed when the thread ends; a forked child makes new ones.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import itertools
import os
import threading
from collections.abc import Awaitable, Callable
from ssl import SSLContext
from typing import Any, TypeVar

import aiohttp
import orjson
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

T = TypeVar("T")

KEEP_ALIVE_SECONDS = 30.0  # idle connections closed after this: below the usual 60-75 s idle timeouts of load balancers and nginx
GRACE_SECONDS = 5.0  # a caller handing its call to the shared loop thread stops waiting this long after the call's own timeout

_generations = itertools.count(1)


def default_retry_handlers() -> list[AsyncRetryHandler]:
    """Connection errors only, twice (0.5 s, then 1 s apart). No rate-limit handler: it would wait out
    Retry-After inside the call, holding the caller's thread (issue 17)."""
    return [AsyncConnectionErrorRetryHandler(max_retry_count=2)]


class SlackWebClient:
    """A synchronous Web API client (see the module's description).

    `call("chat.postMessage", channel=..., text=...)` runs slack_sdk's typed method of that name
    (`chat_postMessage`), so each method is sent in the wire format slack_sdk uses for it. Returns the
    `AsyncSlackResponse`; raises what `AsyncWebClient` raises (`SlackApiError` for an `ok: false` or
    non-2xx answer, aiohttp's errors for the connection) or `TimeoutError`.
    """

    def __init__(
        self,
        token: str | None,
        base_url: str,
        *,
        timeout: float = 10,
        retry_handlers: list[AsyncRetryHandler] | None = None,
        ssl: SSLContext | None = None,
    ) -> None:
        self.token = token
        self.base_url = base_url
        self.timeout = timeout  # seconds for the whole call; read at each call
        self.ssl = ssl
        self._retry_handlers = default_retry_handlers() if retry_handlers is None else list(retry_handlers)
        self._generation = next(_generations)
        self._clients = threading.local()  # each thread's AsyncWebClient, on that thread's session

    @property
    def retry_handlers(self) -> list[AsyncRetryHandler]:
        return self._retry_handlers

    @retry_handlers.setter
    def retry_handlers(self, handlers: list[AsyncRetryHandler]) -> None:
        self._retry_handlers = list(handlers)
        self._generation = next(_generations)  # each thread builds its client anew, with these

    def call(self, method: str, **kwargs: Any) -> Any:
        """The Web API method `method` ("chat.postMessage") with these arguments."""
        name = method.replace(".", "_")
        return self.run(lambda client: getattr(client, name)(**kwargs))

    def run(self, fn: Callable[[AsyncWebClient], Awaitable[T]]) -> T:
        """`fn(client)` to completion, its result here (e.g. `client.files_upload_v2(...)`)."""
        timeout = float(self.timeout)

        async def bounded(session: aiohttp.ClientSession) -> T:
            async with asyncio.timeout(timeout):
                return await fn(self._async_client(session))

        return _run(bounded, wait=timeout + GRACE_SECONDS)

    def _async_client(self, session: aiohttp.ClientSession) -> AsyncWebClient:
        """This thread's AsyncWebClient on `session` (the thread's own, or the shared loop's)."""
        mine = self._clients
        client: AsyncWebClient | None = getattr(mine, "client", None)
        if client is None or client.session is not session or getattr(mine, "generation", 0) != self._generation:
            client = mine.client = AsyncWebClient(
                token=self.token,
                base_url=self.base_url,
                session=session,
                timeout=int(self.timeout) or 1,  # used by slack_sdk only without a session; `run` bounds the call
                ssl=self.ssl,
                retry_handlers=list(self._retry_handlers),
            )
            mine.generation = self._generation
        return client


def _run(make: Callable[[aiohttp.ClientSession], Awaitable[T]], *, wait: float) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # the usual case: a worker thread, no event loop running in it
        return _THREAD.run(make)
    return _SHARED.run(make, wait=wait)


# --- one loop per calling thread -----------------------------------------------------------------


class _Loop:
    """An event loop and its aiohttp session, closed when dropped (the thread that made them ended)."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = _new_event_loop()
        self.session = self.loop.run_until_complete(_new_session())

    def run(self, make: Callable[[aiohttp.ClientSession], Awaitable[T]]) -> T:
        return self.loop.run_until_complete(_after_pending_io(make, self.session))

    def close(self) -> None:
        loop = self.loop
        if os.getpid() != self.pid or loop.is_closed() or loop.is_running():
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no loop running on this thread: ours can run here
            self._close_now()
            return
        # Collected by the garbage collector on a thread that runs its own event loop (ours cannot
        # run inside it): closed on a thread of its own.
        threading.Thread(target=self._close_now, name="slack-web-api-close", daemon=True).start()

    def _close_now(self) -> None:
        try:
            self.loop.run_until_complete(self.session.close())
        finally:
            self.loop.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - at thread or interpreter exit: nothing left to tell
            pass


class _ThreadLoops(threading.local):
    current: _Loop | None = None

    def run(self, make: Callable[[aiohttp.ClientSession], Awaitable[T]]) -> T:
        current = self.current
        if current is None or current.pid != os.getpid():  # this thread's first call, or a forked child
            current = self.current = _Loop()
        return current.run(make)

    def close(self) -> None:
        current, self.current = self.current, None
        if current is not None:
            current.close()


async def _after_pending_io(make: Callable[[aiohttp.ClientSession], Awaitable[T]], session: aiohttp.ClientSession) -> T:
    """The loop ran last at this thread's previous call: one turn of it first handles what arrived
    since (a server closing an idle connection marks that connection closing), so the pool does not
    hand it out."""
    await asyncio.sleep(0)
    return await make(session)


# --- the shared loop thread, for calls made on a thread whose event loop is running --------------


class _EventLoopThread:
    """One event loop thread and one aiohttp session per process, started at its first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: aiohttp.ClientSession | None = None
        self._thread: threading.Thread | None = None

    def run(self, make: Callable[[aiohttp.ClientSession], Awaitable[T]], *, wait: float) -> T:
        loop, session = self._started()
        if threading.current_thread() is self._thread:  # waiting here would wait for ourselves
            raise RuntimeError("a synchronous Slack call on the Web API client's own event loop thread")
        future = asyncio.run_coroutine_threadsafe(_awaited(make, session), loop)
        try:
            return future.result(timeout=wait)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise

    def _started(self) -> tuple[asyncio.AbstractEventLoop, aiohttp.ClientSession]:
        with self._lock:
            if self._loop is None or self._session is None or self._pid != os.getpid():  # first use, or a forked child
                loop = _new_event_loop()
                thread = threading.Thread(target=_serve, args=(loop,), name="slack-web-api", daemon=True)
                thread.start()
                self._session = asyncio.run_coroutine_threadsafe(_new_session(), loop).result()
                self._loop, self._thread, self._pid = loop, thread, os.getpid()
            return self._loop, self._session

    def close(self) -> None:
        with self._lock:
            loop, session, thread = self._loop, self._session, self._thread
            if loop is None or session is None or thread is None or self._pid != os.getpid():
                return
            self._loop = self._session = self._thread = None
        try:
            asyncio.run_coroutine_threadsafe(session.close(), loop).result(timeout=2)
        except (concurrent.futures.TimeoutError, RuntimeError):
            pass
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=2)
        if not thread.is_alive():
            loop.close()


async def _awaited(make: Callable[[aiohttp.ClientSession], Awaitable[T]], session: aiohttp.ClientSession) -> T:
    return await make(session)


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    loop.run_forever()


# --- both ------------------------------------------------------------------------------------------


def _json(obj: Any) -> str:
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()


async def _new_session() -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(keepalive_timeout=KEEP_ALIVE_SECONDS)
    # No total timeout here (aiohttp's default, 5 min, costs a timer per request): `run` bounds each call.
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=30)
    return aiohttp.ClientSession(connector=connector, json_serialize=_json, timeout=timeout)


def _new_event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop  # as the serving process (bot.runtime.server): less CPU per call
    except ImportError:  # pragma: no cover - uvloop is a dependency except on Windows
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


_THREAD = _ThreadLoops()
_SHARED = _EventLoopThread()


def close() -> None:
    """Close the calling thread's and the shared loop thread's connections now (they reopen at the next call)."""
    _THREAD.close()
    _SHARED.close()


atexit.register(close)  # the main thread's and the shared loop's; other threads' go with their threads

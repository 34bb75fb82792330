"""A stand-in for Slack's Socket Mode WebSocket endpoint: says hello, delivers envelopes, records acks."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from typing import Any

from aiohttp import WSMsgType, web


class SocketModeServer:
    def __init__(self) -> None:
        self.acks: list[dict[str, Any]] = []
        self.connections = 0
        self._outbox: asyncio.Queue | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self.port = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._cond = threading.Condition()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/link/"

    def start(self) -> SocketModeServer:
        self._thread.start()
        if not self._ready.wait(5):
            raise RuntimeError("socket mode stand-in did not start")
        return self

    def stop(self) -> None:
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=5)

    def send(self, envelope_type: str, payload: dict[str, Any]) -> str:
        """Deliver one envelope to the connected app; returns its envelope_id."""
        envelope_id = str(uuid.uuid4())
        message = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": envelope_type != "events_api",
            "retry_attempt": 0,
            "retry_reason": "",
        }
        assert self._loop and self._outbox
        self._loop.call_soon_threadsafe(self._outbox.put_nowait, message)
        return envelope_id

    def wait_connected(self, timeout: float = 10.0) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self.connections > 0, timeout):
                raise AssertionError("the app never connected over Socket Mode")

    def wait_ack(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        with self._cond:
            found = self._cond.wait_for(lambda: next((a for a in self.acks if a.get("envelope_id") == envelope_id), None), timeout)
        if not found:
            raise AssertionError(f"no ack for envelope {envelope_id}; acks: {self.acks}")
        return found

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._outbox = asyncio.Queue()
        self._stop = asyncio.Event()
        app = web.Application()
        app.router.add_get("/link/", self._handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    async def _handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        with self._cond:
            self.connections += 1
            self._cond.notify_all()
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0001"}}))

        async def pump() -> None:
            assert self._outbox
            while not ws.closed:
                message = await self._outbox.get()
                await ws.send_str(json.dumps(message))

        sender = asyncio.ensure_future(pump())
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    with self._cond:
                        self.acks.append(json.loads(msg.data))
                        self._cond.notify_all()
        finally:
            sender.cancel()
        return ws

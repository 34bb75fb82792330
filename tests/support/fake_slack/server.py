"""HTTP plumbing: the threaded server, the request handler, request-body parsing, and the
lifecycle (start/stop, base_url) that FakeSlackCore inherits."""

from __future__ import annotations

import email.parser
import email.policy
import json
import selectors
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl

# --------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128  # the default 5 drops SYNs under concurrency (1 s retransmit stalls)
    fake: Any  # the FakeSlack served (not imported: it is assembled from this module's users)

    def process_request(self, request, client_address):  # type: ignore[override]
        t = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name="FakeSlack-conn",
            daemon=True,
        )
        with self.fake._conn_lock:
            self.fake.connections += 1
            self.fake._conn_threads = [x for x in self.fake._conn_threads if x.is_alive()]
            self.fake._conn_threads.append(t)
            self.fake._conn_socks.add(request)
        t.start()

    def shutdown_request(self, request):  # type: ignore[override]
        with self.fake._conn_lock:
            self.fake._conn_socks.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):  # noqa: D401 - quiet
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeSlack/1.0"
    sys_version = ""
    timeout = 10  # never let a silent client pin a thread forever
    disable_nagle_algorithm = True  # headers and body are two writes: on a kept connection Nagle holds the body for the client's delayed ACK (~40 ms)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_POST(self) -> None:  # noqa: N802
        self.server.fake._handle(self)  # type: ignore[attr-defined]

    do_GET = do_POST  # AsyncWebClient sends GET (query string) for http_verb="GET" methods

    def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        if isinstance(body, (bytes, bytearray)):
            raw, ctype = bytes(body), "text/html; charset=utf-8"
        elif isinstance(body, str):
            raw = body.encode("utf-8")
            ctype = "application/json; charset=utf-8" if body.lstrip()[:1] in "{[" else "text/html; charset=utf-8"
        else:
            raw, ctype = json.dumps(body).encode("utf-8"), "application/json; charset=utf-8"
        if not self.server.fake.keep_alive:  # type: ignore[attr-defined]
            self.close_connection = True  # else as the request asked (HTTP/1.1: kept unless `Connection: close`)
        self.send_response(status)
        hdrs = {"Content-Type": ctype, "Content-Length": str(len(raw))}
        if self.close_connection:
            hdrs["Connection"] = "close"
        hdrs.update(headers or {})
        for k, v in hdrs.items():
            self.send_header(k, str(v))
        self.end_headers()
        self.wfile.write(raw)
        self.wfile.flush()


class ServerLifecycle:
    """Mixin for FakeSlackCore: serving on 127.0.0.1 and clients pointed at it."""

    # ----- lifecycle ------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/api/`` — pass as WebClient(base_url=...)."""
        return f"http://127.0.0.1:{self.port}/api/"

    def start(self) -> Self:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = threading.Thread(target=self._serve, args=(server, self._wake_r), name="FakeSlack", daemon=True)
        self._thread.start()
        return self

    def _serve(self, server: _Server, wake: socket.socket) -> None:
        # Like serve_forever(), but woken at once by stop() instead of polling.
        with selectors.DefaultSelector() as sel:
            sel.register(server, selectors.EVENT_READ)
            sel.register(wake, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _ in sel.select():
                    if key.fileobj is wake:
                        return
                    server._handle_request_noblock()

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()  # also wakes delayed faults
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        if thread is not None:
            thread.join(timeout=2.0)
        server.server_close()
        with self._conn_lock:
            socks = list(self._conn_socks)
            threads = list(self._conn_threads)
        for s in socks:  # unblock handlers stuck reading from a silent client
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for t in threads:
            t.join(timeout=2.0)
        with self._conn_lock:
            self._conn_threads.clear()
            self._conn_socks.clear()
        self._wake_r.close()
        self._wake_w.close()
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ----- convenience clients ------------------------------------------------------

    def client(self, token: str = "xoxb-test", **kwargs: Any):
        """A slack_sdk WebClient pointed at this fake."""
        from slack_sdk import WebClient

        return WebClient(base_url=self.base_url, token=token, **kwargs)

    def async_client(self, token: str = "xoxb-test", **kwargs: Any):
        from slack_sdk.web.async_client import AsyncWebClient

        return AsyncWebClient(base_url=self.base_url, token=token, **kwargs)


# --------------------------------------------------------------------------
# Parsing helpers
# --------------------------------------------------------------------------


def _read_body(h: BaseHTTPRequestHandler) -> bytes:
    if "chunked" in (h.headers.get("Transfer-Encoding") or "").lower():
        chunks = []
        while True:
            line = h.rfile.readline()
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                h.rfile.readline()
                break
            chunks.append(h.rfile.read(size))
            h.rfile.readline()
        return b"".join(chunks)
    n = int(h.headers.get("Content-Length") or 0)
    return h.rfile.read(n) if n > 0 else b""


def _parse_body(raw: bytes, ctype: str) -> dict[str, Any]:
    if not raw:
        return {}
    base = ctype.split(";")[0].strip().lower()
    if base == "application/json":
        try:
            data = json.loads(raw.decode("utf-8"))
        except ValueError as e:
            raise ValueError(f"body is not JSON: {e}") from None
        if not isinstance(data, dict):
            raise ValueError("JSON body is not an object")
        return data
    if base == "multipart/form-data":
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(b"Content-Type: " + ctype.encode("latin-1") + b"\r\n\r\n" + raw)
        out: dict[str, Any] = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not name:
                continue
            payload = part.get_payload(decode=True) or b""
            out[name] = payload if part.get_filename() else payload.decode("utf-8", "replace")
        return out
    # x-www-form-urlencoded (slack_sdk's default) or unspecified
    return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))


def _bearer(value: str | None) -> str | None:
    if not value:
        return None
    parts = value.split(None, 1)
    if len(parts) == 2 and parts[0].lower() == "bearer":
        return parts[1].strip()
    return None

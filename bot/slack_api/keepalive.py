"""A WebClient that keeps its HTTP connection to Slack open between Web API calls.

Why: slack_sdk's sync client sends every call through urllib's `urlopen`, which opens a new TCP
(and TLS) connection each time and asks the server to close it afterwards; without an `ssl`
argument (ours) it also builds a new default SSL context, loading the system CA bundle, per call.
Under load a profile of the bot showed ~13% of all CPU in `SlackGateway._call`, much of it that
connection setup and urllib's machinery. Here only the innermost step, `_perform_urllib_http_request_internal` (send one
request, return {status, headers, body} or raise urllib's HTTPError), is replaced: slack_sdk's
retry handlers, headers, body encoding, response parsing and SlackApiError stay its own.

One `http.client` connection per thread per (scheme, host, port, SSL context): the calls run on
worker threads, several at once, and a connection must never carry two requests at a time.
Risks handled:
- a connection idle for over IDLE_LIMIT seconds, or one the server has closed meanwhile (the socket
  reads as ready before we send), is closed and a new one opened;
- `Connection: close` / HTTP/1.0 answers (http.client's `will_close`) are not reused, and a body is
  always read to its end before the connection goes back;
- a keep-alive connection the server dropped just as we sent (BrokenPipe, reset, no status line,
  before any answer arrived) is reopened and the request sent once more; on a fresh connection
  errors surface as urlopen's did (URLError while connecting or sending, the raw error after), so
  slack_sdk's ConnectionErrorRetryHandler and the gateway's `connection_error` behave as before;
- any other error closes the connection: a socket in an unknown state is never reused.
Falls back to slack_sdk's urllib path with a proxy, and for URLs outside base_url.
Not as urlopen: a 3xx answer is returned as an HTTPError instead of being followed (Slack's Web
API does not redirect its POSTs).
"""

from __future__ import annotations

import functools
import http.client
import io
import logging
import select
import ssl
import threading
import time
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request

from slack_sdk import WebClient

IDLE_LIMIT = 30.0  # seconds; below the usual 60-75 s idle timeouts of load balancers and nginx (shorter ones: see the checks below)
monotonic = time.monotonic  # tests replace it to age connections without sleeping
_local = threading.local()
_DROPPED = (BrokenPipeError, ConnectionResetError, http.client.BadStatusLine)  # RemoteDisconnected is both of the last


def _pool() -> dict[tuple, tuple[http.client.HTTPConnection, float]]:
    pool = getattr(_local, "pool", None)
    if pool is None:
        pool = _local.pool = {}
    return pool


def close_connections() -> None:
    """Close this thread's kept connections (e.g. before the thread ends)."""
    for conn, _ in _pool().values():
        conn.close()
    _pool().clear()


@functools.cache
def _default_context() -> ssl.SSLContext:
    """http.client's default context (verifying, ALPN http/1.1), built once: each build loads the
    system CA bundle, tens of ms of CPU, which urlopen paid on every call when `ssl` is not given."""
    context = ssl._create_default_https_context()
    context.set_alpn_protocols(["http/1.1"])
    return context


def _closed_by_peer(sock: Any) -> bool:
    """Readable while idle means the server closed it (or sent something unasked): not reusable."""
    if not hasattr(select, "poll"):
        return False
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


class KeepAliveWebClient(WebClient):
    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        parts = urlsplit(url)
        if self.proxy or parts.scheme not in ("http", "https") or not url.startswith(self.base_url):
            return super()._perform_urllib_http_request_internal(url, req)
        key = (parts.scheme, parts.hostname, parts.port, self.ssl)
        headers = {name.title(): value for name, value in req.header_items()}  # as urllib sends them
        if req.data is not None:
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        body = b""
        while True:  # at most twice: a retry is on a new connection
            conn, reused = self._connection(key)
            answered = False
            try:
                try:
                    conn.request(req.get_method(), req.selector, req.data, headers)
                except OSError as err:
                    raise URLError(err) from err  # as urlopen: connect and send failures are URLErrors
                resp = conn.getresponse()
                answered = True
                body = resp.read()  # always to the end, so the connection is clean for the next call
            except BaseException as err:
                conn.close()
                cause = err.reason if isinstance(err, URLError) else err
                if reused and not answered and isinstance(cause, _DROPPED):
                    continue  # the server dropped the idle connection as we sent: once more on a new one
                raise
            if resp.will_close or not resp.isclosed():
                conn.close()
            else:
                _pool()[key] = (conn, monotonic())
            break
        # What the parent returns, or raises (urlopen's HTTPError for any non-2xx: slack_sdk reads
        # status, headers and body from it, 429s and Retry-After included).
        status, answer_headers = resp.status, resp.headers
        if not 200 <= status < 300:
            raise HTTPError(url, status, resp.reason, answer_headers, io.BytesIO(body))
        content: str | bytes = body
        if answer_headers.get_content_type() != "application/gzip":  # admin.analytics.getFile stays bytes
            content = body.decode(answer_headers.get_content_charset() or "utf-8")
        if self._logger.level <= logging.DEBUG:
            self._logger.debug(f"Received the following response - status: {status}, headers: {dict(answer_headers)}, body: {content!s}")
        return {"status": status, "headers": answer_headers, "body": content}

    def _connection(self, key: tuple) -> tuple[http.client.HTTPConnection, bool]:
        """(connection, reused): this thread's kept one if still fit for use, else a new one."""
        kept = _pool().pop(key, None)  # out of the pool while in use: put back only once clean
        if kept is not None:
            conn, last_used = kept
            if conn.sock is not None and monotonic() - last_used <= IDLE_LIMIT and not _closed_by_peer(conn.sock):
                if conn.timeout != self.timeout:
                    conn.timeout = self.timeout
                    conn.sock.settimeout(self.timeout)
                return conn, True
            conn.close()
        scheme, host, port, context = key
        if scheme == "https":
            return http.client.HTTPSConnection(host, port, timeout=self.timeout, context=context or _default_context()), False
        return http.client.HTTPConnection(host, port, timeout=self.timeout), False

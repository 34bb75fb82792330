"""An `Embedder` for an OpenAI-compatible embeddings endpoint (OpenAI, Azure-style gateways, LiteLLM,
vLLM, Ollama's `/v1`, text-embeddings-inference...), for teams that run one (ESCALATION_EMBEDDINGS=http).

The URL is the API's base, as OpenAI clients take it (`https://api.openai.com/v1`,
`http://localhost:11434/v1`): the request is `POST {url}/embeddings`. A URL that already ends in
`/embeddings` is used as given. The body is `{"model": ..., "input": [...]}`, with
`Authorization: Bearer <key>` when a key is set; the answer's `data[i].embedding` rows are put back in
`data[i].index` order and L2-normalised.

One request never takes longer than the timeout, start to finish: the socket's own timeout bounds each
wait, and a watchdog shuts the socket when the whole exchange has run out of time (a server that
trickles its answer byte by byte is cut off too). Every failure is one `EmbeddingsError` whose message
names the endpoint and what went wrong, never the key; callers then match lexically.
Standard library only (http.client): the calls come from worker threads of sync use cases.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
import time
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from bot.embeddings import EmbeddingsError

MAX_RESPONSE_BYTES = 64 * 1024 * 1024  # 256 rows of 3072 floats as JSON is about 16 MB
BATCH = 256  # inputs per request (OpenAI accepts up to 2048)


def endpoint_url(url: str) -> str:
    """`{url}/embeddings`, unless the URL already names the embeddings route."""
    url = url.strip().rstrip("/")
    return url if url.endswith("/embeddings") else url + "/embeddings"


def shown_url(url: str) -> str:
    """The URL for people and logs: without credentials in it or its query string."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class HttpEmbedder:
    """Embeds through `POST {url}/embeddings`; `name` is `http:<model>` (vectors of two models are never compared)."""

    def __init__(self, url: str, model: str, *, key: str | None = None, timeout: float = 3.0) -> None:
        self.url = endpoint_url(url)
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an http(s) URL")
        self.model = model
        self.name = f"http:{model}"
        self.remote = True  # brief text is sent to the endpoint (security briefs only when allowed)
        self.timeout = timeout
        self._key = key or None
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._shown = shown_url(self.url)

    @property
    def description(self) -> str:
        """For `escalation-bot check`: which model, where."""
        return f"{self.model} at {self._shown}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        rows = [self._embed_batch(texts[start : start + BATCH]) for start in range(0, len(texts), BATCH)]
        if len({r.shape[1] for r in rows}) > 1:
            raise EmbeddingsError(f"embeddings endpoint {self._shown} answered vectors of different sizes")
        return rows[0] if len(rows) == 1 else np.vstack(rows)

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        body = json.dumps({"model": self.model, "input": texts}).encode()
        status, data = self._post(body)
        if not 200 <= status < 300:
            raise EmbeddingsError(f"embeddings endpoint {self._shown} answered HTTP {status}{_reason(data)}")
        return self._parse(data, len(texts))

    def _post(self, body: bytes) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": "escalation-brief"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        conn: http.client.HTTPConnection
        if self._https:
            conn = http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout, context=ssl.create_default_context())
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
        expired = threading.Event()
        watchdog: threading.Timer | None = None
        started = time.monotonic()
        try:
            conn.connect()  # name lookup, TCP and TLS; each wait bounded by the socket timeout
            left = self.timeout - (time.monotonic() - started)
            if left <= 0 or conn.sock is None:
                raise TimeoutError
            conn.sock.settimeout(left)
            watchdog = threading.Timer(left, _cut, (conn.sock, expired))
            watchdog.daemon = True
            watchdog.start()
            conn.request("POST", self._path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read(MAX_RESPONSE_BYTES + 1)
            if expired.is_set():
                raise TimeoutError
            if len(data) > MAX_RESPONSE_BYTES:
                raise EmbeddingsError(f"embeddings endpoint {self._shown} answered more than {MAX_RESPONSE_BYTES // 2**20} MB")
            return response.status, data
        except EmbeddingsError:
            raise
        except (OSError, http.client.HTTPException) as exc:
            if expired.is_set() or isinstance(exc, TimeoutError):
                raise EmbeddingsError(f"embeddings endpoint {self._shown} did not answer within {self.timeout:g} s") from None
            raise EmbeddingsError(f"cannot reach the embeddings endpoint {self._shown}: {_plain(exc)}") from None
        finally:
            if watchdog is not None:
                watchdog.cancel()
            conn.close()

    def _parse(self, data: bytes, count: int) -> np.ndarray:
        def bad(what: str) -> EmbeddingsError:
            return EmbeddingsError(f"embeddings endpoint {self._shown} answered {what}, not an OpenAI-style embeddings list")

        try:
            payload = json.loads(data)
        except ValueError:
            raise bad("something that is not JSON") from None
        items = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise bad("JSON without a data list")
        if len(items) != count:
            raise bad(f"{len(items)} vectors for {count} texts")
        indexes = [item.get("index", position) for position, item in enumerate(items)]
        if sorted(i for i in indexes if isinstance(i, int)) != list(range(count)):
            raise bad("indexes that do not number the texts once each")
        ordered = [item.get("embedding") for _, item in sorted(zip(indexes, items), key=lambda pair: pair[0])]
        if not all(isinstance(vector, list) and vector and all(isinstance(x, int | float) for x in vector) for vector in ordered):
            raise bad("embeddings that are not lists of numbers")
        if len({len(vector) for vector in ordered}) != 1:
            raise bad("vectors of different sizes")
        matrix = np.asarray(ordered, dtype=np.float64)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        if not np.all(np.isfinite(norms)) or np.any(norms == 0):
            raise bad("a zero or non-finite vector")
        return (matrix / norms).astype(np.float32)


def _cut(sock: socket.socket, expired: threading.Event) -> None:
    """The watchdog: out of time, wake whatever wait the request is in."""
    expired.set()
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed: the request ended as the timer fired


def _reason(data: bytes) -> str:
    """`: <the server's message>` from an OpenAI-style error body, shortened; empty if there is none."""
    try:
        payload = json.loads(data)
    except ValueError:
        text = data[:200].decode("utf-8", "replace").strip()
        return f": {' '.join(text.split())}" if text and not text.startswith("<") else ""  # not an HTML error page
    message = None
    if isinstance(payload, dict):
        error = payload.get("error", payload.get("detail"))  # OpenAI: {"error": {"message": ...}}; others: a string
        message = error.get("message") if isinstance(error, dict) else error
    if not isinstance(message, str) or not message.strip():
        return ""
    message = " ".join(message.split())
    return f": {message[:200]}{'…' if len(message) > 200 else ''}"


def _plain(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason or exc})"
    if isinstance(exc, socket.gaierror):
        return "unknown host name"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return str(exc) or type(exc).__name__

"""Slack's HTTP requests into Bolt requests, with a fast decoder for form-encoded payloads.

Interactive payloads arrive as `payload=<percent-encoded JSON>`, and a view submission carries the
whole modal: the brief modal's is ~33 KB with ~7,000 escapes. Bolt decodes it with
`urllib.parse.parse_qsl`, pure Python per escape: 1.7 ms per submission, on the event loop, where
it delayed every other ack (12 % of the bot's CPU under load, py-spy; benchmarks/results.md).
`binascii.a2b_qp` decodes `=XX` escapes in C, so the same decoding is `%` → `=` and one call:
0.1 ms. Quoted-printable treats a literal `=`, a line break or a `%` not followed by two hex digits
differently, and takes only ASCII: such bodies (Slack never sends them) take urllib's path, so the
result is always exactly urllib's (tests/test_requests.py checks it on arbitrary strings).

Nothing is parsed before the signature holds (docs/security.md): the body is read up to
MAX_BODY_BYTES (413 beyond it, without reading the rest), the signature and timestamp are checked
on the raw bytes (401), and only then is it decoded; what does not decode to one of Slack's payloads
is a 400, logged at WARNING without a traceback.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import logging
import time
from typing import Any
from urllib.parse import unquote_plus

import orjson
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler, to_starlette_response
from slack_bolt.async_app import AsyncBoltRequest
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from starlette.requests import Request
from starlette.responses import Response

from bot.slack.typed_text import clean, storable

log = logging.getLogger(__name__)

# Slack's largest payload is a view submission: the view (Slack refuses views over 250 kB) and the
# values typed into it, percent-encoded. 4 MiB is well above it, and caps what an unsigned request
# can make the bot hold in memory.
MAX_BODY_BYTES = 4 * 1024 * 1024
SIGNATURE_MAX_AGE_SECONDS = 5 * 60  # Slack's rule: older (or newer) timestamps are replays


class MalformedRequest(ValueError):
    """A signed body that is not one of Slack's payloads (not UTF-8, not JSON, not an object)."""


def unquote_form(value: str) -> str:
    """`urllib.parse.unquote_plus(value)`, in C when the value allows it."""
    if not value.isascii() or "=" in value or "\r" in value or "\n" in value:
        return unquote_plus(value)
    decoded = binascii.a2b_qp(value.replace("+", " ").replace("%", "="))
    # Each %XX became one byte; a % not followed by two hex digits shortens the text less (a regex
    # looking for one cost 0.4 ms on a submission, more than the decoding).
    if len(decoded) != len(value) - 2 * value.count("%"):
        return unquote_plus(value)
    return decoded.decode("utf-8", "replace")


def _json(text: str) -> Any:
    """json.loads, by orjson (0.3 → 0.12 ms on a submission); what orjson refuses (a lone
    surrogate escape, NaN) json still reads."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def parse_form(body: str, *, storable_text: bool = False) -> dict[str, str]:
    """`dict(urllib.parse.parse_qsl(body, keep_blank_values=True))`: split on `&` only (as
    parse_qsl since Python 3.10), a part without `=` is a blank value, the last repeat wins."""
    fields: dict[str, str] = {}
    for part in body.split("&"):
        if not part:
            continue
        name, eq, value = part.partition("=")
        if not eq and not name:
            continue
        text = unquote_form(value)
        fields[unquote_form(name)] = storable(text) if storable_text and "\x00" in text else text  # %00 (bot.slack.typed_text)
    return fields


def parse_body(body: str, content_type: str | None, *, storable_text: bool = False) -> dict[str, Any]:
    """What Bolt's `parse_body` returns, faster for form bodies. MalformedRequest for JSON that does
    not decode to an object (Slack sends only objects). `storable_text`: every string made storable
    (bot.slack.typed_text), as the bot serves requests; without it, exactly Bolt's result."""
    if not body:
        return {}
    if content_type == "application/json" or body.startswith("{"):
        return _object(body, storable_text)
    fields = parse_form(body, storable_text=storable_text)
    if "payload" in body:
        payload = fields.get("payload")
        return _object(payload, storable_text) if payload is not None else {}
    return fields


def _object(text: str, storable_text: bool) -> dict[str, Any]:
    try:
        value = _json(text)
    except ValueError as exc:  # orjson's and json's decode errors are both ValueErrors
        raise MalformedRequest(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise MalformedRequest(f"JSON {type(value).__name__}, not an object")
    if storable_text and "\\u" in text:  # only an escape puts a NUL or a lone surrogate in a JSON string
        clean(value)
    return value


async def read_capped(request: Request, limit: int = MAX_BODY_BYTES) -> bytes | None:
    """The body, or None as soon as it is known to be over `limit` (by Content-Length, or while
    streaming a body that has none): the rest is never read."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def signed_by_slack(secret: bytes, raw: bytes, timestamp: str | None, signature: str | None, *, now: float | None = None) -> bool:
    """Slack's v0 signature over the raw bytes, and a timestamp within five minutes. Anything else
    (missing headers, a timestamp that is not a number, bytes that are not UTF-8) is simply False."""
    if not timestamp or not signature or not (timestamp.isascii() and timestamp.isdigit()):
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > SIGNATURE_MAX_AGE_SECONDS:
        return False
    expected = "v0=" + hmac.new(secret, b"v0:" + timestamp.encode() + b":" + raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def to_bolt_request(request: Request, raw: bytes) -> AsyncBoltRequest:
    """Bolt's request (raw body kept for the signature check), parsed with `parse_body` above."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedRequest("not UTF-8") from None
    bolt_request = AsyncBoltRequest(body="", query=request.query_params, headers=request.headers)  # type: ignore[arg-type]
    bolt_request.raw_body = text
    bolt_request.body = parse_body(text, bolt_request.content_type, storable_text=True)
    bolt_request.context = build_async_context(AsyncBoltContext({}), bolt_request.body)
    return bolt_request


class SlackRequestHandler(AsyncSlackRequestHandler):
    """Bolt's Starlette handler for Slack's POSTs: size cap, signature on the raw bytes, then the fast
    parser. GETs (the OAuth install pages) are Bolt's own. Bolt checks the signature again: the cost
    is one HMAC, and the check stays on if this handler is ever bypassed."""

    def __init__(self, app: Any, *, signing_secret: str) -> None:
        super().__init__(app)
        self.secret = signing_secret.encode()

    async def handle(self, req: Request, addition_context_properties: dict[str, Any] | None = None) -> Response:
        if req.method != "POST":
            return await super().handle(req, addition_context_properties)
        raw = await read_capped(req)
        if raw is None:
            return Response("payload too large", status_code=413)
        if not signed_by_slack(self.secret, raw, req.headers.get("x-slack-request-timestamp"), req.headers.get("x-slack-signature")):
            return Response("invalid request", status_code=401)
        try:
            request = to_bolt_request(req, raw)
        except MalformedRequest as exc:
            log.warning("refused a signed request that is not a Slack payload (%s, %s bytes)", exc, len(raw))
            return Response("bad request", status_code=400)
        return to_starlette_response(await self.app.async_dispatch(request))

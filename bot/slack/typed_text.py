"""Typed text every database can store: NUL removed, lone UTF-16 surrogates replaced (U+FFFD).

PostgreSQL refuses a NUL in text ("the database did not answer" on every resubmission) and neither
engine's driver can encode a lone surrogate; SQLite stores the NUL. So that both behave the same, every
request is cleaned once, before any listener reads it: modal values, notes, thread replies,
slash-command text. Over HTTP the decoder (bot.slack.requests) cleans what it decodes: a JSON text
can hold such a character only as a `\\u` escape, a form field only as a decoded NUL, and both are
found by one substring search (a regex over a 34 kB submission took 0.5 ms). Socket Mode payloads
arrive decoded, so the middleware below walks them (they are few).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # after JSON decoding a valid pair is one character: what is left is lone


def storable(text: str) -> str:
    return _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", text)


def clean(value: Any) -> Any:
    """`value` with every string made storable, dicts and lists changed in place (listeners read them)."""
    if isinstance(value, str):
        return storable(value) if _UNSTORABLE.search(value) else value
    if isinstance(value, dict):
        for key, item in value.items():
            value[key] = clean(item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            value[index] = clean(item)
    return value


class StorableText(AsyncMiddleware):
    """Socket Mode's payloads, cleaned before the listeners (HTTP bodies were cleaned as they were decoded)."""

    async def async_process(self, *, req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse | None:  # noqa: A002 - Bolt's name
        if req.mode == "socket_mode":
            clean(req.body)
        return await next()

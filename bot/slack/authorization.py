"""Single-workspace authorization with one auth.test per process.

Bolt's built-in single-team authorization calls auth.test lazily on the first request, and every
request that arrives before the first answer calls it too (about 17 calls when a worker starts under
50 concurrent senders, each ack waiting on it). This one lets a single call through and caches it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from slack_bolt.authorization import AuthorizeResult


def cached_single_team_authorize(bot_token: str) -> Callable[..., Awaitable[AuthorizeResult]]:
    # A plain function, not a callable object: Bolt passes arguments by the names in the signature.
    cache: list[AuthorizeResult] = []
    lock = asyncio.Lock()

    async def authorize(client) -> AuthorizeResult:
        if not cache:
            async with lock:
                if not cache:
                    response = await client.auth_test(token=bot_token)
                    cache.append(AuthorizeResult.from_auth_test_response(bot_token=bot_token, auth_test_response=response))
        return cache[0]

    return authorize

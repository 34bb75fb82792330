"""The workspace being served, for the Web API calls made on its behalf.

`current_team` is set by a Bolt middleware for each request (asyncio copies it into spawned tasks
and `to_thread` work) and by the scheduler, brief workers and retries for each brief they handle
(`serving_team`). With one bot token it changes nothing; with several workspaces (OAuth) the
gateway (bot.slack_api.tokens.TeamGateway) picks that workspace's token from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

current_team: ContextVar[str | None] = ContextVar("current_team", default=None)


@contextmanager
def serving_team(team_id: str | None) -> Iterator[None]:
    """Calls inside go out with `team_id`'s token (OAuth mode); no effect with one token."""
    token = current_team.set(team_id)
    try:
        yield
    finally:
        current_team.reset(token)

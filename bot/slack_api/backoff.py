"""When to try a failed Slack post again, and whether the failed call may have been posted anyway.

Pure: the delivery retries (bot.usecases.escalate) and their tests use it with an injected random source.
"""

from __future__ import annotations

import random
from datetime import timedelta

FIRST = timedelta(seconds=30)
CAP = timedelta(minutes=15)

# Errors after which Slack may still have accepted the post: the answer was lost (a timeout, a
# dropped connection) or the server failed after the write. Before posting again the bot looks for
# the first post by its metadata. Every other error (not_in_channel, ratelimited…) means not posted.
AMBIGUOUS = frozenset({"connection_error", "timeout", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})


# conversations.history refusals that will not pass by retrying: the check is skipped, the post tried.
UNREADABLE = frozenset({"not_in_channel", "channel_not_found", "missing_scope", "is_archived"})

# Errors that pass by themselves: retried silently after the agent heard of the first failure.
TRANSIENT = AMBIGUOUS | {"ratelimited"}


# The workspace's token no longer works: the app was uninstalled, the token revoked, the installing
# account or the workspace deactivated (not_installed: no installation stored for it, in OAuth mode).
# No retry helps until the app is installed again: the workspace is paused (bot.usecases.workspaces).
WORKSPACE_GONE = frozenset({"invalid_auth", "account_inactive", "token_revoked", "not_authed", "team_not_found", "no_installation", "not_installed"})


def workspace_gone(error: str | None) -> bool:
    return error in WORKSPACE_GONE


def maybe_posted(error: str | None) -> bool:
    return error is not None and (error in AMBIGUOUS or error.startswith("http_5"))


def retry_delay(attempt: int, *, retry_after: int | None = None, rng: random.Random | None = None) -> timedelta:
    """Exponential from 30 s, doubling per attempt, capped at 15 min, with ±20 % jitter so replicas
    and bursts spread out; never sooner than Slack's Retry-After."""
    base = min(CAP.total_seconds(), FIRST.total_seconds() * 2 ** max(0, attempt - 1))
    jittered = min(CAP.total_seconds(), base * (rng or random).uniform(0.8, 1.2))
    return timedelta(seconds=max(jittered, float(retry_after or 0)))


def worth_telling(error: str, previous_error: str | None) -> bool:
    """Tell the agent about the first failure, and later only about a new problem a person must fix
    (not_in_channel after a 500, say): never once per automatic retry."""
    if previous_error is None:
        return True
    return error != previous_error and not (error in TRANSIENT or error.startswith("http_5"))

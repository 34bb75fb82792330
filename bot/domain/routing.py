"""Where a brief goes: the destination team's channel.

Security skips tier progression entirely (the method's rule): whoever escalates, a security brief
goes straight to the security channel. Tier enforcement for L1 → Engineering/Product comes with the
triage rules; this module is the one place that decides the channel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.domain.brief import Destination


@dataclass(frozen=True)
class Route:
    destination: Destination
    channel_id: str
    note: str | None = None  # why the brief went somewhere other than asked, shown to the agent


def route(destination: Destination, channels: Mapping[Destination, str]) -> Route:
    if destination is Destination.SECURITY:
        return Route(destination, channels[Destination.SECURITY])
    return Route(destination, channels[destination])

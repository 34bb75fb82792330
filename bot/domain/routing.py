"""Where a brief goes: the destination team's channel, under the method's tier rules.

Support L1 escalates to L2; L2 escalates to Engineering or Product; any tier may go to Security
(which skips tier progression entirely) or Leadership. An L1 agent asking for Engineering or Product
is routed to Support L2 first when tiers are enforced, or warned when they are not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from bot.domain.brief import Destination


class Tier(str, Enum):
    L1 = "l1"
    L2 = "l2"


# Destinations an L1 agent reaches only through Support L2.
L2_ONLY = frozenset({Destination.ENGINEERING, Destination.PRODUCT})


@dataclass(frozen=True)
class Route:
    destination: Destination  # where it actually goes
    channel_id: str
    requested: Destination  # what the agent asked for
    note: str | None = None  # why it went elsewhere, shown to the agent and on the brief


def skips_tier(destination: Destination, tier: Tier) -> bool:
    """True when this agent asks for a team the tier rules put beyond their reach."""
    return tier is Tier.L1 and destination in L2_ONLY


def needs_tier_warning(destination: Destination, tier: Tier, *, enforce_tiers: bool, already_warned: bool) -> bool:
    """Tiers not enforced: an L1 agent skipping a tier is warned once, then may go on."""
    return not enforce_tiers and skips_tier(destination, tier) and not already_warned


def tier_note(destination: Destination) -> str:
    return (
        f"Support L1 escalates to {destination.label} through Support L2: L2 confirms it needs "
        f"{destination.label.lower()} and forwards it with the L2 findings."
    )


def route(destination: Destination, channels: Mapping[Destination, str], *, tier: Tier = Tier.L2, enforce_tiers: bool = True) -> Route:
    if destination is Destination.SECURITY:  # security skips tier progression, whoever escalates
        return Route(destination, channels[Destination.SECURITY], destination)
    if enforce_tiers and skips_tier(destination, tier):
        return Route(Destination.SUPPORT_L2, channels[Destination.SUPPORT_L2], destination, tier_note(destination))
    return Route(destination, channels[destination], destination)


def move_refusal(source: Destination, target: Destination, *, by_receiving_team: bool) -> str | None:
    """Why a brief with `source` may not move to `target` (None: it may), by the same tier rules.

    Support L2 confirms what Engineering and Product get, so those take a brief from Support L2 (moved
    by the L2 team, not by the agent past it) or from each other; any team may send it to Security,
    Leadership or back to Support L2. A security brief stays in Security: its privacy is its channel's.
    `by_receiving_team`: the mover is a member of the brief's current channel, its owner or an admin.
    """
    if target is source:
        return f"It is already with {source.label}: pick another team."
    if source is Destination.SECURITY:
        return (
            "A security brief stays in Security: only its channel may read it. If it is not a security matter, "
            "de-escalate it and file a new brief without the sensitive details."
        )
    if target in L2_ONLY:
        if source is Destination.LEADERSHIP:
            return f"{target.label} takes escalations through Support L2: move it to Support L2 first, who forward it with the L2 findings."
        if source is Destination.SUPPORT_L2 and not by_receiving_team:
            return f"Support L2 confirms it needs {target.label.lower()} and forwards it: ask someone in the Support L2 channel to move it."
    return None

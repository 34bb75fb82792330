"""Who may see a brief, and who may act on it: one rule, pure, used by every surface.

*Involved* in a brief: its escalating agent, its receiving owner, the members of the channel it was
posted to, and the admins (ESCALATION_ADMINS).

* **Acting** on any brief (every button and modal on it, every command that changes it) is for
  the people involved.
* **Seeing** a brief: an ordinary brief is posted in a team channel and its summary is what search
  and triage offer every agent, so anyone in the workspace may find it. A *private* brief (one sent
  to Security) is seen only by the people involved: to anyone else it does not exist, and every
  answer they get reads exactly as for an ID that was never used.

Channel membership is the one fact this module cannot know: the caller reads it (from Slack, cached)
and passes it in, as True, False or None (could not be read). An unknown membership fails closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from bot.domain.brief import Destination

PRIVATE_DESTINATIONS = frozenset({Destination.SECURITY.value})


class Verdict(Enum):
    ALLOWED = "allowed"
    REFUSED = "refused"  # may see the brief, may not act on it: told why
    UNSURE = "unsure"  # membership could not be read: told to try again
    HIDDEN = "hidden"  # may not know the brief exists: told exactly what an unknown ID gets


@dataclass(frozen=True)
class Parties:
    """The facts of a brief that decide who may see it or act on it."""

    escalation_id: int
    ref: str
    destination: str
    agent: str
    owner: str | None
    channel: str

    @property
    def private(self) -> bool:
        return is_private(self.destination)


def is_private(destination: str) -> bool:
    return destination in PRIVATE_DESTINATIONS


def named(parties: Parties, user: str, admins: frozenset[str]) -> bool:
    """Involved without asking Slack: the agent, the receiving owner, an admin."""
    return user in (parties.agent, parties.owner) or user in admins


def may_act(parties: Parties, user: str, *, admins: frozenset[str], member: bool | None) -> Verdict:
    """`member`: whether `user` is in the brief's channel (None: unknown). Not read when `named`."""
    if named(parties, user, admins) or member is True:
        return Verdict.ALLOWED
    if parties.private:
        return Verdict.HIDDEN  # unknown membership too: a hint to "try again" would confirm the brief exists
    return Verdict.UNSURE if member is None else Verdict.REFUSED


def may_act_as_agent(parties: Parties, user: str, *, admins: frozenset[str], member: bool | None) -> Verdict:
    """What only the brief's author can do (complete a brief posted incomplete): its agent and the admins.
    Anyone else involved is refused; on a private brief, anyone not involved gets HIDDEN."""
    if user == parties.agent or user in admins:
        return Verdict.ALLOWED
    if parties.private and not (user == parties.owner or member is True):
        return Verdict.HIDDEN
    return Verdict.REFUSED


def may_see(parties: Parties, user: str, *, admins: frozenset[str], member: bool | None) -> bool:
    return not parties.private or may_act(parties, user, admins=admins, member=member) is Verdict.ALLOWED


def needs_membership(parties: Parties, user: str, admins: frozenset[str], *, acting: bool) -> bool:
    """Whether the answer depends on channel membership (so the caller must look it up)."""
    return not named(parties, user, admins) and (acting or parties.private)


def may_name_in(destination: str, brief_channel: str, channel: str) -> bool:
    """Whether a brief may be named (linked, counted, quoted) in `channel`, where all its members read it:
    an ordinary brief anywhere in its workspace; a private one only in its own channel."""
    return not is_private(destination) or channel == brief_channel

"""Recurring patterns as groups of linked briefs: pure rules, no SQL, no Slack.

Two briefs are *linked* when a person confirmed they report the same problem (*Same problem*,
`/escalate link`), or automatically when matching scored them at least the high-confidence threshold
(bot.storage.search.AUTO_LINK_SCORE). A *Not related* (or `/escalate unlink`) is remembered as a
rejected link: that pair is never linked automatically nor suggested again. A brief's pattern (its
group) is every brief reachable from it over confirmed links, transitively, and over at most one
automatic link on the way: automatic matches never chain (each hop of a chain of merely similar
briefs drifts further from the first).

On a group the method's flags are:
* independent reports: distinct customers (a brief naming no customer counts as one of its own);
* resurfaced: an earlier brief of the group had been resolved;
* trending up: severity rose across the group, oldest to newest, never falling.
Each other report is *confirmed* when a path of confirmed links joins it to the brief at hand,
*automatic* otherwise, so a brief says which of its evidence people checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from bot.domain.brief import Severity

SEVERITY_RANK = {Severity.MEDIUM.value: 0, Severity.HIGH.value: 1, Severity.CRITICAL.value: 2}
RECURRING_REPORTS = 3  # the method: three or more independent reports of the same symptom
GROUP_LIMIT = 200  # a group is walked no further than this many briefs (a runaway chain stays cheap)


class LinkKind(str, Enum):
    CONFIRMED = "confirmed"  # a person said: same problem
    REJECTED = "rejected"  # a person said: not related (never suggested or linked automatically again)
    AUTOMATIC = "automatic"  # matching's score, found when the newer brief was filed


@dataclass(frozen=True)
class Link:
    low: int  # the pair, ordered: low < high
    high: int
    kind: LinkKind
    score: float | None = None

    def other(self, escalation_id: int) -> int:
        return self.high if escalation_id == self.low else self.low


def pair(a: int, b: int) -> tuple[int, int]:
    """The pair as stored: (smaller id, larger id). ValueError for a brief paired with itself."""
    if a == b:
        raise ValueError("a brief cannot be linked to itself")
    return (a, b) if a < b else (b, a)


def trusted(link: Link, auto_score: float) -> bool:
    """Evidence the flag may rest on: confirmed by a person, or automatic with a high-confidence score."""
    if link.kind is LinkKind.CONFIRMED:
        return True
    return link.kind is LinkKind.AUTOMATIC and link.score is not None and link.score >= auto_score


def group(start: int, fetch: Callable[[set[int], bool], Iterable[Link]], auto_score: float, *, limit: int = GROUP_LIMIT) -> dict[int, bool]:
    """The briefs in `start`'s pattern (`start` excluded), each mapped to True when confirmed links
    alone join it to `start`. Confirmed links are transitive; a path may take at most one automatic
    link (scoring at least `auto_score`), so automatic matches never chain (A like B, B like C, …
    until Z, which is nothing like A). `fetch(ids, automatic)` gives the links touching any of `ids`:
    the confirmed ones, and the automatic ones too when `automatic` (others are ignored)."""
    confirmed, hop = _closure({start}, fetch, auto_score, limit, want_automatic=True)
    reached, _ = _closure(hop - confirmed, fetch, auto_score, limit - len(confirmed), want_automatic=False) if hop - confirmed else (set(), set())
    return {i: i in confirmed for i in sorted((confirmed | reached) - {start})}


def _closure(
    seeds: set[int], fetch: Callable[[set[int], bool], Iterable[Link]], auto_score: float, limit: int, *, want_automatic: bool
) -> tuple[set[int], set[int]]:
    """(the briefs confirmed links join to `seeds`, those one trusted automatic link away from them)."""
    seen, frontier, automatic = set(seeds), set(seeds), set()
    while frontier and len(seen) < limit:
        found: set[int] = set()
        for link in fetch(frontier, want_automatic):
            ends = {link.low, link.high}
            if link.kind is LinkKind.CONFIRMED:
                found |= ends
            elif want_automatic and trusted(link, auto_score):
                automatic |= ends
        frontier = found - seen
        seen |= frontier
    return seen, automatic - seen


@dataclass(frozen=True)
class Report:
    """One brief of a group, as the flags need it."""

    escalation_id: int
    created_at: datetime
    customers: tuple[str, ...]  # normalised names; () when the brief names none
    severity: str
    resolved: bool


def other_customers(a: Sequence[str], b: Sequence[str]) -> bool:
    """Whether two briefs come from different customers (or one of them does not say)."""
    return not a or not b or not (set(a) & set(b))


def independent(reports: Iterable[Report]) -> list[Report]:
    """The reports that each bring a customer not already counted, oldest first."""
    seen: set[str] = set()
    counted = []
    for report in sorted(reports, key=lambda r: (r.created_at, r.escalation_id)):
        if not report.customers or not (set(report.customers) & seen):
            counted.append(report)
            seen |= set(report.customers)
    return counted


def trending_up(reports: Iterable[Report]) -> bool:
    """Severity rose from the oldest to the newest brief of the group and never fell on the way."""
    ranks = [SEVERITY_RANK.get(r.severity, 0) for r in sorted(reports, key=lambda r: (r.created_at, r.escalation_id))]
    return len(ranks) >= 2 and ranks[-1] > ranks[0] and all(b >= a for a, b in zip(ranks, ranks[1:], strict=False))


@dataclass(frozen=True)
class GroupFacts:
    """What a brief's flag says about its group."""

    independent_reports: int  # this brief plus the others from customers not already counted
    confirmed: int  # of those others: joined to this brief by confirmed links
    automatic: int  # of those others: joined through at least one automatic link
    resurfaced: tuple[int, ...]  # earlier briefs of the group that had been resolved
    trending_up: bool

    @property
    def recurring(self) -> bool:
        return self.independent_reports >= RECURRING_REPORTS


def group_facts(this: Report, others: Sequence[Report], confirmed: set[int] | frozenset[int]) -> GroupFacts:
    """The flags of `this` brief, whose group's other briefs are `others` (`confirmed`: their ids joined by confirmed links)."""
    counted = [r for r in independent([this, *others]) if r.escalation_id != this.escalation_id]
    n_confirmed = sum(1 for r in counted if r.escalation_id in confirmed)
    earlier_resolved = tuple(r.escalation_id for r in sorted(others, key=lambda r: r.created_at) if r.resolved and r.created_at <= this.created_at)
    return GroupFacts(
        independent_reports=len(independent([this, *others])),
        confirmed=n_confirmed,
        automatic=len(counted) - n_confirmed,
        resurfaced=earlier_resolved,
        trending_up=trending_up([this, *others]),
    )


@dataclass(frozen=True)
class Suggestion:
    """An earlier brief offered as "possibly the same problem", for a person to confirm or reject."""

    escalation_id: int
    ref: str
    customers: tuple[str, ...]
    created_at: datetime
    summary: str
    status: str  # the status's label
    channel_id: str
    message_ts: str | None
    score: float
    counted: bool  # already counted in the flag automatically (high-confidence score)

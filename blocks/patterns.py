"""Recurring-pattern flags on a brief (recurring, resurfaced, trending up), as mrkdwn lines."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from blocks.text import archive_link, escape, truncate


class RelatedBrief(Protocol):
    """An earlier brief a pattern points to (bot.usecases.patterns.Related has it)."""

    @property
    def ref(self) -> str: ...
    @property
    def channel_id(self) -> str: ...
    @property
    def message_ts(self) -> str | None: ...
    @property
    def resolution(self) -> str | None: ...


class PatternFlags(Protocol):
    """What the flags read of a brief's pattern (bot.usecases.patterns.Pattern has it)."""

    @property
    def recurring(self) -> bool: ...
    @property
    def related(self) -> Sequence[RelatedBrief]: ...
    @property
    def independent_reports(self) -> int: ...
    @property
    def resurfaced(self) -> Sequence[RelatedBrief]: ...
    @property
    def trending_up(self) -> bool: ...
    @property
    def confirmed(self) -> int: ...
    @property
    def automatic(self) -> int: ...


def _link(related: RelatedBrief) -> str:
    if related.message_ts:
        return f"<{archive_link(related.channel_id, related.message_ts)}|{related.ref}>"
    return related.ref


def evidence(pattern: PatternFlags) -> str:
    """Which of the other reports people confirmed and which matching linked: "2 confirmed, 1 automatic"."""
    parts = [f"{n} {what}" for n, what in ((pattern.confirmed, "confirmed"), (pattern.automatic, "automatic")) if n]
    return ", ".join(parts) or "no other report"


def pattern_lines(pattern: PatternFlags) -> list[str]:
    """The flags for a brief: recurring pattern, resurfaced, trending up (empty when none applies)."""
    lines = []
    if pattern.recurring:
        refs = ", ".join(_link(r) for r in pattern.related[:8])
        lines.append(f":repeat: *Recurring pattern: {pattern.independent_reports} independent reports* ({evidence(pattern)}): {refs}")
    for old in pattern.resurfaced[:3]:
        lines.append(f":recycle: *Resurfaced:* {_link(old)} had been resolved: {escape(truncate(old.resolution or 'no resolution recorded', 300))}")
    if pattern.trending_up:
        lines.append(":chart_with_upwards_trend: *Trending up:* severity has risen across related briefs")
    return lines

"""The figures of /escalate stats and the weekly digest (computed by bot.storage.stats, whose
docstring defines each one; rendered by blocks.stats)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class PatternLine:
    ref: str
    summary: str
    independent_reports: int
    related: tuple[str, ...]  # refs of the earlier briefs with the same symptom
    trending_up: bool = False
    resurfaced: bool = False


@dataclass(frozen=True)
class Figures:
    since: datetime
    until: datetime
    total: int = 0
    by_destination: dict[str, int] = field(default_factory=dict)
    by_severity: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    by_product_area: dict[str, int] = field(default_factory=dict)  # briefs filed under an area (ESCALATION_PRODUCT_AREAS)
    acknowledged: int = 0
    median_ack_seconds: float | None = None
    resolved: int = 0
    median_resolve_seconds: float | None = None
    deadline_breaches: int = 0
    checkins_on_time: int = 0
    checkins_missed: int = 0
    customer_updates_on_time: int = 0
    customer_updates_missed: int = 0
    patterns: tuple[PatternLine, ...] = ()

    @property
    def checkin_share(self) -> float | None:
        return _share(self.checkins_on_time, self.checkins_missed)

    @property
    def customer_update_share(self) -> float | None:
        return _share(self.customer_updates_on_time, self.customer_updates_missed)


def _share(on_time: int, missed: int) -> float | None:
    return on_time / (on_time + missed) if on_time + missed else None

"""/escalate stats: the team's figures over a period (the weekly digest sends the same figures)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from blocks.stats import stats_blocks
from bot.clock import Clock
from bot.storage import stats
from bot.storage.db import Database

STATS_PERIODS = {"7d": 7, "30d": 30, "90d": 90}


@dataclass
class Stats:
    db: Database
    clock: Clock

    def stats(self, team_id: str, period: str = "7d") -> tuple[str, list[dict]]:
        days = STATS_PERIODS[period]
        until = self.clock.now() + timedelta(seconds=1)  # windows end before `until`: include this very second
        with self.db.session() as s:
            figures = stats.figures(s, team_id, until - timedelta(days=days), until)
        return stats_blocks(figures, title=f"Escalations, last {days} days")

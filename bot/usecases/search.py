"""/escalate search and triage's "resolved before": briefs found by their words.

Pattern matching (bot.usecases.patterns) uses the same full-text index (bot.storage.search) to
relate a new brief to earlier ones; this module answers a person's query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.domain.brief import format_ref
from bot.domain.status import CLOSED_STATUSES
from bot.storage import escalations, search
from bot.storage.db import Database
from bot.usecases.permissions import Guard, parties_of


@dataclass(frozen=True)
class Hit:
    ref: str
    summary: str
    status: str
    severity: str
    destination: str
    created_at: datetime
    resolution: str | None
    lessons: str | None
    channel_id: str
    message_ts: str | None
    score: float = 0.0


@dataclass
class Search:
    db: Database
    clock: Clock
    guard: Guard  # what the asker may see (bot.domain.visibility): a security brief only by the people involved

    def resolved_like(self, team_id: str, symptom: str, *, asker: str) -> list[tuple[str, str, str]]:
        """Past briefs with a similar symptom that were resolved or de-escalated, with what was learned."""
        with self.db.read_session() as s:
            matches = search.similar_escalations(s, team_id=team_id, text=symptom, product_area=None, since=self.clock.now() - timedelta(days=365))
            found = escalations.get_escalations(s, (m.escalation_id for m in matches))
            rows = [r for r in (found.get(m.escalation_id) for m in matches) if r is not None and r.status in CLOSED_STATUSES and r.resolution]
            shown = [
                (parties_of(r), (format_ref(r.number), r.summary, (r.resolution or "") + (f"\nNext time: {r.lessons}" if r.lessons else ""))) for r in rows
            ]
        # Outside the session: membership of a security channel may be read from Slack.
        return [line for _parties, line in self.guard.visible(shown, asker, lambda item: item[0])][:5]

    def search(self, team_id: str, words: str, *, asker: str) -> list[Hit]:
        with self.db.read_session() as s:
            found = []
            matches = search.search_escalations(s, team_id=team_id, words=words, limit=20)
            rows = escalations.get_escalations(s, (m.escalation_id for m in matches))
            for match in matches:
                row = rows.get(match.escalation_id)
                if row is None:
                    continue
                hit = Hit(
                    format_ref(row.number),
                    row.summary,
                    row.status,
                    row.severity,
                    row.destination,
                    row.created_at,
                    row.resolution,
                    row.lessons,
                    row.channel_id,
                    row.message_ts,
                    match.score,
                )
                found.append((parties_of(row), hit))
        return [hit for _parties, hit in self.guard.visible(found, asker, lambda item: item[0])][:10]

"""/escalate search and triage's "resolved before": briefs found by their words.

Pattern matching (bot.usecases.patterns) uses the same full-text index (bot.storage.search) to
relate a new brief to earlier ones; this module answers a person's query.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.clock import Clock
from bot.domain.brief import format_ref
from bot.domain.product_areas import same_area, split_area_filter
from bot.domain.status import CLOSED_STATUSES
from bot.embeddings import Embedder
from bot.storage import escalations, product_areas, search
from bot.storage.db import Database
from bot.usecases.permissions import Guard, parties_of

log = logging.getLogger(__name__)
AREA_POOL = 100  # `area:` filters this many ranked matches (or lists this many newest of the area)


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
    product_area: str | None = None


@dataclass
class Search:
    db: Database
    clock: Clock
    guard: Guard  # what the asker may see (bot.domain.visibility): a security brief only by the people involved
    embedder: Embedder | None = None  # search by meaning too (bot.embeddings); None: by words only

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
        """`area:Billing` among the words keeps that product area's briefs only (alone: its newest)."""
        area_text, words = split_area_filter(words)
        vector, model = self._embedded(words)  # before the session: CPU work, or a call to an endpoint
        with self.db.read_session() as s:
            found = []
            area = None
            if area_text is not None:
                area = next((a for a in product_areas.areas_in_use(s, team_id) if same_area(a, area_text)), None)
                if area is None:
                    return []
            if area is not None and not search.query_terms(words):
                matches = [search.Match(i, 0.0) for i in product_areas.recent_in_area(s, team_id, area, limit=AREA_POOL)]
            else:  # the area filters the ranked matches: a wider pool, so ten are left after it
                matches = search.search_escalations(s, team_id=team_id, words=words, limit=20 if area is None else AREA_POOL, vector=vector, model=model)
            rows = escalations.get_escalations(s, (m.escalation_id for m in matches))
            for match in matches:
                row = rows.get(match.escalation_id)
                if row is None or (area is not None and row.product_area != area):
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
                    row.product_area,
                )
                found.append((parties_of(row), hit))
        return [hit for _parties, hit in self.guard.visible(found, asker, lambda item: item[0])][:10]

    def _embedded(self, words: str) -> tuple[Any, str | None]:
        """The query's vector and model, or (None, None) without an embedder or when it fails (words only then)."""
        if self.embedder is None or not search.query_terms(words):
            return None, None
        try:
            return self.embedder.embed([words])[0], self.embedder.name
        except Exception:  # noqa: BLE001 - a failing embedder never stops a search
            log.warning("embedding a search query failed; searching by words only", exc_info=True)
            return None, None

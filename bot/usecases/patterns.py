"""What past escalations know: similar briefs (recurring patterns), what support resolved, search.

The matching itself is full-text search in the database (bot.storage.search); this module turns
matches into what people see, and applies the method's rules: reports count as independent only
from different customers; a match with a resolved brief has resurfaced; rising severity across
related briefs is trending up. A security brief is related only to briefs in its own channel's view:
it may list earlier ordinary briefs, and is never named on them (bot.domain.visibility.may_name_in).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.domain.brief import Severity, format_ref
from bot.domain.status import LogKind
from bot.domain.visibility import may_name_in
from bot.storage import escalations, running_log, search
from bot.storage.db import Database
from bot.storage.models import Escalation

RESOLVED = "resolved"
NUMBERING_SLACK = 64  # PostgreSQL: briefs below the newest id seen that may still have been committing
SEVERITY_ORDER = {Severity.MEDIUM.value: 0, Severity.HIGH.value: 1, Severity.CRITICAL.value: 2}


@dataclass(frozen=True)
class Related:
    escalation_id: int
    ref: str
    summary: str
    severity: str
    status: str
    created_at: datetime
    channel_id: str
    message_ts: str | None
    resolution: str | None
    customers: tuple[str, ...]
    destination: str


@dataclass(frozen=True)
class Pattern:
    related: tuple[Related, ...] = ()  # earlier briefs with the same symptom, oldest first
    independent_reports: int = 1  # this brief plus matches from customers not already counted
    resurfaced: tuple[Related, ...] = ()  # matches that had been resolved
    trending_up: bool = False

    @property
    def recurring(self) -> bool:
        return self.independent_reports >= 3

    @property
    def flagged(self) -> bool:
        return self.recurring or bool(self.resurfaced) or self.trending_up


def pattern_summary(pattern: Pattern) -> str:
    parts = []
    if pattern.recurring:
        parts.append(f"Recurring pattern: {pattern.independent_reports} independent reports")
    if pattern.resurfaced:
        parts.append("Resurfaced: " + ", ".join(r.ref for r in pattern.resurfaced))
    if pattern.trending_up:
        parts.append("Trending up")
    related = ", ".join(r.ref for r in pattern.related)
    return "; ".join(parts) + (f" (related: {related})" if related else "")


def customers_of(row: Escalation) -> tuple[str, ...]:
    """Normalised customer names from the brief's "which customers" (empty when not given)."""
    # Read from the stored JSON: validating the whole brief (escalations.brief_of) for one field cost
    # more than the rest of this, for each of up to 20 related briefs per new one.
    return _customers(((row.brief or {}).get("impact") or {}).get("affected_names"))


def _customers(affected_names: str | None) -> tuple[str, ...]:
    names = (affected_names or "").replace(" and ", ",").replace(";", ",")
    return tuple(sorted({" ".join(n.lower().replace("corp", "").replace("inc", "").split()) for n in names.split(",") if n.strip()}))


def related_briefs(session, ids) -> dict[int, Related]:
    """The briefs `ids` as Related, in one statement (only the columns shown and the customer names)."""
    return {
        r.id: Related(
            r.id,
            format_ref(r.number),
            r.summary,
            r.severity,
            r.status,
            r.created_at,
            r.channel_id,
            r.message_ts,
            r.resolution,
            _customers(r.affected_names),
            r.destination,
        )
        for r in search.related_rows(session, ids)
    }


@dataclass(frozen=True)
class Prior:
    """A new brief's matches among the briefs stored before it, found before its write transaction."""

    matches: tuple[search.Match, ...]
    last_id: int  # the newest brief that search could see: later ones are checked at recording
    related: dict[int, Related]  # the matched briefs as read then (loaded here, not in the write transaction)


@dataclass
class Patterns:
    db: Database
    clock: Clock
    window_days: int = 30

    def prior(self, team_id: str, brief: dict, *, at: datetime, product_area: str | None = None) -> Prior:
        """The full-text search for a brief about to be stored, in a read transaction of its own.
        It is most of a brief's database time (~10 ms at a few thousand recent briefs); inside the
        write transaction it held SQLite's one write lock, so every other writer (the tick, a click
        served by another process, a brief worker) waited behind it."""
        with self.db.read_session() as session:
            # The newest id first: a brief stored while the search runs is then at least re-checked.
            last_id = escalations.newest_id(session)
            matches = search.similar_escalations(
                session, team_id=team_id, text=search.searchable_text(brief), product_area=product_area, since=at - timedelta(days=self.window_days)
            )
            related = related_briefs(session, (m.escalation_id for m in matches))
        return Prior(tuple(matches), last_id, related)

    def pattern_for(self, session, row: Escalation, prior: Prior | None = None) -> Pattern:
        """`prior`: the matches found before storing `row`; then only briefs stored since are searched here."""
        text = search.searchable_text(row.brief)
        known: dict[int, Related] = {}
        if prior is None:
            since = row.created_at - timedelta(days=self.window_days)
            matches = search.similar_escalations(session, team_id=row.team_id, text=text, product_area=row.product_area, since=since, exclude_id=row.id)
        else:
            # A brief found before storing is shown as it was read then (a status changed since is
            # seen at the next render): loading it again here would hold SQLite's write lock longer.
            known = prior.related
            # PostgreSQL numbers rows when they are inserted, not committed: look back a little.
            after = prior.last_id - (0 if session.get_bind().dialect.name == "sqlite" else NUMBERING_SLACK)
            newer = search.similar_among_newer(session, team_id=row.team_id, text=text, product_area=row.product_area, after_id=after, exclude_id=row.id)
            found = {m.escalation_id: m for m in newer}
            found.update({m.escalation_id: m for m in prior.matches if m.escalation_id != row.id})
            matches = sorted(found.values(), key=lambda m: (-m.score, -m.escalation_id))[:20]
        by_id = {**known, **related_briefs(session, (m.escalation_id for m in matches if m.escalation_id not in known))}
        earlier = [r for r in (by_id.get(m.escalation_id) for m in matches) if r is not None and r.created_at <= row.created_at]
        # Shown on this brief, in its channel: a private (security) brief never outside its own channel.
        earlier = [r for r in earlier if may_name_in(r.destination, r.channel_id, row.channel_id)]
        related = sorted(earlier, key=lambda r: r.created_at)
        seen: set[str] = set(customers_of(row))
        independent = 1
        for r in related:
            if not r.customers or not (set(r.customers) & seen):  # a different customer (or one we cannot tell)
                independent += 1
                seen |= set(r.customers)
        severities = [SEVERITY_ORDER[r.severity] for r in related] + [SEVERITY_ORDER[row.severity]]
        trending = len(severities) >= 2 and severities[-1] > severities[0] and all(b >= a for a, b in zip(severities, severities[1:]))
        return Pattern(tuple(related), independent, tuple(r for r in related if r.status == RESOLVED), trending)

    def record(self, session, row: Escalation, prior: Prior | None = None) -> Pattern:
        """Find the pattern for a newly stored brief and keep it in its running log (if flagged)."""
        pattern = self.pattern_for(session, row, prior)
        if pattern.flagged:
            running_log.add_log(
                session,
                row.id,
                actor=running_log.BOT_ACTOR,
                kind=LogKind.PATTERN,
                text=pattern_summary(pattern),
                at=row.created_at,
                data={
                    "independent_reports": pattern.independent_reports,
                    "related": [r.escalation_id for r in pattern.related],
                    "resurfaced": [r.escalation_id for r in pattern.resurfaced],
                    "trending_up": pattern.trending_up,
                },
            )
        return pattern

    def recorded(self, session, escalation_id: int) -> Pattern:
        """The pattern found when the brief was stored (no search: rendering stays cheap)."""
        entry = running_log.last_log_entry(session, escalation_id, LogKind.PATTERN)
        if entry is None or not entry.data:
            return Pattern()
        ids = entry.data.get("related", [])
        rows = related_briefs(session, ids)
        related = tuple(rows[i] for i in dict.fromkeys(ids) if i in rows)
        resurfaced = tuple(r for r in related if r.escalation_id in set(entry.data.get("resurfaced", [])))
        return Pattern(related, int(entry.data.get("independent_reports", 1)), resurfaced, bool(entry.data.get("trending_up")))

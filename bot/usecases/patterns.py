"""What past escalations know: similar briefs (recurring patterns), what support resolved, search.

The matching itself is full-text search in the database (bot.storage.search). When a brief is filed,
its matches are stored as automatic links with their score (bot.storage.pattern_links); people
confirm or reject them (bot.usecases.pattern_links). A brief's pattern is its group: the briefs
joined to it by confirmed links and by automatic links scoring at least search.AUTO_LINK_SCORE
(bot.domain.patterns has the rules: reports count as independent only from different customers; a
resolved earlier brief of the group has resurfaced; rising severity across the group is trending
up). A security brief is related only to briefs in its own channel's view: it may list earlier
ordinary briefs, and is never named on them (bot.domain.visibility.may_name_in).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.clock import Clock
from bot.domain import patterns as rules
from bot.domain.brief import format_ref
from bot.domain.product_areas import matching_hint
from bot.domain.status import EscalationStatus, LogKind
from bot.domain.visibility import PRIVATE_DESTINATIONS, Parties, may_name_in
from bot.embeddings import Embedder
from bot.storage import escalations, pattern_links, running_log, search
from bot.storage.db import Database
from bot.storage.models import Escalation

RESOLVED = "resolved"
NUMBERING_SLACK = 64  # PostgreSQL: briefs below the newest id seen that may still have been committing
EMBED_BATCH = 200  # stored briefs embedded per scheduler tick (wordllama: ~20 ms of CPU)

log = logging.getLogger(__name__)


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
    confirmed: int = 0  # of the other independent reports: joined to this brief by confirmed links
    automatic: int = 0  # of the other independent reports: joined through a high-confidence automatic link

    @property
    def recurring(self) -> bool:
        return self.independent_reports >= 3

    @property
    def flagged(self) -> bool:
        return self.recurring or bool(self.resurfaced) or self.trending_up


def pattern_summary(pattern: Pattern) -> str:
    parts = []
    if pattern.recurring:
        parts.append(f"Recurring pattern: {pattern.independent_reports} independent reports ({evidence(pattern)})")
    if pattern.resurfaced:
        parts.append("Resurfaced: " + ", ".join(r.ref for r in pattern.resurfaced))
    if pattern.trending_up:
        parts.append("Trending up")
    related = ", ".join(r.ref for r in pattern.related)
    return "; ".join(parts) + (f" (related: {related})" if related else "")


def evidence(pattern: Pattern) -> str:
    """Which of the other reports people confirmed and which matching linked: "2 confirmed, 1 automatic"."""
    return ", ".join(f"{n} {what}" for n, what in ((pattern.confirmed, "confirmed"), (pattern.automatic, "automatic")) if n) or "no other report"


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
    vector: Any = None  # the brief's embedding (numpy), computed before any session; stored with the brief
    model: str | None = None  # the embedder that made it


@dataclass
class Patterns:
    db: Database
    clock: Clock
    window_days: int = 30
    embedder: Embedder | None = None  # the semantic signal (bot.embeddings); None: lexical matching only
    # A security brief's text goes to an embedder outside this process (an endpoint) only when the
    # admin lets security details leave Slack (ESCALATION_SECURITY_DETAILS_OUTSIDE_SLACK); it is then
    # matched on words alone. A local model (wordllama) embeds it in-process like any other brief.
    private_details_outside: bool = False

    def prior(self, team_id: str, brief: dict, *, at: datetime, product_area: str | None = None) -> Prior:
        """The full-text search for a brief about to be stored, in a read transaction of its own.
        It is most of a brief's database time (~10 ms at a few thousand recent briefs); inside the
        write transaction it held SQLite's one write lock, so every other writer (the tick, a click
        served by another process, a brief worker) waited behind it."""
        vector, model = self.embed(brief)  # CPU work (or a call to an endpoint): before any session
        with self.db.read_session() as session:
            # The newest id first: a brief stored while the search runs is then at least re-checked.
            last_id = escalations.newest_id(session)
            matches = search.similar_escalations(
                session,
                team_id=team_id,
                text=search.searchable_text(brief),
                product_area=product_area,
                since=at - timedelta(days=self.window_days),
                names=search.customer_names(brief),
                vector=vector,
                model=model,
            )
            related = related_briefs(session, (m.escalation_id for m in matches))
        return Prior(tuple(matches), last_id, related, vector, model)

    def embed(self, brief: dict) -> tuple[Any, str | None]:
        """The brief's vector and its model's name, or (None, None) without an embedder or when it fails
        (an unreachable endpoint never stops a brief: it is matched lexically, and embedded later)."""
        if self.embedder is None or not self._may_embed(brief.get("destination")):
            return None, None
        try:
            return self.embedder.embed([search.embedding_text(brief)])[0], self.embedder.name
        except Exception:  # noqa: BLE001 - any embedder failure degrades to lexical matching
            log.warning("embedding a brief failed; matching it lexically", exc_info=True)
            return None, None

    def _not_embedded(self) -> frozenset[str]:
        """Destinations whose briefs this embedder may not read (see `private_details_outside`)."""
        remote = getattr(self.embedder, "remote", True)  # unknown embedders are treated as remote
        return PRIVATE_DESTINATIONS if remote and not self.private_details_outside else frozenset()

    def _may_embed(self, destination: str | None) -> bool:
        return destination not in self._not_embedded()

    def embed_backlog(self, *, limit: int = EMBED_BATCH) -> int:
        """Embed up to `limit` briefs that have no vector of the current model (stored before embeddings
        existed, filed while the embedder failed, or embedded by another model), newest first; the
        scheduler calls this each tick. Returns how many were embedded."""
        if self.embedder is None:
            return 0
        with self.db.read_session() as session:
            pending = search.without_embedding(session, self.embedder.name, limit=limit, skip_destinations=self._not_embedded())
        if not pending:
            return 0
        try:
            vectors = self.embedder.embed([search.embedding_text(brief) for _id, brief in pending])
        except Exception:  # noqa: BLE001 - tried again at the next tick
            log.warning("embedding %d stored briefs failed", len(pending), exc_info=True)
            return 0
        with self.db.session() as session:
            for (escalation_id, _brief), vector in zip(pending, vectors, strict=True):
                search.store_embedding(session, escalation_id, vector, self.embedder.name)
        return len(pending)

    def pattern_for(self, session, row: Escalation, prior: Prior | None = None) -> Pattern:
        """The pattern `row` would be in with matching's links added (nothing is stored: `record` stores them)."""
        matches = self.matches_for(session, row, prior)
        extra = [rules.Link(*rules.pair(row.id, m.escalation_id), rules.LinkKind.AUTOMATIC, m.score) for m in matches if m.escalation_id != row.id]
        return self.group_pattern(session, row, extra=extra)

    def matches_for(self, session, row: Escalation, prior: Prior | None = None) -> list[search.Match]:
        """Matching's candidates for `row`, best first. `prior`: the matches found before storing
        `row`; then only briefs stored since are searched here."""
        text = search.searchable_text(row.brief)
        names = search.customer_names(row.brief)
        area = matching_hint(row.product_area)  # "Other" says nothing about where the problem is
        if prior is None:
            since = row.created_at - timedelta(days=self.window_days)
            matches = search.similar_escalations(session, team_id=row.team_id, text=text, product_area=area, since=since, exclude_id=row.id, names=names)
        else:
            if prior.vector is not None and prior.model:  # computed before the transaction; kept with the brief
                search.store_embedding(session, row.id, prior.vector, prior.model, row=row, new=True)
            # PostgreSQL numbers rows when they are inserted, not committed: look back a little.
            after = prior.last_id - (0 if session.get_bind().dialect.name == "sqlite" else NUMBERING_SLACK)
            newer = search.similar_among_newer(
                session,
                team_id=row.team_id,
                text=text,
                product_area=area,
                after_id=after,
                exclude_id=row.id,
                names=names,
                vector=prior.vector,
                model=prior.model,
            )
            found = {m.escalation_id: m for m in newer}
            found.update({m.escalation_id: m for m in prior.matches if m.escalation_id != row.id})
            matches = sorted(found.values(), key=lambda m: (-m.score, -m.escalation_id))[:20]
        return matches

    def group_pattern(
        self, session, row: Escalation, *, extra: list[rules.Link] | tuple[rules.Link, ...] = (), known: dict[int, Related] | None = None
    ) -> Pattern:
        """`row`'s pattern: its group over trusted links (confirmed, or automatic scoring at least
        search.AUTO_LINK_SCORE; bot.domain.patterns.group), as shown on it. `extra`: automatic links
        not stored yet, counted as if they were. `known`: briefs already read (not loaded again)."""
        auto = search.AUTO_LINK_SCORE

        def fetch(ids: set[int], automatic: bool) -> list[rules.Link]:
            stored = pattern_links.touching(session, ids, auto_score=auto if automatic else None)
            return stored + [link for link in extra if automatic and (link.low in ids or link.high in ids)]

        members = rules.group(row.id, fetch, auto)
        # A brief read before storing (Prior.related) is shown as it was read then (a status changed since
        # is seen at the next render): loading it again would hold SQLite's write lock longer.
        by_id = {i: (known or {})[i] for i in members if i in (known or {})}
        by_id.update(related_briefs(session, (i for i in members if i not in by_id)))
        # Shown on this brief, in its channel: a private (security) brief never outside its own channel.
        related = sorted((r for r in by_id.values() if may_name_in(r.destination, r.channel_id, row.channel_id)), key=lambda r: (r.created_at, r.escalation_id))
        this = rules.Report(row.id, row.created_at, customers_of(row), row.severity, row.status == RESOLVED)
        others = [rules.Report(r.escalation_id, r.created_at, r.customers, r.severity, r.status == RESOLVED) for r in related]
        facts = rules.group_facts(this, others, {i for i, confirmed in members.items() if confirmed})
        return Pattern(
            tuple(related), facts.independent_reports, tuple(by_id[i] for i in facts.resurfaced), facts.trending_up, facts.confirmed, facts.automatic
        )

    def record(self, session, row: Escalation, prior: Prior | None = None) -> Pattern:
        """Store a newly stored brief's matches as automatic links, and keep its pattern in its running log (if flagged)."""
        matches = self.matches_for(session, row, prior)
        floor = search.SUGGEST_MIN_SCORE
        pattern_links.add_automatic(session, row.id, [(m.escalation_id, m.score) for m in matches if m.score >= floor], at=row.created_at, fresh=True)
        pattern = self.group_pattern(session, row, known=prior.related if prior is not None else None)
        if pattern.flagged:
            self.log_pattern(session, row, pattern, at=row.created_at)
        return pattern

    def recorded(self, session, escalation_id: int) -> Pattern:
        """The brief's pattern as its stored links make it now (no search: rendering stays cheap)."""
        row = escalations.get_escalation(session, escalation_id)
        return self.group_pattern(session, row) if row is not None else Pattern()

    def log_pattern(self, session, row: Escalation, pattern: Pattern, *, at: datetime) -> None:
        """The pattern's entry in the brief's running log (what stats count as a flagged brief)."""
        running_log.add_log(
            session,
            row.id,
            actor=running_log.BOT_ACTOR,
            kind=LogKind.PATTERN,
            text=pattern_summary(pattern),
            at=at,
            data={
                "independent_reports": pattern.independent_reports,
                "related": [r.escalation_id for r in pattern.related],
                "resurfaced": [r.escalation_id for r in pattern.resurfaced],
                "trending_up": pattern.trending_up,
                "confirmed": pattern.confirmed,
                "automatic": pattern.automatic,
            },
        )

    def suggestions(self, session, escalation_id: int, *, limit: int = 20) -> list[tuple[rules.Suggestion, Parties, str]]:
        """Earlier briefs of the window from other customers that matching linked to `row` and nobody
        decided on yet, best first: (suggestion, its parties for the visibility rule, its destination).
        The caller applies visibility (who is shown them) and keeps search.SUGGESTIONS."""
        row = pattern_links.filed(session, escalation_id)
        if row is None:
            return []
        rows = pattern_links.undecided(
            session, row.id, min_score=search.SUGGEST_MIN_SCORE, since=row.created_at - timedelta(days=self.window_days), before=row.created_at, limit=limit
        )
        own = _customers(row.affected_names)
        auto = search.AUTO_LINK_SCORE
        found = []
        for r in rows:
            customers = _customers(r.affected_names)
            if r.id == row.id or not rules.other_customers(own, customers):
                continue
            ref = format_ref(r.number)
            suggestion = rules.Suggestion(
                r.id,
                ref,
                customers,
                r.created_at,
                r.summary,
                EscalationStatus(r.status).label,
                r.channel_id,
                r.message_ts,
                float(r.score or 0.0),
                (r.score or 0.0) >= auto,
            )
            found.append((suggestion, Parties(r.id, ref, r.destination, r.agent_user_id, r.receiving_owner_id, r.channel_id), r.destination))
        return found

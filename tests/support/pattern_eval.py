"""Evaluating recurring-pattern matching on a labelled set (issue 18), through the bot's filing path.

Used by tests/test_pattern_matching.py (targets on the tuning set) and benchmarks/pattern_matching.py
(every figure, on the tuning and frozen sets, SQLite and PostgreSQL).

A labelled set is briefs with a `group` (one problem) and a `customer`, filed in time order
(`days_ago`) the way the bot files them: `Patterns.prior` (the embedding and the search, before the
write transaction), then the brief is stored and `Patterns.matches_for` checks the briefs stored
meanwhile and keeps the embedding. Each brief's matches are its candidate links, best first.

What is measured (a brief's "related earlier briefs": earlier briefs of its group, from another
customer, at most 30 days older):
- automatic links: the matches scoring at least search.AUTO_LINK_SCORE; pair precision/recall;
- the automatic flag ("Recurring pattern: N independent reports", N >= 3): a brief linked
  automatically to earlier briefs of at least 2 other customers; truth: it has related earlier
  briefs from at least 2 other customers;
- suggestions: the search.SUGGESTIONS best matches from other customers scoring at least
  search.SUGGEST_MIN_SCORE; hit@5 (share of briefs with a related earlier brief that have at least
  one among their suggestions) and the share of related earlier briefs that are suggested;
- confirmed flag: people click *Same problem* on suggested briefs of the same group and *Not
  related* on the others (an automatic link they rejected is dropped); links (confirmed, and
  automatic ones nobody rejected) group transitively; a brief is flagged when its group holds earlier
  briefs (within 30 days) of at least 2 other customers;
- search precision@5: for each plain-language query, the share of the top 5 of `/escalate search`
  that belong to a relevant group, out of min(5, briefs in the relevant groups).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.clock import FrozenClock
from bot.domain.brief import Brief, Destination
from bot.domain.product_areas import matching_hint
from bot.domain.validation import validate_draft
from bot.storage import escalations, search
from bot.storage.db import Database
from bot.usecases.patterns import Patterns
from tests.factories import NOW, draft

DATA = Path(__file__).resolve().parents[1] / "data"
TUNING_FILES = ("pattern_briefs.json", "pattern_briefs_extra.json")  # one part: the extra file adds reports to the first one's groups
TUNING_QUERIES = "pattern_queries.json"
# More tuning parts, each written independently of the matcher (its own groups and queries), and
# the prefix of its ids and groups in the combined tuning set (never the same as another part's).
MORE_TUNING_FILES = {"pattern_tuning_hard.json": ("tuning:hard", "hard/"), "pattern_tuning_3.json": ("tuning:3", "t3/")}
# Written independently; never read while tuning (benchmarks/pattern_matching.py --set frozen / frozen2 only).
FROZEN_FILES = {"frozen": "pattern_holdout.json", "frozen2": "pattern_holdout_2.json"}
WINDOW = timedelta(days=30)
TEAM = "T1"


@dataclass
class LabelledSet:
    name: str
    briefs: list[dict]
    queries: list[dict]
    parts: tuple[LabelledSet, ...] = ()  # when given, each part is replayed in a workspace of its own (evaluate)


def tuning_parts() -> list[LabelledSet]:
    """The tuning data, part by part: the first set (pattern_briefs.json + pattern_briefs_extra.json,
    whose groups overlap, with pattern_queries.json), then the harder ones (pattern_tuning_hard.json,
    pattern_tuning_3.json: another product's vocabulary, with their own queries)."""
    briefs: list[dict] = []
    for name in TUNING_FILES:
        data = json.loads((DATA / name).read_text(encoding="utf-8"))
        briefs += data["briefs"] if isinstance(data, dict) else data
    queries = json.loads((DATA / TUNING_QUERIES).read_text(encoding="utf-8"))["queries"]
    parts = [LabelledSet("tuning:first", briefs, queries)]
    for name, (label, _prefix) in MORE_TUNING_FILES.items():
        if (DATA / name).exists():
            data = json.loads((DATA / name).read_text(encoding="utf-8"))
            parts.append(LabelledSet(label, data["briefs"], data.get("queries", [])))
    return parts


def tuning_set() -> LabelledSet:
    """Every tuning part, the later parts' ids and groups prefixed (MORE_TUNING_FILES). `evaluate` replays
    each part in a workspace of its own and pools the figures: in one workspace, briefs of the two
    parts that tell the same problem (written separately, labelled as different groups: "API list
    endpoint returns duplicate records across pages" is in both) would count as wrong matches."""
    parts = tuning_parts()
    renamed = [parts[0]]
    prefixes = {label: prefix for label, prefix in MORE_TUNING_FILES.values()}
    for part in parts[1:]:
        prefix = prefixes[part.name]
        briefs = [dict(e, id=prefix + e["id"], group=prefix + e["group"]) for e in part.briefs]
        queries = [dict(q, relevant_groups=[prefix + g for g in q["relevant_groups"]]) for q in part.queries]
        renamed.append(LabelledSet(part.name, briefs, queries))
    return LabelledSet("tuning", [e for p in renamed for e in p.briefs], [q for p in renamed for q in p.queries], tuple(renamed))


def evaluate(db: Database, labelled: LabelledSet, *, embedder: Any = None, with_search: bool = True) -> tuple[Replay, Figures]:
    """Replay the set (each of its parts in a workspace of its own) and compute every figure (search
    precision@5: the mean over all queries, each asked in its part's workspace)."""
    parts = labelled.parts or (labelled,)
    merged: Replay | None = None
    precisions: list[float] = []
    for n, part in enumerate(parts):
        team = TEAM if n == 0 else f"{TEAM}-{n}"
        result = replay(db, part.briefs, embedder=embedder, team=team)
        if with_search and part.queries:
            precisions += [search_precision_at_5(db, result, [q], embedder=embedder, team=team) for q in part.queries]
        if merged is None:
            merged = result
        else:  # the labels and groups of the parts never meet, so their filing orders may follow one another
            merged.entries.update(result.entries)
            merged.order += result.order
            merged.matches.update(result.matches)
            merged.ids.update(result.ids)
            merged.unlabelled += result.unlabelled
    assert merged is not None
    return merged, figures(merged, sum(precisions) / len(precisions) if precisions else None)


def frozen_set(name: str = "frozen") -> LabelledSet | None:
    """A frozen holdout ("frozen", "frozen2": FROZEN_FILES), or None when it is not there. Only
    benchmarks/pattern_matching.py --set frozen/frozen2 calls this."""
    path = DATA / FROZEN_FILES[name]
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return LabelledSet(name, data["briefs"], data.get("queries", []))


def brief_of(entry: dict) -> tuple[Brief, datetime]:
    """A valid brief with the entry's text and customer, written at its time (`days_ago` before NOW)."""
    created = NOW - timedelta(days=entry["days_ago"])
    destination = Destination(entry["destination"])
    fields: dict[str, Any] = {"severity": entry["severity"], "summary": entry["summary"], "narrative": entry["narrative"], "affected_names": entry["customer"]}
    if destination is Destination.ENGINEERING:
        observed = entry.get("observed")
        fields.update(repro_observed=observed, logs=entry.get("logs"), eng_kind="defect" if observed else "inspection")
    return validate_draft(draft(destination, now=created, **fields), now=created), created


def ordered(entries: list[dict]) -> list[dict]:
    return sorted(entries, key=lambda e: (-e["days_ago"], e["id"]))


@dataclass
class Replay:
    entries: dict[str, dict]
    order: list[str]  # labels, in filing order
    matches: dict[str, list[tuple[str, float]]] = field(default_factory=dict)  # label -> [(earlier label, score)], best first
    ids: dict[str, int] = field(default_factory=dict)  # label -> escalation id
    unlabelled: int = 0  # matches with briefs outside the set (synthetic ones)

    def related_earlier(self, label: str) -> set[str]:
        """Earlier briefs of the same group from another customer, within the window."""
        entry = self.entries[label]
        position = self.order.index(label)
        return {
            other
            for other in self.order[:position]
            if self.entries[other]["group"] == entry["group"]
            and self.entries[other]["customer"] != entry["customer"]
            and self.entries[other]["days_ago"] - entry["days_ago"] <= WINDOW.days
        }

    def suggestions(self, label: str) -> list[str]:
        own = self.entries[label]["customer"]
        found = [other for other, score in self.matches.get(label, []) if score >= search.SUGGEST_MIN_SCORE and self.entries[other]["customer"] != own]
        return found[: search.SUGGESTIONS]

    def automatic(self, label: str) -> set[str]:
        return {other for other, score in self.matches.get(label, []) if score >= search.AUTO_LINK_SCORE}


def replay(db: Database, entries: list[dict], *, embedder: Any = None, team: str = TEAM) -> Replay:
    """File each brief in time order as the bot does, and keep its matches."""
    result = Replay({e["id"]: e for e in entries}, [e["id"] for e in ordered(entries)])
    patterns = Patterns(db=db, clock=FrozenClock(NOW), embedder=embedder)
    label_of: dict[int, str] = {}
    for entry in ordered(entries):
        brief, created = brief_of(entry)
        brief_json = brief.model_dump(mode="json")
        prior = patterns.prior(team, brief_json, at=created, product_area=matching_hint(entry.get("product_area")))  # as bot.usecases.escalate
        with db.session() as s:
            row = escalations.create_escalation(s, team_id=team, brief=brief, agent_user_id="U1", channel_id="C1", now=created).escalation
            row.product_area = entry.get("product_area")
            s.add(row)
            s.flush()
            matches = patterns.matches_for(s, row, prior)
        label_of[row.id] = entry["id"]
        result.ids[entry["id"]] = row.id
        kept = []
        for m in matches:
            if m.escalation_id not in label_of:
                result.unlabelled += 1
            elif m.escalation_id != row.id:
                kept.append((label_of[m.escalation_id], m.score))
        result.matches[entry["id"]] = kept
    return result


def _ratio(a: int, b: int) -> float:
    return a / b if b else 1.0


@dataclass(frozen=True)
class Figures:
    pairs_precision: float
    pairs_recall: float
    flag_precision: float
    flag_recall: float
    flagged: int  # briefs flagged automatically
    recurring: int  # briefs that should be
    hit_at_5: float
    share_in_top_5: float
    with_related: int  # briefs that have a related earlier brief
    confirmed_flag_precision: float
    confirmed_flag_recall: float
    search_precision_at_5: float | None = None


def figures(result: Replay, search_precision: float | None = None) -> Figures:
    labels = result.order
    true_pairs = {(a, b) for a in labels for b in result.related_earlier(a)}
    same_customer_ok = {(a, b) for a in labels for b in _same_group_earlier(result, a)}
    auto_pairs = {(a, b) for a in labels for b in result.automatic(a)}
    # A pair is right when both briefs are of one group (a repeat report of the same customer is not wrong, only not independent).
    pairs_precision = _ratio(len(auto_pairs & same_customer_ok), len(auto_pairs))
    pairs_recall = _ratio(len(auto_pairs & true_pairs), len(true_pairs))

    recurring = {a for a in labels if len({result.entries[b]["customer"] for b in result.related_earlier(a)}) >= 2}
    own = {a: result.entries[a]["customer"] for a in labels}
    flagged = {a for a in labels if len({own[b] for b in result.automatic(a) if own[b] != own[a]}) >= 2}
    flag_precision, flag_recall = _ratio(len(flagged & recurring), len(flagged)), _ratio(len(flagged & recurring), len(recurring))

    with_related = [a for a in labels if result.related_earlier(a)]
    hits = sum(1 for a in with_related if set(result.suggestions(a)) & result.related_earlier(a))
    shown = sum(len(set(result.suggestions(a)) & result.related_earlier(a)) for a in with_related)
    related_total = sum(len(result.related_earlier(a)) for a in with_related)

    confirmed_flagged = _confirmed_flags(result)
    return Figures(
        pairs_precision,
        pairs_recall,
        flag_precision,
        flag_recall,
        len(flagged),
        len(recurring),
        _ratio(hits, len(with_related)),
        _ratio(shown, related_total),
        len(with_related),
        _ratio(len(confirmed_flagged & recurring), len(confirmed_flagged)),
        _ratio(len(confirmed_flagged & recurring), len(recurring)),
        search_precision,
    )


def _same_group_earlier(result: Replay, label: str) -> set[str]:
    group = result.entries[label]["group"]
    return {o for o in result.order[: result.order.index(label)] if result.entries[o]["group"] == group}


def _confirmed_flags(result: Replay) -> set[str]:
    """Flags once people have decided on every suggestion as the labels say (see the module's docstring)."""
    links: set[frozenset[str]] = set()
    rejected: set[frozenset[str]] = set()
    for a in result.order:
        group = result.entries[a]["group"]
        for b in result.suggestions(a):
            (links if result.entries[b]["group"] == group else rejected).add(frozenset((a, b)))
        links |= {frozenset((a, b)) for b in result.automatic(a)}
    links -= rejected
    parent = {label: label for label in result.order}

    def root(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for link in links:
        a, b = tuple(link)
        parent[root(a)] = root(b)
    members: dict[str, list[str]] = {}
    for label in result.order:
        members.setdefault(root(label), []).append(label)
    flagged = set()
    for a in result.order:
        entry = result.entries[a]
        earlier = [
            b
            for b in members[root(a)]
            if result.order.index(b) < result.order.index(a) and b != a and result.entries[b]["days_ago"] - entry["days_ago"] <= WINDOW.days
        ]
        if len({result.entries[b]["customer"] for b in earlier} - {entry["customer"]}) >= 2:
            flagged.add(a)
    return flagged


def search_precision_at_5(db: Database, result: Replay, queries: list[dict], *, embedder: Any = None, team: str = TEAM) -> float:
    """Mean over the queries of (relevant briefs among /escalate search's top 5) / min(5, relevant briefs)."""
    by_id = {escalation_id: label for label, escalation_id in result.ids.items()}
    scores = []
    with db.read_session() as s:
        for query in queries:
            relevant = {label for label, e in result.entries.items() if e["group"] in set(query["relevant_groups"])}
            vector = None if embedder is None else embedder.embed([query["query"]])[0]  # as bot.usecases.search.Search.search (limit 20, then 10 shown)
            found = search.search_escalations(s, team_id=team, words=query["query"], limit=20, vector=vector, model=getattr(embedder, "name", None))
            top = [by_id.get(m.escalation_id) for m in found[:5]]
            scores.append(_ratio(sum(1 for label in top if label in relevant), min(5, len(relevant))))
    return sum(scores) / len(scores) if scores else 1.0

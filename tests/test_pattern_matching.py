"""Recurring-pattern matching on SQLite and PostgreSQL: quality on a labelled set, and the edges.

The labelled set (tests/data/pattern_briefs.json) is replayed in time order as production sees it:
each brief is stored, then matched against the briefs of the previous 30 days. A predicted pair
(new brief, earlier brief) is right when both carry the same `group` label.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import text

from bot.domain.brief import Brief, Destination
from bot.domain.validation import validate_draft
from bot.storage import escalations, search
from bot.storage.db import Database
from bot.storage.types import UTCDateTime
from tests.factories import NOW, draft

DATA = Path(__file__).resolve().parent / "data" / "pattern_briefs.json"
WINDOW = timedelta(days=30)
TEAM = "T1"

# The product's goal, on the whole labelled set (dev and holdout), on both engines.
TARGET_PRECISION, TARGET_RECALL = 0.9, 0.8


def labelled_briefs() -> list[dict]:
    return json.loads(DATA.read_text(encoding="utf-8"))


def brief_of(entry: dict) -> tuple[Brief, datetime]:
    """A valid brief with the entry's text, written at its time (`days_ago` before NOW)."""
    created = NOW - timedelta(days=entry["days_ago"])
    destination = Destination(entry["destination"])
    fields = {"severity": entry["severity"], "summary": entry["summary"], "narrative": entry["narrative"]}
    if destination is Destination.ENGINEERING:
        observed = entry.get("observed")
        fields.update(repro_observed=observed, logs=entry.get("logs"), eng_kind="defect" if observed else "inspection")
    return validate_draft(draft(destination, now=created, **fields), now=created), created


def store(session, entry: dict, team: str = TEAM) -> int:
    brief, created = brief_of(entry)
    row = escalations.create_escalation(session, team_id=team, brief=brief, agent_user_id="U1", channel_id="C1", now=created).escalation
    row.product_area = entry.get("product_area")
    session.add(row)
    session.flush()
    return row.id


@dataclass
class Evaluation:
    entries: dict[str, dict]
    true_pairs: set[tuple[str, str]] = field(default_factory=set)
    predicted: set[tuple[str, str]] = field(default_factory=set)
    scores: dict[tuple[str, str], float] = field(default_factory=dict)
    unlabelled_matches: int = 0  # matches with briefs outside the labelled set (the benchmark's synthetic ones)

    def precision(self, split: str | None = None) -> float:
        predicted = self._of(self.predicted, split)
        return len(predicted & self.true_pairs) / len(predicted) if predicted else 1.0

    def recall(self, split: str | None = None) -> float:
        true = self._of(self.true_pairs, split)
        return len(true & self.predicted) / len(true) if true else 1.0

    def flags(self, reports: int = 2) -> tuple[float, float]:
        """Precision and recall of the flag the product shows: `reports` or more earlier briefs, other customers."""

        def flagged(pairs: set[tuple[str, str]]) -> set[str]:
            customers: dict[str, set[str]] = {}
            for new, old in pairs:
                if self.entries[old]["customer"] != self.entries[new]["customer"]:
                    customers.setdefault(new, set()).add(self.entries[old]["customer"])
            return {new for new, names in customers.items() if len(names) >= reports}

        predicted, true = flagged(self.predicted), flagged(self.true_pairs)
        return (len(predicted & true) / len(predicted) if predicted else 1.0, len(predicted & true) / len(true) if true else 1.0)

    def _of(self, pairs: set[tuple[str, str]], split: str | None) -> set[tuple[str, str]]:
        return {p for p in pairs if split is None or self.entries[p[0]].get("split", "dev") == split}


def replay(db: Database, entries: list[dict], team: str = TEAM) -> Evaluation:
    """Store each brief in time order and match it against what came before, as the product does."""
    ordered = sorted(entries, key=lambda e: (-e["days_ago"], e["id"]))
    evaluation = Evaluation(entries={e["id"]: e for e in entries})
    label_of: dict[int, str] = {}
    for i, entry in enumerate(ordered):
        _, created = brief_of(entry)
        with db.session() as s:
            escalation_id = store(s, entry, team)
            label_of[escalation_id] = entry["id"]
            row = escalations.get_escalation(s, escalation_id)
            matches = search.similar_escalations(
                s,
                team_id=team,
                text=search.searchable_text(row.brief),
                product_area=entry.get("product_area"),
                since=created - WINDOW,
                exclude_id=escalation_id,
            )
        for m in matches:
            if m.escalation_id not in label_of:
                evaluation.unlabelled_matches += 1
                continue
            pair = (entry["id"], label_of[m.escalation_id])
            evaluation.predicted.add(pair)
            evaluation.scores[pair] = m.score
        for earlier in ordered[:i]:
            if earlier["group"] == entry["group"] and earlier["days_ago"] - entry["days_ago"] <= WINDOW.days:
                evaluation.true_pairs.add((entry["id"], earlier["id"]))
    return evaluation


def _dialect(db: Database) -> str:
    return db.engine.dialect.name


# --- the labelled set --------------------------------------------------------------------------


def test_the_labelled_set_is_fit_for_purpose():
    entries = labelled_briefs()
    assert len(entries) >= 40 and len({e["id"] for e in entries}) == len(entries)
    groups = Counter(e["group"] for e in entries)
    recurring = [g for g, n in groups.items() if n >= 3]
    assert len(recurring) >= 8
    for group in recurring:  # independent reports: a different customer each time
        customers = [e["customer"] for e in entries if e["group"] == group]
        assert len(set(customers)) == len(customers), group
    assert sum(1 for n in groups.values() if n == 1) >= 10  # near misses and one-offs
    for e in entries:
        brief_of(e)  # every entry makes a valid brief
        if e.get("observed") or e.get("logs"):
            assert e["destination"] == "engineering", f"{e['id']}: only Engineering briefs carry observed/logs"


def test_matching_quality_meets_the_goal(db):
    evaluation = replay(db, labelled_briefs())
    assert evaluation.precision() >= TARGET_PRECISION, sorted(evaluation.predicted - evaluation.true_pairs)
    assert evaluation.recall() >= TARGET_RECALL, sorted(evaluation.true_pairs - evaluation.predicted)


# --- behaviour -------------------------------------------------------------------------------------


def _entry(entry_id: str) -> dict:
    return next(e for e in labelled_briefs() if e["id"] == entry_id)


def _similar(s, entry: dict, *, team: str = TEAM, since: datetime | None = None, exclude_id: int | None = None) -> list[int]:
    brief, created = brief_of(entry)
    matches = search.similar_escalations(
        s,
        team_id=team,
        text=search.searchable_text(brief.model_dump(mode="json")),
        product_area=entry.get("product_area"),
        since=since or created - WINDOW,
        exclude_id=exclude_id,
    )
    return [m.escalation_id for m in matches]


def test_matches_stay_in_their_workspace(db):
    with db.session() as s:
        ours = store(s, _entry("sso-1"), team="T1")
        theirs = store(s, _entry("sso-1"), team="T2")
        new = store(s, _entry("sso-3"), team="T1")
    with db.session() as s:
        assert _similar(s, _entry("sso-3"), team="T1", exclude_id=new) == [ours]
        assert theirs not in [m.escalation_id for m in search.search_escalations(s, team_id="T1", words="redirect loop")]
        assert [m.escalation_id for m in search.search_escalations(s, team_id="T2", words="redirect loop")] == [theirs]


def test_only_briefs_since_the_window_start_match(db):
    old = dict(_entry("sso-1"), days_ago=45)
    edge = dict(_entry("sso-2"), days_ago=41)  # exactly 30 days before the new one
    with db.session() as s:
        too_old = store(s, old)
        on_the_edge = store(s, edge)
        new = store(s, _entry("sso-3"))  # 11 days ago
    with db.session() as s:
        assert _similar(s, _entry("sso-3"), exclude_id=new) == [on_the_edge]
        assert set(_similar(s, _entry("sso-3"), exclude_id=new, since=NOW - timedelta(days=60))) == {on_the_edge, too_old}
        assert _similar(s, _entry("sso-3"), exclude_id=new, since=NOW) == []


def test_a_brief_does_not_match_itself_when_excluded(db):
    with db.session() as s:
        earlier = store(s, _entry("api-1"))
        new = store(s, _entry("api-3"))
    with db.session() as s:
        text_ = search.searchable_text(escalations.get_escalation(s, new).brief)
        everything = search.similar_escalations(s, team_id=TEAM, text=text_, product_area="api", since=NOW - WINDOW)
        assert everything[0].escalation_id == new and everything[0].score == pytest.approx(1.0, rel=0.05)
        assert [m.escalation_id for m in search.similar_escalations(s, team_id=TEAM, text=text_, product_area="api", since=NOW - WINDOW, exclude_id=new)] == [
            earlier
        ]
        if _dialect(db) == "sqlite":  # the text ranked against itself in a savepoint left nothing behind
            s.execute(text("INSERT INTO escalation_fts (escalation_fts, rank) VALUES ('integrity-check', 1)"))
            assert s.execute(text("SELECT count(*) FROM escalation_fts WHERE escalation_fts MATCH 'throttling' AND rowid < 0")).scalar() == 0


HOSTILE = [
    'export "times out',
    "NEAR(export timeout, 2)",
    "export* OR sso* AND NOT billing",
    "search_text: export ^timeout",
    "(export) OR (timeout",
    "export & timeout | !billing <-> sso:* 'quoted' \\",
    "-export +timeout ~sso {braces} [brackets] %_ ; DROP TABLE escalation; --",
    "NEAR NOT AND OR",
    "\u202e \U0001f525 ﬁle Ⅻ ½",
]


@pytest.mark.parametrize("words", HOSTILE)
def test_query_syntax_in_user_text_is_only_words(db, words):
    with db.session() as s:
        store(s, _entry("exp-2"))
        stored = store(s, dict(_entry("exp-3"), narrative=_entry("exp-3")["narrative"] + " " + words))
    with db.session() as s:
        assert isinstance(search.similar_escalations(s, team_id=TEAM, text=words, product_area=None, since=NOW - timedelta(days=90)), list)
        assert isinstance(search.search_escalations(s, team_id=TEAM, words=words), list)
        assert escalations.get_escalation(s, stored) is not None
        assert s.execute(text("SELECT count(*) FROM escalation")).scalar() == 2


@pytest.mark.parametrize("words", ["", "   ", "the and of it", "!!! ... ???", "2026 11 27 10000", "\x00"])
def test_empty_or_contentless_text_finds_nothing(db, words):
    with db.session() as s:
        store(s, _entry("exp-2"))
    with db.session() as s:
        assert search.similar_escalations(s, team_id=TEAM, text=words, product_area=None, since=NOW - timedelta(days=90)) == []
        assert search.search_escalations(s, team_id=TEAM, words=words) == []


def test_search_puts_briefs_with_every_word_first(db):
    with db.session() as s:
        ids = {key: store(s, _entry(key)) for key in ("sso-1", "sso-x-scim", "imp-1", "wh-1")}
    with db.session() as s:
        found = [m.escalation_id for m in search.search_escalations(s, team_id=TEAM, words="Okta redirect loop")]
        assert found[0] == ids["sso-1"]  # Okta, redirect and loop
        assert ids["sso-x-scim"] in found  # Okta only: after it
        assert ids["imp-1"] not in found and ids["wh-1"] not in found
        assert [m.escalation_id for m in search.search_escalations(s, team_id=TEAM, words="okta", limit=1)] in ([ids["sso-1"]], [ids["sso-x-scim"]])
        scores = [m.score for m in search.search_escalations(s, team_id=TEAM, words="csv import accents")]
        assert scores == sorted(scores, reverse=True)


def test_search_understands_other_spellings_of_a_word(db):
    with db.session() as s:
        exports = store(s, _entry("exp-3"))  # "export spins forever"
    with db.session() as s:
        assert [m.escalation_id for m in search.search_escalations(s, team_id=TEAM, words="exports hang")] == [exports]
        assert [m.escalation_id for m in search.search_escalations(s, team_id=TEAM, words="Exportér")] == [exports]


def test_reindexing_an_edited_brief_replaces_its_words(db):
    with db.session() as s:
        escalation_id = store(s, _entry("exp-2"))
    with db.session() as s:
        row = escalations.get_escalation(s, escalation_id)
        row.brief = {**row.brief, "summary": "Webhook deliveries stuck", "narrative": "Nothing reaches the endpoint."}
        s.add(row)
        search.index_escalation(s, escalation_id)
        search.index_escalation(s, escalation_id)  # twice is harmless
    with db.session() as s:
        assert search.search_escalations(s, team_id=TEAM, words="spinner") == []  # was in the old narrative only
        assert [m.escalation_id for m in search.search_escalations(s, team_id=TEAM, words="webhook endpoint")] == [escalation_id]
        if _dialect(db) == "sqlite":  # the external-content index agrees with escalation.search_text
            s.execute(text("INSERT INTO escalation_fts (escalation_fts, rank) VALUES ('integrity-check', 1)"))


def test_briefs_stored_before_the_index_existed_are_found(db):
    from alembic import command

    from bot.storage.db import alembic_config

    cfg = alembic_config(db.url, db.engine)
    command.downgrade(cfg, "0002")
    brief, created = brief_of(_entry("wh-1"))
    columns = ("team_id", "number", "destination", "severity", "status", "summary", "narrative", "agent_user_id", "channel_id")
    escalation = sa.table(
        "escalation",
        *(sa.column(c) for c in columns),
        sa.column("brief", sa.JSON),
        *(sa.column(c, UTCDateTime()) for c in ("deadline_at", "created_at", "updated_at")),
    )
    with db.engine.begin() as conn:
        conn.execute(
            escalation.insert().values(
                team_id=TEAM,
                number=1,
                destination="engineering",
                severity="high",
                status="open",
                summary=brief.summary,
                narrative=brief.narrative,
                agent_user_id="U1",
                channel_id="C1",
                brief=brief.model_dump(mode="json"),
                deadline_at=brief.request.deadline,
                created_at=created,
                updated_at=created,
            )
        )
    command.upgrade(cfg, "head")
    with db.session() as s:
        assert len(search.search_escalations(s, team_id=TEAM, words="webhooks pending")) == 1


def test_query_terms_are_capped_safe_and_summary_first():
    terms = search.query_terms("SSO redirect loop\n" + " ".join(f"word{i}" for i in range(500)))
    assert len(terms) == search.MAX_TERMS
    assert set(terms[:3]) == {"sso", "redirect", "loop"}  # the first line's words lead
    assert all(t.isalnum() and t.isascii() and t == t.lower() for t in search.query_terms(" ".join(HOSTILE)))


def test_only_the_most_recent_matches_are_ranked(db, monkeypatch):
    monkeypatch.setattr(search, "RECENT_POOL", 2)
    with db.session() as s:
        ids = [store(s, dict(_entry(key), days_ago=days)) for key, days in (("wh-1", 40), ("wh-3", 30), ("wh-x-sig", 20), ("wh-4", 10))]
        store(s, dict(_entry("wh-2"), days_ago=5), team="T2")  # another workspace's match does not use up the pool
    with db.session() as s:
        assert {m.escalation_id for m in search.search_escalations(s, team_id=TEAM, words="webhook", limit=10)} == set(ids[2:])
        matches = search.similar_escalations(s, team_id=TEAM, text=_entry("wh-2")["summary"], product_area=None, since=NOW - timedelta(days=60))
        assert {m.escalation_id for m in matches} <= set(ids[2:])


def test_the_reindex_migration_brings_old_search_text_up_to_date(db):
    from alembic import command

    from bot.storage.db import alembic_config

    with db.session() as s:
        escalation_id = store(s, _entry("srch-2"))  # "can't find tickets": the notfound concept
    cfg = alembic_config(db.url, db.engine)
    command.downgrade(cfg, "0003")
    with db.engine.begin() as conn:  # as indexed by the older thesaurus: without the concept
        conn.execute(text("UPDATE escalation SET search_text = 'search tickets' WHERE id = :id"), {"id": escalation_id})
        if _dialect(db) == "sqlite":
            conn.execute(text("INSERT INTO escalation_fts (escalation_fts) VALUES ('rebuild')"))
    command.upgrade(cfg, "head")
    with db.session() as s:
        row = escalations.get_escalation(s, escalation_id)
        assert row.search_text == search.index_form(search.searchable_text(row.brief)) and "notfound" in row.search_text.split()
        assert [m.escalation_id for m in search.search_escalations(s, team_id=TEAM, words="notfound")] == [escalation_id]
        if _dialect(db) == "sqlite":
            s.execute(text("INSERT INTO escalation_fts (escalation_fts, rank) VALUES ('integrity-check', 1)"))


def _profile(words: str) -> search.Profile:
    return search.profile(search.index_form(words))


def test_verification_separates_a_failure_from_its_near_miss():
    timeout = _profile("CSV export of the sales report times out after 60 seconds")
    assert search.similarity(timeout, _profile("Report export spins forever and never completes")) >= search.MIN_SIMILARITY
    # same component, a different failure: no match, however many words they share
    assert search.similarity(timeout, _profile("CSV export of the sales report shows the wrong currency")) == 0.0
    assert search.similarity(timeout, timeout) == pytest.approx(1.0)
    assert search.similarity(timeout, _profile("")) == 0.0


def test_the_verified_score_depends_only_on_the_two_briefs():
    a, b = _profile("Webhooks not delivered since Tuesday"), _profile("Zapier zaps stopped triggering for new records")
    assert search.similarity(a, b) == search.similarity(b, a)
    assert [search.stem(w) for w in ("exports", "exported", "exporting", "export")] == ["export"] * 4
    assert search.stem("429") == "429" and search.stem("timeout") == "timeout"

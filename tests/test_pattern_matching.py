"""Recurring-pattern matching on SQLite and PostgreSQL: quality on the tuning set, and the edges.

The tuning set (tests/data/pattern_briefs.json and pattern_briefs_extra.json with the queries of
pattern_queries.json, and the harder pattern_tuning_hard.json and pattern_tuning_3.json, each with
its own) is filed in time order through the bot's filing path (Patterns.prior, then the write
transaction), each part in a workspace of its own, each brief matched against the briefs of the
previous 30 days (tests/support/pattern_eval.py defines the figures). The frozen holdouts are never read here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy import text

from bot.clock import FrozenClock
from bot.embeddings.wordllama import WordLlamaEmbedder
from bot.storage import escalations, search
from bot.storage.db import Database
from bot.storage.models import EscalationEmbedding
from bot.storage.types import UTCDateTime
from bot.usecases.patterns import Patterns
from tests.factories import NOW
from tests.support import pattern_eval
from tests.support.pattern_eval import TEAM, WINDOW, brief_of

__all__ = ["brief_of"]  # tests/test_frozen_holdout.py builds its briefs with it

# Floors on the whole tuning set (issue 18, item 6, sets its targets for the frozen holdouts: hit@5 0.95,
# share 0.8, automatic flag precision 0.9, confirmed-flag recall 0.95 at precision 1.0, search P@5 0.8),
# a little under what it measures, by matcher: (with wordllama, lexical only). Since tuning:3 (a
# point-of-sale product whose hard negatives tell the same symptom of another cause) joined it, it
# measures: hit@5 0.996 / 0.94, share 0.86 / 0.78, automatic flag P 0.85 (13 flags) / 1.0 (1 flag),
# confirmed-flag recall 0.99 / 0.95, search P@5 0.81 / 0.71. The automatic flag's 0.9 is not met there.
HIT_AT_5 = {True: 0.97, False: 0.92}
SHARE_IN_TOP_5 = {True: 0.84, False: 0.75}
AUTO_FLAG_PRECISION, AUTO_FLAG_RECALL = 0.8, {True: 0.05, False: 0.0}  # automatic flags are rare on purpose
CONFIRMED_FLAG_RECALL = {True: 0.97, False: 0.92}  # at precision 1.0
SEARCH_PRECISION_AT_5 = {True: 0.79, False: 0.68}


@pytest.fixture(scope="module")
def wordllama() -> WordLlamaEmbedder:
    return WordLlamaEmbedder()


def labelled_briefs() -> list[dict]:
    return pattern_eval.tuning_set().briefs


def store(session, entry: dict, team: str = TEAM) -> int:
    brief, created = brief_of(entry)
    row = escalations.create_escalation(session, team_id=team, brief=brief, agent_user_id="U1", channel_id="C1", now=created).escalation
    row.product_area = entry.get("product_area")
    session.add(row)
    session.flush()
    return row.id


def _dialect(db: Database) -> str:
    return db.engine.dialect.name


# --- the tuning set --------------------------------------------------------------------------------


def test_the_tuning_set_is_fit_for_purpose():
    entries = labelled_briefs()
    assert len(entries) >= 100 and len({e["id"] for e in entries}) == len(entries)
    groups = Counter(e["group"] for e in entries)
    recurring = [g for g, n in groups.items() if n >= 3]
    assert len(recurring) >= 15
    for group in recurring:  # independent reports: a different customer each time (the hard part repeats one at most once)
        customers = [e["customer"] for e in entries if e["group"] == group]
        assert len(set(customers)) >= max(3, len(customers) - 1), group
    assert sum(1 for n in groups.values() if n == 1) >= 20  # near misses and one-offs
    for e in entries:
        brief_of(e)  # every entry makes a valid brief
        if e.get("observed") or e.get("logs"):
            assert e["destination"] == "engineering", f"{e['id']}: only Engineering briefs carry observed/logs"
    parts = pattern_eval.tuning_set().parts
    assert [p.name for p in parts] == ["tuning:first", "tuning:hard", "tuning:3"] and all(len(p.briefs) >= 150 for p in parts[1:])
    for part in parts:  # each part's queries ask for its own groups
        part_groups = {e["group"] for e in part.briefs}
        assert len(part.queries) >= 20 and all(set(q["relevant_groups"]) <= part_groups for q in part.queries)


@pytest.mark.parametrize("embedded", [True, False], ids=["wordllama", "lexical"])
def test_matching_quality_on_the_tuning_set(db, wordllama, embedded):
    embedder = wordllama if embedded else None
    labelled = pattern_eval.tuning_set()
    _result, figures = pattern_eval.evaluate(db, labelled, embedder=embedder)
    assert figures.hit_at_5 >= HIT_AT_5[embedded], figures
    assert figures.share_in_top_5 >= SHARE_IN_TOP_5[embedded], figures
    assert figures.flag_precision >= AUTO_FLAG_PRECISION and figures.flag_recall >= AUTO_FLAG_RECALL[embedded], figures
    assert figures.confirmed_flag_precision == 1.0 and figures.confirmed_flag_recall >= CONFIRMED_FLAG_RECALL[embedded], figures
    assert figures.search_precision_at_5 is not None and figures.search_precision_at_5 >= SEARCH_PRECISION_AT_5[embedded], figures
    if embedded:  # each filed brief kept its vector
        with db.session() as s:
            assert s.execute(sa.select(sa.func.count()).select_from(EscalationEmbedding)).scalar() == len(labelled.briefs)


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
    return search.profile(search.index_form(words), search.index_form(words.split("\n", 1)[0]))


def test_verification_ranks_a_failure_above_its_near_miss():
    timeout = _profile("CSV export of the sales report times out after 60 seconds")
    same = search.similarity(timeout, _profile("Report export spins forever and never completes"))
    near_miss = search.similarity(timeout, _profile("CSV export of the sales report shows the wrong currency"))
    # Not zero any more (one cause is often told as two symptoms): both are suggested, neither linked
    # automatically on words alone; which one is the same problem is for the meaning and people to say.
    assert same >= search.EVIDENCE_FLOOR and near_miss > 0.0
    assert not search.automatic(same, None, 1, 1) and not search.automatic(near_miss, None, 1, 1)
    assert search.similarity(timeout, timeout) == pytest.approx(1.0)
    assert search.similarity(timeout, _profile("")) == 0.0


def test_one_cause_told_as_two_symptoms_can_match():
    stale = _profile("Search results are stale: renamed items still show their old name")
    missing = _profile("New records are missing from search results for hours")
    assert search.similarity(stale, missing) >= search.SUGGEST_MIN_SCORE


def test_the_verified_score_depends_only_on_the_two_briefs():
    a, b = _profile("Webhooks not delivered since Tuesday"), _profile("Zapier zaps stopped triggering for new records")
    assert search.similarity(a, b) == search.similarity(b, a)
    assert [search.stem(w) for w in ("exports", "exported", "exporting", "export")] == ["export"] * 4
    assert search.stem("429") == "429" and search.stem("timeout") == "timeout"


# --- normalisation and evidence ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "concept"),
    [
        ("dupe notifs on ios", "duplicate"),
        ("push sent 2x", "duplicate"),
        ("users not getting the emails", "notreceived"),
        ("the page just reloads", "loop"),
        ("upload fails with 413", "toolarge"),
        ("file is too large", "toolarge"),
        ("shifted by one hour after DST", "timeshift"),
        ("HubSpot keeps disconnecting", "disconnected"),
        ("invalid_grant on refresh", "unauthenticated"),
        ("Outlook users", "microsoft"),
        ("HMAC mismatch", "signature"),
        ("read-only guests", "readonly"),
        ("cant recieve sms codes", "twofactor"),
    ],
)
def test_abbreviations_typos_and_phrasings_reach_their_concept(written, concept):
    assert concept in search.index_form(written).split()


def test_typos_and_abbreviations_are_spelled_out():
    indexed = search.index_form("cant recieve notifs").split()
    assert {"can", "receive", "notifications"} <= set(indexed)


def test_generic_words_and_customer_names_are_not_evidence():
    # generic words ("app", "show", "integration") barely count: adding them to both briefs changes little
    plain = search.similarity(_profile("Wildcard search is very slow"), _profile("Dashboards take a minute to load"))
    generic = search.similarity(
        _profile("Wildcard search in the app integration is very slow to show"), _profile("Dashboards in the app integration take a minute to show")
    )
    assert generic - plain < 0.1
    assert search.profile(search.index_form("the app shows it")).weights["app"] == search.GENERIC_WEIGHT
    # the same failure of two different things scores less than of one thing
    push, contacts = _profile("Push notifications sent twice"), _profile("Contacts shown twice in the address book")
    assert search.similarity(push, contacts) < search.similarity(push, _profile("Every push notification arrives twice"))
    # a customer's name shared by two briefs of different problems adds nothing once names are removed
    names = search._name_words("Northwind Traders")
    a = search.profile(search.index_form("Northwind export times out"), "", names)
    b = search.profile(search.index_form("Northwind invoices show the wrong VAT"), "", names)
    assert "northwind" not in a.weights and search.similarity(a, b) < search.SUGGEST_MIN_SCORE
    assert "Northwind" not in search.without_names("Northwind's controller", "Northwind Traders")


def test_the_summary_weighs_more_than_the_narrative():
    narrative = "The customer also mentioned that invoices look odd."
    summary_first = search.profile(search.index_form("Export times out\n" + narrative), search.index_form("Export times out"))
    plain = search.profile(search.index_form("Export times out\n" + narrative))
    export_only = _profile("Report export timeout")
    assert search.similarity(summary_first, export_only) > search.similarity(plain, export_only)


def test_error_text_logs_and_observed_outcome_are_indexed_for_every_package():
    brief = {
        "summary": "Sync fails",
        "narrative": "Since Monday.",
        "engineering": {"reproduction": {"observed": "HTTP 413 from the edge"}, "logs": "ERR_UPLOAD_4031 body too large"},
        "support_l2": {"customer_context": "Enterprise", "error_text": "Request Entity Too Large"},
        "product": {"use_case": "x", "observed": "the button is missing"},
    }
    searchable = search.searchable_text(brief)
    for words in ("HTTP 413 from the edge", "ERR_UPLOAD_4031", "Request Entity Too Large", "the button is missing"):
        assert words in searchable
    assert searchable.split("\n", 1)[0] == "Sync fails"  # the summary stays the first line


# --- embeddings ----------------------------------------------------------------------------------------


class KeywordEmbedder:
    """A stand-in embedder: one dimension per keyword, so tests say which briefs are close in meaning."""

    KEYWORDS = ("reminder", "phone", "contacts", "invoice")

    def __init__(self, name: str = "fake:keywords") -> None:
        self.name = name
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        rows = np.array([[1.0 if k in t.lower() else 0.0 for k in self.KEYWORDS] + [0.1] for t in texts], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


class FailingEmbedder:
    name = "fake:failing"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        raise ConnectionError("embeddings endpoint unreachable")


def _file(db: Database, patterns: Patterns, entry: dict) -> tuple[int, list[search.Match]]:
    brief, created = brief_of(entry)
    prior = patterns.prior(TEAM, brief.model_dump(mode="json"), at=created)
    with db.session() as s:
        row = escalations.create_escalation(s, team_id=TEAM, brief=brief, agent_user_id="U1", channel_id="C1", now=created).escalation
        return row.id, patterns.matches_for(s, row, prior)


def _entry_with(summary: str, narrative: str, customer: str, days_ago: int) -> dict:
    return {
        "id": summary,
        "group": "g",
        "customer": customer,
        "days_ago": days_ago,
        "severity": "medium",
        "destination": "support_l2",
        "summary": summary,
        "narrative": narrative,
    }


def test_meaning_finds_a_brief_that_shares_no_telling_word(db):
    patterns = Patterns(db=db, clock=FrozenClock(NOW), embedder=KeywordEmbedder())
    earlier, _ = _file(db, patterns, _entry_with("Reminder buzzes phone two times", "Seen on iPhones.", "Harbor", 5))
    _file(db, patterns, _entry_with("Contacts listed two times", "After a merge.", "Lark", 4))
    new, matches = _file(db, patterns, _entry_with("Reminder arrives twice on the phone", "Patients complain.", "Maple", 3))
    assert matches and matches[0].escalation_id == earlier
    lexical = Patterns(db=db, clock=FrozenClock(NOW))
    with db.read_session() as s:  # without vectors it is ranked by its words alone, never higher
        text_ = search.searchable_text(escalations.get_escalation(s, new).brief)
        words_only = search.similar_escalations(s, team_id=TEAM, text=text_, product_area=None, since=NOW - WINDOW, exclude_id=new)
    assert {m.escalation_id: m.score for m in words_only}[earlier] <= matches[0].score
    assert lexical.embedder is None


def test_each_filed_brief_keeps_its_vector_and_model(db):
    embedder = KeywordEmbedder()
    patterns = Patterns(db=db, clock=FrozenClock(NOW), embedder=embedder)
    escalation_id, _ = _file(db, patterns, _entry("exp-1"))
    with db.session() as s:
        stored = s.get(EscalationEmbedding, escalation_id)
        assert stored is not None and stored.model == embedder.name and stored.team_id == TEAM
        assert np.frombuffer(stored.vector, dtype="<f4").shape == (len(KeywordEmbedder.KEYWORDS) + 1,)


def test_briefs_without_a_vector_of_the_model_are_matched_lexically_then_embedded_in_batches(db):
    with db.session() as s:  # stored before embeddings existed
        old = [store(s, _entry(key)) for key in ("exp-2", "exp-3", "h-exp-6")]
        search.store_embedding(s, old[2], np.ones(3, dtype=np.float32) / np.sqrt(3), "another:model")
    embedder = KeywordEmbedder()
    patterns = Patterns(db=db, clock=FrozenClock(NOW), embedder=embedder)
    _new, matches = _file(db, patterns, _entry("exp-4"))
    assert set(old) <= {m.escalation_id for m in matches}  # found by their words
    assert patterns.embed_backlog(limit=2) == 2  # bounded: the newest first
    assert patterns.embed_backlog(limit=2) == 1
    assert patterns.embed_backlog(limit=2) == 0
    with db.session() as s:
        assert {s.get(EscalationEmbedding, i).model for i in old} == {embedder.name}  # the other model's vector was replaced
    assert Patterns(db=db, clock=FrozenClock(NOW)).embed_backlog() == 0  # no embedder: nothing to do


def test_a_failing_embedder_never_stops_a_brief(db):
    patterns = Patterns(db=db, clock=FrozenClock(NOW), embedder=FailingEmbedder())
    with db.session() as s:
        earlier = store(s, _entry("exp-2"))
    new, matches = _file(db, patterns, _entry("exp-4"))
    assert earlier in {m.escalation_id for m in matches}
    assert patterns.embed_backlog() == 0
    with db.session() as s:
        assert s.get(EscalationEmbedding, new) is None


def test_an_automatic_link_needs_both_signals():
    high = search.SEMANTIC_FLOOR + (1 - search.SEMANTIC_FLOOR) * 0.9  # a cosine whose rescaled meaning is 0.9
    assert search.automatic(0.9, None, 1, 1)  # lexically only: a very close text, ranked first
    assert not search.automatic(search.AUTO_LEXICAL_ALONE - 0.01, None, 1, 1)
    assert search.automatic(0.9, high, 1, 2)
    assert not search.automatic(0.9, search.SEMANTIC_FLOOR, 1, 1)  # words agree, meaning does not
    assert not search.automatic(0.1, 1.0, 1, 1)  # meaning agrees, words do not
    assert not search.automatic(0.9, high, 1, search.AUTO_MAX_RANK + 1)  # others are closer in meaning
    assert not search.automatic(0.9, high, search.AUTO_MAX_RANK + 1, 1)  # others are closer in words
    assert search.combined(0.2, 0.99) < search.combined(0.3, 0.99)
    assert all(0.0 <= search.combined(lex, sem) <= 1.0 for lex in (0.0, 0.5, 1.0) for sem in (None, -1.0, 0.0, 1.0))


class _Candidate:
    """A row as _verified reads it."""

    def __init__(self, escalation_id: int, text: str, names: str = "", product_area: str | None = None, vector: np.ndarray | None = None) -> None:
        self.id, self.summary, self.names, self.product_area = escalation_id, text.split("\n", 1)[0], names, product_area
        self.search_text = search.index_form(text)
        self.vector, self.model = (None, None) if vector is None else (vector.astype("<f4").tobytes(), "fake:keywords")


def test_ranks_are_fused_and_the_same_customer_is_never_linked_automatically():
    embedder = KeywordEmbedder()
    text = "Invoice PDF export times out for large invoices\nThe invoice export spins and fails after a minute."
    other = "Invoice export times out on big invoices\nExporting invoices as PDF never completes."
    near = "Invoice totals show the wrong currency\nThe invoice shows dollars instead of euros."

    def verified(names_of_other: str) -> dict[int, float]:
        rows = [
            _Candidate(1, other, names_of_other, vector=embedder.embed(["invoice"])[0]),
            _Candidate(2, near, "Lark", vector=embedder.embed(["invoice phone"])[0]),
        ]
        found = search._verified(text, None, rows, 20, names="Harbor Clinics", vector=embedder.embed(["invoice"])[0], model="fake:keywords")
        return {m.escalation_id: m.score for m in found}

    scores = verified("Maple Health")
    assert scores[1] == pytest.approx(1.0) and scores[1] >= search.AUTO_LINK_SCORE  # first by words and by meaning: linked
    assert search.SUGGEST_MIN_SCORE <= scores[2] < search.AUTO_LINK_SCORE  # suggested only
    same_customer = verified("Harbor Clinics")  # a repeat of one customer's report is not independent evidence
    assert search.SUGGEST_MIN_SCORE <= same_customer[1] < search.AUTO_LINK_SCORE and same_customer[1] > same_customer[2]


def test_the_product_area_other_is_no_area(db, monkeypatch):
    seen: list[str | None] = []
    real = search.similar_among_newer

    def spy(*args, **kwargs):
        seen.append(kwargs["product_area"])
        return real(*args, **kwargs)

    monkeypatch.setattr(search, "similar_among_newer", spy)
    patterns = Patterns(db=db, clock=FrozenClock(NOW))
    for area in ("Other", "Billing", None):
        brief, created = brief_of(_entry("exp-2"))
        prior = patterns.prior(TEAM, brief.model_dump(mode="json"), at=created)
        with db.session() as s:
            row = escalations.create_escalation(s, team_id=TEAM, brief=brief, agent_user_id="U1", channel_id="C1", now=created).escalation
            row.product_area = area
            patterns.matches_for(s, row, prior)
    assert seen == [None, "Billing", None]
    assert search._verified("Export times out", "Other", [_Candidate(1, "Export times out", product_area="Billing")], 5)[0].score == pytest.approx(
        search._verified("Export times out", None, [_Candidate(1, "Export times out", product_area="Billing")], 5)[0].score
    )


def test_the_wordllama_embedder_loads_once_from_its_wheel(wordllama):
    vectors = wordllama.embed(["export times out", "report download spins forever", ""])
    assert vectors.shape == (3, 256) and vectors.dtype == np.float32
    assert np.linalg.norm(vectors[0]) == pytest.approx(1.0, abs=1e-5) and not vectors[2].any()
    assert wordllama._loaded() is wordllama._loaded()
    assert wordllama.name == "wordllama:l2_supercat:256"


def test_the_scheduler_embeds_stored_briefs_in_the_background():
    from bot.runtime import scheduler as timer

    class Idle:
        def tick(self):
            return None

    def failing() -> int:
        raise ConnectionError("endpoint down")

    started = timer.start_scheduler(Idle(), every_seconds=3600, embed_backlog=lambda: 0)  # type: ignore[arg-type]
    try:
        assert started.get_job(timer.EMBED_JOB_ID) is not None
    finally:
        started.shutdown(wait=False)
    without = timer.start_scheduler(Idle(), every_seconds=3600)  # type: ignore[arg-type]
    try:
        assert without.get_job(timer.EMBED_JOB_ID) is None
    finally:
        without.shutdown(wait=False)
    timer._safe_backlog(failing)()  # a failure is logged; the next run tries again


def test_the_window_of_vectors_in_memory_follows_the_table(db, monkeypatch):
    monkeypatch.setattr(search, "WINDOW_RECHECK_SECONDS", 0.0)  # compared with the table at every brief
    embedder = KeywordEmbedder()
    vector = embedder.embed(["reminder"])[0]

    def nearest() -> list[int]:
        with db.read_session() as s:
            return search._nearest(s, team_id=TEAM, since=NOW - WINDOW, exclude_id=None, vector=vector, model=embedder.name)

    with db.session() as s:
        first = store(s, _entry("exp-2"))
    assert nearest() == []  # no vector yet
    with db.session() as s:
        search.store_embedding(s, first, embedder.embed(["reminder"])[0], embedder.name)
    assert nearest() == [first]
    with db.session() as s:  # a brief without a vector, then a later one with one
        late = store(s, _entry("exp-3"))
        later = store(s, _entry("exp-4"))
        search.store_embedding(s, later, embedder.embed(["invoice"])[0], embedder.name)
    assert nearest() == [first, later]
    with db.session() as s:  # the earlier one embedded late (by the scheduler): below the newest id seen
        search.store_embedding(s, late, embedder.embed(["reminder phone"])[0], embedder.name)
    assert set(nearest()) == {first, later, late}
    with db.session() as s:  # replaced by another model's vector: out of this model's window
        search.store_embedding(s, first, vector, "other:model")
    assert set(nearest()) == {later, late}


# Feedback (search._with_feedback): the first ranking's best briefs refine it. A security brief the
# asker may not see must not move what they do see.
FEEDBACK_BRIEFS = [
    ("leak", "Export fails and invoices of another tenant show up in the bucket", "Tenant isolation: another tenant's invoices in our export bucket."),
    ("timeout", "Export fails with a timeout on big workspaces", "Large workspace export times out after ten minutes."),
    ("tenant", "Another tenant's invoices visible in shared bucket after export", "Invoices of a different tenant appear in the bucket."),
    ("slow", "Export fails on huge workspaces, slow then a timeout", "Big workspace export slow, then times out."),
    ("format", "Export dates in the wrong format", "The export file writes dates as month/day."),
]


def _feedback_order(db: Database, monkeypatch, team: str, *, leak_destination: str | None) -> list[tuple[str, float]]:
    monkeypatch.setattr(search, "SEARCH_FEEDBACK", 1)
    label = {}
    with db.session() as s:
        for key, summary, narrative in FEEDBACK_BRIEFS:
            if key == "leak" and leak_destination is None:
                continue
            entry = dict(_entry_with(summary, narrative, f"Customer {key}", 3), destination=leak_destination if key == "leak" else "support_l2")
            label[store(s, entry, team=team)] = key
    with db.read_session() as s:
        found = search.search_escalations(s, team_id=team, words="export fails invoices")
    return [(label[m.escalation_id], m.score) for m in found if label[m.escalation_id] != "leak"]


def test_a_security_brief_never_moves_the_search_results_around_it(db, monkeypatch):
    without = _feedback_order(db, monkeypatch, "T-fb-0", leak_destination=None)
    hidden = _feedback_order(db, monkeypatch, "T-fb-1", leak_destination="security")
    shown = _feedback_order(db, monkeypatch, "T-fb-2", leak_destination="engineering")
    assert hidden == without  # the security brief is not feedback: what the asker sees is scored as if it were not there
    assert shown != without  # ... while any other brief is (so this test would see a security brief used)

#!/usr/bin/env python
"""Recurring-pattern matching (issue 18): quality on the labelled sets, and latency at 100,000 stored briefs.

    python benchmarks/pattern_matching.py                       # both sets, SQLite and PostgreSQL (when it answers)
    python benchmarks/pattern_matching.py --set tuning --no-latency --no-postgres   # while tuning

PostgreSQL is BENCH_POSTGRES_URL or TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test);
the run works in a temporary schema and drops it. SQLite works in a temporary directory.

Sets: `tuning` is the only data the matcher was tuned on, printed together and part by part (each
part in a workspace of its own): tests/data/pattern_briefs.json + pattern_briefs_extra.json with the
queries of pattern_queries.json ("tuning:first"), and the harder tests/data/pattern_tuning_hard.json
("tuning:hard") and pattern_tuning_3.json ("tuning:3", another product's vocabulary), each with its
own queries. `frozen` (tests/data/pattern_holdout.json, run twice) and `frozen2`
(pattern_holdout_2.json) were written independently and are never read while tuning: run one once,
at the end of a change, and report what it says.

What it prints, per database and set (tests/support/pattern_eval.py defines each figure), with the
embedder the bot uses by default (wordllama) and with none (lexical only):
(a) automatic links (score >= AUTO_LINK_SCORE): pair precision/recall; the automatic "Recurring
    pattern" flag (automatic links to earlier briefs of 2+ other customers) precision/recall;
(b) suggestions (the SUGGESTIONS best earlier briefs of other customers): hit@5 and the share of
    related earlier briefs that are in the top 5;
(c) the flag once people confirm suggestions as the labels say: precision/recall;
(d) /escalate search precision@5 for the set's plain-language queries;
then p50/p99 latency of `similar_escalations` (30-day window, with the brief's vector) and
`search_escalations` in one workspace holding `--rows` synthetic briefs (with vectors) over three years.

Synthetic briefs are template sentences (components x failures x context), with customer names,
numbers and a Zipf-distributed long tail of rare words; they are inserted in bulk (SQLAlchemy Core
executemany), with search_text built from pre-normalised pieces, then one FTS5 'rebuild'.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager as ContextManager
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from sqlalchemy import create_engine, insert, text  # noqa: E402

from bot.embeddings.wordllama import WordLlamaEmbedder  # noqa: E402
from bot.storage import search  # noqa: E402
from bot.storage.db import Database  # noqa: E402
from bot.storage.models import Escalation, EscalationEmbedding  # noqa: E402
from tests.factories import NOW  # noqa: E402
from tests.support import pattern_eval  # noqa: E402
from tests.support.pattern_eval import WINDOW, LabelledSet  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BIG_TEAM = "TBENCH"
SPAN_DAYS = 3 * 365

COMPONENTS = [
    "CSV export",
    "report export",
    "dashboard",
    "SSO login",
    "SAML sign-in",
    "invoice",
    "billing page",
    "webhook",
    "REST API",
    "mobile app",
    "offline sync",
    "email notification",
    "search",
    "permissions",
    "data import",
    "calendar integration",
    "Slack integration",
    "file upload",
    "audit log",
    "user provisioning",
    "password reset",
    "two-factor login",
    "custom fields",
    "workflow automation",
    "PDF generation",
    "time tracking",
    "attachments",
    "comment threads",
    "kanban board",
    "API token",
]
FAILURES = [
    "times out",
    "fails with a 500 error",
    "is very slow",
    "shows wrong totals",
    "creates duplicates",
    "loses changes",
    "returns 403 Forbidden",
    "never arrives",
    "crashes on launch",
    "shows stale results",
    "mangles accented characters",
    "is rate limited with 429",
    "loops back to the login page",
    "is missing for some users",
    "charges twice",
    "hangs at 90%",
    "ignores the time zone",
    "sends to the wrong recipients",
    "drops attachments",
    "reverts edits",
]
CONTEXT = [
    "The customer noticed it on {day} after the {version} release.",
    "{n} users are affected and the number is growing.",
    "Their admin tried clearing the cache and reinstalling; nothing changed.",
    "It happens on Chrome and Safari, on staging and production.",
    "The account renews in {n} days and the champion is frustrated.",
    "Support reproduced it with a test account on the same plan.",
    "A workaround exists but costs them about {n} hours a week.",
    "Ticket ZD-{id} has the HAR file and screenshots.",
    "Their integration partner {name} first reported it.",
    "The problem started around {hour}:00 UTC and is still ongoing.",
]
SYLLABLES = "ka lo mi ra ten vor zu pex qua lin dor sa be ny fi gor ul tri xa mo den rix val ope ast".split()


def synthetic_pool(seed: int = 7) -> tuple[list[tuple[str, str]], list[str], list[str], list[float]]:
    """(summary, normalised) pairs, normalised narrative sentences, a long-tail vocabulary and its Zipf weights."""
    rng = random.Random(seed)
    names = sorted({(rng.choice(SYLLABLES) + rng.choice(SYLLABLES) + rng.choice(SYLLABLES)).capitalize() for _ in range(4000)})
    summaries = []
    for component in COMPONENTS:
        for failure in FAILURES:
            summary = f"{component} {failure}"
            summaries.append((summary, search.index_form(summary)))
    # Not the labelled set's own sentences: thousands of copies would make its words look common to bm25.
    sentences: list[str] = []
    for _ in range(1500):
        template = rng.choice(CONTEXT)
        sentences.append(
            template.format(
                day=rng.choice(["Monday", "Tuesday", "the 3rd", "the 17th"]),
                version=f"{rng.randint(1, 9)}.{rng.randint(0, 30)}",
                n=rng.randint(2, 900),
                id=rng.randint(10000, 99999),
                name=rng.choice(names),
                hour=rng.randint(0, 23),
            )
        )
        sentences.append(f"The {rng.choice(COMPONENTS)} {rng.choice(FAILURES)} for {rng.choice(names)}.")
    vocabulary = [search.index_form(n) for n in names] + [f"{rng.choice(SYLLABLES)}{rng.randint(100, 99999)}" for _ in range(30000)]
    rng.shuffle(vocabulary)
    weights = [1.0 / (rank + 1) for rank in range(len(vocabulary))]
    return summaries, [search.index_form(s) for s in sentences], vocabulary, weights


def synthetic_rows(count: int, team: str, seed: int = 11) -> Iterator[list[dict]]:
    """Batches of escalation rows, spread evenly over SPAN_DAYS up to NOW, search_text already built."""
    summaries, sentences, vocabulary, weights = synthetic_pool()
    cumulative = []
    total = 0.0
    for w in weights:
        total += w
        cumulative.append(total)
    rng = random.Random(seed)
    batch: list[dict] = []
    for number in range(1, count + 1):
        created = NOW - timedelta(days=SPAN_DAYS) + timedelta(seconds=SPAN_DAYS * 86400 * number / count)
        summary, summary_index = rng.choice(summaries)
        body = " ".join(rng.sample(sentences, rng.randint(3, 6)) + rng.choices(vocabulary, cum_weights=cumulative, k=rng.randint(4, 14)))
        batch.append(
            {
                "team_id": team,
                "number": number,
                "destination": "engineering",
                "severity": rng.choice(["critical", "high", "medium"]),
                "status": "open",
                "summary": summary,
                "narrative": body,
                "agent_user_id": "U1",
                "channel_id": "C1",
                "deadline_at": created + timedelta(days=2),
                "brief": {"summary": summary, "synthetic": True},
                "created_at": created,
                "updated_at": created,
                "agent_tz": "UTC",
                "product_area": rng.choice([None, "exports", "sso", "billing", "api", "mobile"]),
                "search_text": summary_index + " " + body,
            }
        )
        if len(batch) == 5000:
            yield batch
            batch = []
    if batch:
        yield batch


def load_synthetic(db: Database, count: int, team: str = BIG_TEAM, embedder: WordLlamaEmbedder | None = None) -> float:
    """Insert `count` synthetic briefs (and, with an embedder, their vectors, as the bot keeps them)."""
    started = time.perf_counter()
    table, vectors = Escalation.__table__, EscalationEmbedding.__table__
    with db.engine.begin() as conn:
        first = conn.execute(text("SELECT coalesce(max(id), 0) FROM escalation")).scalar() or 0
        next_id = first + 1
        for batch in synthetic_rows(count, team):
            for row in batch:
                row["id"] = next_id
                next_id += 1
            conn.execute(insert(table), batch)
            if embedder is not None:
                embedded = embedder.embed([f"{r['summary']}\n{r['summary']}\n{r['narrative']}" for r in batch])
                conn.execute(
                    insert(vectors),
                    [
                        {"escalation_id": r["id"], "team_id": team, "created_at": r["created_at"], "model": embedder.name, "vector": v.astype("<f4").tobytes()}
                        for r, v in zip(batch, embedded, strict=True)
                    ],
                )
        # As the app would have left it: the workspace's next ESC number follows the stored ones.
        conn.execute(text("INSERT INTO escalation_counter (team_id, last_number) VALUES (:team, :count)"), {"team": team, "count": count})
        if db.engine.dialect.name == "sqlite":
            conn.execute(text(f"INSERT INTO {search.FTS_TABLE} ({search.FTS_TABLE}) VALUES ('rebuild')"))
        else:  # explicit ids: move the sequence past them
            conn.execute(text("SELECT setval(pg_get_serial_sequence('escalation', 'id'), (SELECT max(id) FROM escalation))"))
    if db.engine.dialect.name == "postgresql":
        # A database in service has been vacuumed: without this, timings include setting hint bits
        # on freshly written pages and racing autovacuum.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE) escalation"))
            conn.execute(text("VACUUM (ANALYZE) escalation_embedding"))
    return time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def timed(db: Database, calls: list[Callable]) -> tuple[float, float, float]:
    """p50, p99 and mean in ms, each call timed inside an open session (as the caller would hold one)."""
    times = []
    with db.session() as s:
        for call in calls[:5]:  # warm the page cache and the statement cache
            call(s)
        for call in calls:
            t = time.perf_counter()
            call(s)
            times.append((time.perf_counter() - t) * 1000)
    return percentile(times, 50), percentile(times, 99), statistics.mean(times)


def latency(db: Database, queries: int, embedder: WordLlamaEmbedder | None, seed: int = 5) -> None:
    rng = random.Random(seed)
    entries = pattern_eval.tuning_set().briefs
    texts = [e["summary"] + "\n" + e["narrative"] + ("\n" + e["observed"] if e.get("observed") else "") for e in entries]
    summaries, _, vocabulary, _ = synthetic_pool()
    texts += [f"{s}\n{rng.choice(CONTEXT)}" for s, _ in summaries]
    model = embedder.name if embedder else None

    def vector_of(t: str) -> np.ndarray | None:
        return embedder.embed([t])[0] if embedder else None  # computed before the session, as Patterns.prior does

    # As in production: a brief written now, matched against the last 30 days.
    similar_calls = []
    for _ in range(queries):
        t = rng.choice(texts)
        similar_calls.append(
            lambda s, t=t, v=vector_of(t): search.similar_escalations(
                s, team_id=BIG_TEAM, text=t, product_area=None, since=NOW - WINDOW, vector=v, model=model, names="Acme Corp"
            )
        )
    words = [w for s, _ in summaries for w in s.lower().split()] + vocabulary[:2000]
    search_calls = []
    for _ in range(queries):
        w = " ".join(rng.sample(words, rng.randint(1, 3)))
        search_calls.append(lambda s, w=w, v=vector_of(w): search.search_escalations(s, team_id=BIG_TEAM, words=w, vector=v, model=model))
    for name, calls in (("similar_escalations (30-day window)", similar_calls), ("search_escalations (1-3 words)", search_calls)):
        p50, p99, mean = timed(db, calls)
        print(f"  {name:38} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   mean {mean:7.1f} ms   ({len(calls)} queries)")


def print_figures(label: str, figures: pattern_eval.Figures) -> None:
    f = figures
    print(
        f"  {label:24} (a) auto pairs P {f.pairs_precision:.2f} R {f.pairs_recall:.2f} | auto flag P {f.flag_precision:.2f} R {f.flag_recall:.2f} "
        f"({f.flagged} flagged, {f.recurring} recurring)"
    )
    print(
        f"  {'':24} (b) suggestions hit@5 {f.hit_at_5:.2f}, share of related in top 5 {f.share_in_top_5:.2f} ({f.with_related} briefs with a related earlier one)"
    )
    sp = "n/a" if f.search_precision_at_5 is None else f"{f.search_precision_at_5:.2f}"
    print(f"  {'':24} (c) flag with confirmations P {f.confirmed_flag_precision:.2f} R {f.confirmed_flag_recall:.2f}   (d) search precision@5 {sp}")


def quality(label: str, factory: Callable[[], ContextManager[Database]], labelled: LabelledSet, embedder: WordLlamaEmbedder, with_synthetic: int = 0) -> None:
    for name, chosen in (("lexical + wordllama", embedder), ("lexical only", None)):
        with factory() as db:
            if with_synthetic:
                load_synthetic(db, with_synthetic, team=pattern_eval.TEAM, embedder=chosen)
            _result, figures = pattern_eval.evaluate(db, labelled, embedder=chosen, with_search=not with_synthetic)
        print_figures(f"{labelled.name}, {name}", figures)


def sqlite_factory(directory: str) -> Callable[[], ContextManager[Database]]:
    @contextmanager
    def make() -> Iterator[Database]:
        db = Database(f"sqlite:///{directory}/{uuid.uuid4().hex}.db")
        db.upgrade()
        try:
            yield db
        finally:
            db.dispose()

    return make


def postgres_factory(url: str) -> Callable[[], ContextManager[Database]]:
    @contextmanager
    def make() -> Iterator[Database]:
        from tests.support.postgres import fresh_schema

        with fresh_schema(url, prefix="bench_") as schema_url:
            db = Database(schema_url)
            try:
                db.upgrade()
                yield db
            finally:
                db.dispose()

    return make


def postgres_answers(url: str) -> bool:
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - no server: run SQLite only
        return False


def run(label: str, factory: Callable[[], ContextManager[Database]], sets: list[LabelledSet], rows: int, queries: int, latency_too: bool) -> None:
    embedder = WordLlamaEmbedder()
    print(f"\n## {label}\n")
    print(f"Suggestions: top {search.SUGGESTIONS} scoring >= {search.SUGGEST_MIN_SCORE}; automatic link >= {search.AUTO_LINK_SCORE}; 30-day window.")
    for labelled in sets:
        print(f"\nThe {labelled.name} set: {len(labelled.briefs)} briefs, {len({b['group'] for b in labelled.briefs})} groups, {len(labelled.queries)} queries")
        quality(label, factory, labelled, embedder)
    if not latency_too:
        return
    with factory() as db:
        seconds = load_synthetic(db, rows, embedder=embedder)
        print(f"\nLatency with {rows:,} briefs (and their vectors) in one workspace over {SPAN_DAYS // 365} years (loaded in {seconds:.1f} s):")
        latency(db, queries, embedder)
    for labelled in [s for s in sets if s.name.startswith("tuning:")][-1:]:  # the last tuning part
        print(f"\nThe {labelled.name} set replayed inside a workspace that also holds {rows:,} synthetic briefs (~{rows * 30 // SPAN_DAYS:,} per window):")
        with factory() as db:
            load_synthetic(db, rows, team=pattern_eval.TEAM, embedder=embedder)
            result = pattern_eval.replay(db, labelled.briefs, embedder=embedder)
        print_figures(f"{labelled.name}, wordllama", pattern_eval.figures(result))
        print(f"  {'':24} {result.unlabelled / len(result.entries):.1f} synthetic matches per brief")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--set",
        choices=("tuning", "frozen", "frozen2", "both", "all"),
        default="all",
        help="which labelled sets: tuning, a frozen holdout, both (tuning and frozen2, the holdout not yet spent) or all (default)",
    )
    parser.add_argument("--rows", type=int, default=100_000, help="synthetic briefs to store for latency (default 100000)")
    parser.add_argument("--queries", type=int, default=200, help="timed queries per function (default 200)")
    parser.add_argument("--no-latency", action="store_true", help="quality only")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    sets: list[LabelledSet] = []
    if args.set in ("tuning", "both", "all"):
        parts = pattern_eval.tuning_parts()
        sets += [pattern_eval.tuning_set(), *parts] if len(parts) > 1 else parts  # all parts together, then each alone
    chosen = {"both": ["frozen2"], "all": ["frozen", "frozen2"]}.get(args.set, [args.set] if args.set.startswith("frozen") else [])
    for name in chosen:
        frozen = pattern_eval.frozen_set(name)
        if frozen is None:
            print(f"The {name} set ({pattern_eval.FROZEN_FILES[name]}) is not there: skipped")
        else:
            sets.append(frozen)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pattern-bench-") as directory:
        run("SQLite", sqlite_factory(directory), sets, args.rows, args.queries, not args.no_latency)
    url = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_POSTGRES_URL") or DEFAULT_PG
    if args.no_postgres:
        print("\nPostgreSQL: skipped (--no-postgres)")
    elif postgres_answers(url):
        run("PostgreSQL", postgres_factory(url), sets, args.rows, args.queries, not args.no_latency)
    else:
        print(f"\nPostgreSQL: no server answers at {url.split('@')[-1]}; skipped")
    print(f"\nTotal {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

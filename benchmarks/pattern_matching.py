#!/usr/bin/env python
"""Recurring-pattern matching: quality on the labelled set, and latency at 100,000 stored briefs.

    python benchmarks/pattern_matching.py                 # SQLite, and PostgreSQL when it answers
    python benchmarks/pattern_matching.py --rows 20000 --queries 100 --no-postgres

PostgreSQL is BENCH_POSTGRES_URL or TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test);
the run works in a temporary schema and drops it. SQLite works in a temporary directory.

What it prints, per database:
1. Precision and recall of `similar_escalations` on tests/data/pattern_briefs.json, replayed in time
   order (pairs: new brief -> earlier brief of the same group within 30 days), for the briefs the
   engine was tuned on ("dev"), those written after it was frozen ("holdout") and all; the same
   for the flag the product shows (two or more earlier briefs from other customers); and the
   product-area alternatives that were measured (ignore, penalise other areas, require the same).
2. The same replay beside the synthetic briefs (another workspace): bm25's statistics are global, so
   this shows that the candidate stage still finds the matches and that the verified score (which
   depends only on the two briefs) keeps its threshold in a large database.
3. p50/p99 latency of `similar_escalations` (30-day window) and `search_escalations` (1 to 3
   words) in one workspace holding the synthetic briefs, spread over three years; then the labelled
   replay inside that workspace (whether the candidate stage still keeps the true matches).

Synthetic briefs are template sentences (components x failures x context), with customer names,
numbers and a Zipf-distributed long tail of rare words; they are inserted in bulk (SQLAlchemy Core
executemany), with search_text built from pre-normalised pieces, then one FTS5 'rebuild'.
"""

from __future__ import annotations

import argparse
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

from sqlalchemy import create_engine, insert, text  # noqa: E402

from bot.storage import search  # noqa: E402
from bot.storage.db import Database  # noqa: E402
from bot.storage.models import Escalation  # noqa: E402
from tests.factories import NOW  # noqa: E402
from tests.test_pattern_matching import WINDOW, Evaluation, labelled_briefs, replay  # noqa: E402

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


def load_synthetic(db: Database, count: int, team: str = BIG_TEAM) -> float:
    started = time.perf_counter()
    table = Escalation.__table__
    with db.engine.begin() as conn:
        for batch in synthetic_rows(count, team):
            conn.execute(insert(table), batch)
        # As the app would have left it: the workspace's next ESC number follows the stored ones.
        conn.execute(text("INSERT INTO escalation_counter (team_id, last_number) VALUES (:team, :count)"), {"team": team, "count": count})
        if db.engine.dialect.name == "sqlite":
            conn.execute(text(f"INSERT INTO {search.FTS_TABLE} ({search.FTS_TABLE}) VALUES ('rebuild')"))
    if db.engine.dialect.name == "postgresql":
        # A database in service has been vacuumed: without this, timings include setting hint bits
        # on freshly written pages and racing autovacuum.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE) escalation"))
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


def latency(db: Database, queries: int, seed: int = 5) -> None:
    rng = random.Random(seed)
    entries = labelled_briefs()
    texts = [e["summary"] + "\n" + e["narrative"] + ("\n" + e["observed"] if e.get("observed") else "") for e in entries]
    summaries, _, vocabulary, _ = synthetic_pool()
    texts += [f"{s}\n{rng.choice(CONTEXT)}" for s, _ in summaries]
    # As in production: a brief written now, matched against the last 30 days.
    similar_calls = [
        lambda s, t=rng.choice(texts): search.similar_escalations(s, team_id=BIG_TEAM, text=t, product_area=None, since=NOW - WINDOW) for _ in range(queries)
    ]
    words = [w for s, _ in summaries for w in s.lower().split()] + vocabulary[:2000]
    search_calls = [lambda s, w=" ".join(rng.sample(words, rng.randint(1, 3))): search.search_escalations(s, team_id=BIG_TEAM, words=w) for _ in range(queries)]
    for name, calls in (("similar_escalations (30-day window)", similar_calls), ("search_escalations (1-3 words)", search_calls)):
        p50, p99, mean = timed(db, calls)
        print(f"  {name:38} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   mean {mean:7.1f} ms   ({len(calls)} queries)")


CURVE = (0.22, 0.24, 0.26, 0.28, 0.30, 0.32, 0.34, 0.36)


def scored_replay(db: Database) -> Evaluation:
    """The labelled replay with the threshold off: every candidate pair with its score."""
    saved = search.MIN_SIMILARITY
    search.MIN_SIMILARITY = 0.0
    try:
        return replay(db, labelled_briefs())
    finally:
        search.MIN_SIMILARITY = saved


def at(evaluation: Evaluation, threshold: float) -> Evaluation:
    kept = {pair for pair, score in evaluation.scores.items() if score >= threshold}
    return Evaluation(entries=evaluation.entries, true_pairs=evaluation.true_pairs, predicted=kept, scores=evaluation.scores)


def print_quality(label: str, evaluation: Evaluation, threshold: float) -> None:
    chosen = at(evaluation, threshold)
    for split in ("dev", "holdout", None):
        pairs = len(chosen._of(chosen.true_pairs, split))
        print(f"  {label:34} {split or 'all':8} precision {chosen.precision(split):.2f}  recall {chosen.recall(split):.2f}  ({pairs} true pairs)")
    flag_precision, flag_recall = chosen.flags()
    print(f"  {label:34} {'flag':8} precision {flag_precision:.2f}  recall {flag_recall:.2f}  (two or more earlier reports from other customers)")
    points = [f"{t:.2f}: {at(evaluation, t).precision():.2f}/{at(evaluation, t).recall():.2f}" for t in CURVE]
    print(f"  threshold: precision/recall (all)  {'  '.join(points)}")


def area_alternatives(db_factory: Callable[[], ContextManager[Database]], threshold: float) -> None:
    saved = search.OTHER_AREA_FACTOR
    try:
        for factor, name in ((1.0, "ignore product area"), (0.9, "other area x0.9 (chosen)"), (0.8, "other area x0.8"), (0.0, "require the same area")):
            search.OTHER_AREA_FACTOR = factor
            with db_factory() as db:
                evaluation = at(scored_replay(db), threshold)
            print(f"  {name:34} all      precision {evaluation.precision():.2f}  recall {evaluation.recall():.2f}")
    finally:
        search.OTHER_AREA_FACTOR = saved


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


def run(label: str, factory: Callable[[], ContextManager[Database]], rows: int, queries: int) -> None:
    threshold = search.MIN_SIMILARITY
    print(f"\n## {label}\n\nQuality on the labelled set, threshold {threshold}:")
    with factory() as db:
        print_quality(label, scored_replay(db), threshold)
    area_alternatives(factory, threshold)
    with factory() as db:
        seconds = load_synthetic(db, rows, team="TOTHER")
        print(f"\nThe same replay beside {rows:,} synthetic briefs of another workspace (loaded in {seconds:.1f} s):")
        print_quality(label, scored_replay(db), threshold)
    with factory() as db:
        seconds = load_synthetic(db, rows)
        print(f"\nLatency with {rows:,} briefs in one workspace over {SPAN_DAYS // 365} years (loaded in {seconds:.1f} s):")
        latency(db, queries)
        # The candidate stage keeps the CANDIDATES best of the window: does it still keep the true matches
        # when the window also holds thousands of briefs on the same components?
        evaluation = replay(db, labelled_briefs(), team=BIG_TEAM)
        print(f"\nThe labelled replay inside that workspace (its 30-day windows also hold ~{rows * 30 // SPAN_DAYS:,} synthetic briefs):")
        print(
            f"  {label:34} {'all':8} precision {evaluation.precision():.2f}  recall {evaluation.recall():.2f}  "
            f"(labelled pairs only; {evaluation.unlabelled_matches / len(evaluation.entries):.1f} matches a brief with synthetic briefs)"
        )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="synthetic briefs to store (default 100000)")
    parser.add_argument("--queries", type=int, default=200, help="timed queries per function (default 200)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pattern-bench-") as directory:
        run("SQLite", sqlite_factory(directory), args.rows, args.queries)
    url = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_POSTGRES_URL") or DEFAULT_PG
    if args.no_postgres:
        print("\nPostgreSQL: skipped (--no-postgres)")
    elif postgres_answers(url):
        run("PostgreSQL", postgres_factory(url), args.rows, args.queries)
    else:
        print(f"\nPostgreSQL: no server answers at {url.split('@')[-1]}; skipped")
    print(f"\nTotal {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python
"""CPU per brief, in-process: Escalations.escalate with Slack answering instantly (no HTTP).

    python benchmarks/profile_brief.py [--briefs 300] [--warm 100] [--profile] [--database-url URL] [--embeddings none|wordllama]

Stores and posts `--warm` varied briefs (bot_vs_bolt's pool, so the pattern matcher has history),
then times `--briefs` more; prints ms of CPU and wall time per brief, the number of transactions
and statements per brief, and with --profile the top of cProfile's cumulative listing.
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import os
import pstats
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))
sys.path.insert(0, str(BENCH_DIR))

from sqlalchemy import event  # noqa: E402

from bot.clock import SystemClock  # noqa: E402
from bot.domain.brief import Destination  # noqa: E402
from bot.domain.validation import validate_draft  # noqa: E402
from bot.slack_api.gateway import SlackGateway  # noqa: E402
from bot.storage.db import Database  # noqa: E402


class InstantGateway(SlackGateway):
    """Every Web API call answers at once, as the stand-in would, without a socket."""

    def __init__(self) -> None:
        super().__init__(client=None)
        self.ts = itertools.count(1)
        self.calls: dict[str, int] = {}

    def _call(self, method: str, **kwargs) -> dict:
        self.calls[method] = self.calls.get(method, 0) + 1
        if method == "chat.postMessage":
            return {"ok": True, "channel": kwargs["channel"], "ts": f"1700000000.{next(self.ts):06d}"}
        if method == "chat.getPermalink":
            return {"ok": True, "permalink": f"https://example.slack.com/archives/{kwargs['channel']}/p{kwargs['message_ts'].replace('.', '')}"}
        if method == "users.info":
            return {"ok": True, "user": {"tz": "Europe/Paris"}}
        return {"ok": True}


def main(argv: list[str]) -> int:
    from bot_vs_bolt import varied_briefs

    from bot.settings import Settings
    from bot.usecases.escalate import Escalations
    from bot.usecases.patterns import Patterns
    from tests.factories import draft

    parser = argparse.ArgumentParser()
    parser.add_argument("--briefs", type=int, default=300)
    parser.add_argument("--warm", type=int, default=100)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--database-url")
    parser.add_argument(
        "--embeddings",
        choices=("none", "wordllama"),
        default="wordllama",
        help="pattern matching's semantic signal (default wordllama, as ESCALATION_EMBEDDINGS=auto)",
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/profile.db"
        db = Database(url)
        db.upgrade()
        cadences = Settings.model_construct().cadences  # the defaults

        clock = SystemClock()
        embedder = None
        if args.embeddings == "wordllama":
            from bot.embeddings.wordllama import WordLlamaEmbedder

            embedder = WordLlamaEmbedder()
        gateway = InstantGateway()
        channels = {d: ("G0SEC" if d is Destination.SECURITY else f"C0{d.name[:3]}") for d in Destination}
        escalations = Escalations(db, gateway, clock, channels, cadences, enforce_tiers=False, patterns=Patterns(db, clock, embedder=embedder))
        pool = varied_briefs(1000)
        base = draft(Destination.SUPPORT_L2, now=datetime.now(UTC))

        def one(i: int) -> None:
            summary, narrative = pool[i % len(pool)]
            brief = validate_draft({**base, "summary": f"k{i} {summary}"[:140], "narrative": narrative}, now=clock.now())
            escalations.escalate(team_id="T0PROF", agent_user_id="U0AGENT", brief=brief, source_channel_id="C0SUPPORT", submission_key=f"V{i}")

        for i in range(args.warm):
            one(i)
        counts = {"tx": 0, "stmt": 0}
        event.listen(db.engine, "begin", lambda _c: counts.__setitem__("tx", counts["tx"] + 1))
        event.listen(db.engine, "before_cursor_execute", lambda *_a: counts.__setitem__("stmt", counts["stmt"] + 1))
        gateway.calls.clear()
        profiler = cProfile.Profile() if args.profile else None
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        for i in range(args.warm, args.warm + args.briefs):
            one(i)
        if profiler:
            profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        n = args.briefs
        print(
            f"{n} briefs: {cpu / n * 1000:.1f} ms CPU, {wall / n * 1000:.1f} ms wall per brief (validation included); "
            f"{counts['tx'] / n:.1f} transactions, {counts['stmt'] / n:.1f} statements per brief; "
            f"Slack calls per brief: " + ", ".join(f"{k} {v / n:.1f}" for k, v in sorted(gateway.calls.items()))
        )
        if profiler:
            pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(45)
        db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

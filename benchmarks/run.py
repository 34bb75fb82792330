#!/usr/bin/env python3
"""Run the benchmarks and write benchmarks/results.md with the machine they ran on.

    python3 tasks.py bench                     # everything (about 15 min on 2 cores)
    python3 tasks.py bench --quick             # fewer stacks, requests, rows and briefs (about 4 min)
    python3 tasks.py bench --only bot          # one of: serving, patterns, bot, scheduler, footprint, ratelimits
    python3 tasks.py bench -- --api-latency-ms 150   # anything after -- goes to serving_stacks.py

    serving    serving_stacks.py   candidate HTTP stacks for a minimal Bolt app (chose the bot's)
    patterns   pattern_matching.py recurring-pattern quality and latency at 100k briefs
    bot        bot_vs_bolt.py      the bot in HTTP mode vs a minimal Bolt app at 1, 10, 50 senders
    scheduler  scheduler.py        one tick at 10k, 100k, 1M open briefs (SQLite, PostgreSQL)
    footprint  footprint.py        start-up to healthy, memory after 10,000 briefs
    ratelimits rate_limits.py      one channel answering 429 (Retry-After 20): how long everything else waits

Figures are printed and written, never asserted: timing belongs here, not in the test suite.
Each benchmark's output replaces its own section of results.md (between `<!-- bench:NAME -->`
markers), headed by the machine, versions and load it ran on; other sections are kept.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUICK = [
    "--requests",
    "150",
    "--warmup",
    "50",
    "--stacks",
    "async-uvicorn-w1,async-uvicorn-w1-task,async-starlette-uvicorn-w1,sync-gthread-w1t32",
    "--no-variants",
]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    ram = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f", {int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}){ram}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def database_versions() -> str:
    import sqlite3

    found = [f"SQLite {sqlite3.sqlite_version}"]
    url = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_POSTGRES_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    try:
        from sqlalchemy import create_engine, text

        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            found.append("PostgreSQL " + conn.execute(text("SHOW server_version")).scalar().split()[0])
        engine.dispose()
    except Exception:  # noqa: BLE001 - no PostgreSQL: the SQLite figures stand alone
        found.append("PostgreSQL not reachable")
    return ", ".join(found)


def load() -> str:
    try:
        return "load average " + " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "load unknown"


def commands(quick: bool, extra: list[str]) -> dict[str, list[str]]:
    py = sys.executable
    return {
        "serving": [py, str(HERE / "serving_stacks.py"), *(QUICK if quick else []), *extra],
        "patterns": [py, str(HERE / "pattern_matching.py"), *(["--rows", "20000", "--queries", "100"] if quick else [])],
        "bot": [py, str(HERE / "bot_vs_bolt.py"), *(["--requests", "150", "--warmup", "30"] if quick else [])],
        # 1M open briefs only in a full run: seeding is seconds, draining 10,000 due rows is not.
        "scheduler": [py, str(HERE / "scheduler.py"), *(["--sizes", "10000,100000"] if quick else [])],
        "footprint": [py, str(HERE / "footprint.py"), *(["--briefs", "1000"] if quick else [])],
        "ratelimits": [py, str(HERE / "rate_limits.py"), *([] if quick else ["--repeat", "3"])],
    }


def write_section(path: Path, name: str, body: str) -> None:
    """Replace (or append) the section between this benchmark's markers; leave the rest alone."""
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _m: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer stacks, requests, rows and briefs, for a smoke run")
    parser.add_argument(
        "--only",
        choices=["serving", "patterns", "bot", "scheduler", "footprint", "ratelimits"],
        action="append",
        help="run this benchmark (repeatable); default: all",
    )
    parser.add_argument("--out", default=str(HERE / "results.md"), help="where to write the results")
    args, rest = parser.parse_known_args(argv)
    extra = [a for a in rest if a != "--"]
    todo = {name: cmd for name, cmd in commands(args.quick, extra).items() if not args.only or name in args.only}
    for name, command in todo.items():
        print("$ " + " ".join(command), flush=True)
        before = load()
        result = subprocess.run(command, stdout=subprocess.PIPE, text=True)
        sys.stdout.write(result.stdout)
        if result.returncode != 0:
            return result.returncode
        header = (
            f"_Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}; {database_versions()}; "
            f"{before} at the start (2 cores shared with other work: figures are noisy). "
            f"Command: `{' '.join(['python3 tasks.py bench', *(['--quick'] if args.quick else []), '--only', name])}`._\n\n"
        )
        write_section(Path(args.out), name, header + result.stdout)
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

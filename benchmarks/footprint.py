#!/usr/bin/env python
"""Start-up time and memory: the bot in HTTP mode (SQLite) from launch to a healthy /healthz, then
its resident size after N briefs handled.

    python benchmarks/footprint.py [--briefs 10000]

Start-up is `python -m bot run --http` launched → GET /healthz answers 200 (imports, migrations on a
new database, token check against the stand-in). Briefs are whole Support L2 submissions, sent by
10 senders in chunks of 200, each chunk posted before the next (steady state, no backlog), through
bot_vs_bolt.py's senders and the rig's stand-in (rig/standin.py). Resident size is VmRSS of the bot's
process (and, with ESCALATION_BRIEF_PROCESSES=1, of its worker). Targets: healthy ≤ 3 s, ≤ 150 MB after 10,000 briefs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bot_vs_bolt  # noqa: E402
from rig.processes import ProcessGroups, start_standin  # noqa: E402


def report(r: dict, workers: int) -> None:
    print(f"## Footprint (HTTP, SQLite, {'one process' if not workers else f'a serving process and {workers} brief worker process(es)'})\n")
    print("| measure | figure | target |\n|---|---:|---|")
    print(f"| start-up to healthy | {r['startup_s']:.2f} s | ≤ 3 s: {'met' if r['startup_s'] <= 3 else 'MISSED'} |")
    print(f"| resident size when healthy | {r['rss_start_mb']:.0f} MB" + (f" + workers {r['workers_rss_start_mb']:.0f} MB" if workers else "") + " | |")
    total = r["rss_end_mb"] + r["workers_rss_end_mb"]
    print(
        f"| resident size after {r['briefs_handled']:,} briefs | {r['rss_end_mb']:.0f} MB"
        + (f" + workers {r['workers_rss_end_mb']:.0f} MB = {total:.0f} MB" if workers else "")
        + f" | ≤ 150 MB: {'met' if total <= 150 else 'MISSED'} |"
    )
    print(f"| briefs stored and posted per second (10 senders, chunks of 200) | {r['bulk_rps'] or 0:.0f} | |")
    if r["bulk_missing"]:
        print(f"\n{r['bulk_missing']} of the briefs were not posted within 60 s (HTTP answers: {r['bulk_status']}).")
    if r["log_findings"]:
        print("\nBot log warnings: " + "; ".join(f"{k} ×{v}" for k, v in list(r["log_findings"].items())[:5]))
    print()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--briefs", type=int, default=10_000, help="briefs to handle before reading memory (default 10000)")
    parser.add_argument(
        "--brief-processes",
        default="0,1",
        help="ESCALATION_BRIEF_PROCESSES values, one run each (default 0,1: the quickstart's one process, then with a worker)",
    )
    args = parser.parse_args(argv)
    for workers in (int(n) for n in args.brief_processes.split(",")):
        with tempfile.TemporaryDirectory(prefix="footprint-") as tmp, ProcessGroups() as pg:
            standin_proc, standin_url = start_standin(pg, 0.0)
            r = bot_vs_bolt.run_bot(
                pg, standin_proc, standin_url, Path(tmp), requests=0, concurrency=[], warmup=0, briefs_total=args.briefs, brief_processes=workers
            )
        report(r, workers)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

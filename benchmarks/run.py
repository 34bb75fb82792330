#!/usr/bin/env python3
"""Run the benchmarks and write benchmarks/results.md with the machine they ran on.

    python3 tasks.py bench                     # serving stacks (about 4 min), then pattern matching (about 2 min)
    python3 tasks.py bench --quick             # fewer stacks, requests and stored briefs (about 2 minutes)
    python3 tasks.py bench --only patterns     # one of: serving, patterns
    python3 tasks.py bench -- --api-latency-ms 150   # anything after -- goes to serving_stacks.py

Figures are printed and written, never asserted: timing belongs here, not in the test suite.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUICK = ["--requests", "150", "--warmup", "50", "--stacks", "async-uvicorn-w1,async-uvicorn-w1-task,async-starlette-uvicorn-w1,sync-gthread-w1t32", "--no-variants"]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, Python {platform.python_version()}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer stacks and requests, for a smoke run")
    parser.add_argument("--only", choices=["serving", "patterns"], help="run one benchmark")
    parser.add_argument("--out", default=str(HERE / "results.md"), help="where to write the results")
    args, rest = parser.parse_known_args(argv)
    extra = [a for a in rest if a != "--"]
    runs = []
    if args.only in (None, "serving"):
        runs.append([sys.executable, str(HERE / "serving_stacks.py"), *(QUICK if args.quick else []), *extra])
    if args.only in (None, "patterns"):
        runs.append([sys.executable, str(HERE / "pattern_matching.py"), *(["--rows", "20000", "--queries", "100"] if args.quick else [])])
    outputs = []
    for command in runs:
        print("$ " + " ".join(command), flush=True)
        result = subprocess.run(command, stdout=subprocess.PIPE, text=True)
        sys.stdout.write(result.stdout)
        if result.returncode != 0:
            return result.returncode
        outputs.append(result.stdout)
    header = f"# Benchmark results\n\nRun {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {machine()}.\nCommand: `{' '.join(['python3 tasks.py bench', *argv])}`\n\n"
    Path(args.out).write_text(header + "\n\n".join(outputs))
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Statistics and reporting: percentiles, pooled repeated runs, the best stack, markdown tables."""

from __future__ import annotations

import importlib.metadata
import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .processes import Stack


# ---------------------------------------------------------------------------
# Statistics helpers
# ---------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: every reported value was observed)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


def _count(items: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return counts


# ---------------------------------------------------------------------------
# Results of runs
# ---------------------------------------------------------------------------


@dataclass
class StackResult:
    stack: Stack
    phases: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    log_findings: dict[str, int] = field(default_factory=dict)
    api_calls: dict[str, int] = field(default_factory=dict)

    def phase(self, label: str, concurrency: int) -> dict[str, Any] | None:
        return next((p for p in self.phases if p["phase"] == label and p["concurrency"] == concurrency), None)


def merge_runs(runs: list[StackResult]) -> StackResult:
    """Pool the samples of repeated runs of one stack.

    Pooling (rather than averaging percentiles) gives p99 more samples to stand
    on; each run's own p99 and throughput are kept to show the spread.
    """
    merged = StackResult(runs[0].stack)
    merged.error = "; ".join(r.error for r in runs if r.error) or None
    for r in runs:
        for line, n in r.log_findings.items():
            merged.log_findings[line] = merged.log_findings.get(line, 0) + n
        for method, n in r.api_calls.items():
            merged.api_calls[method] = merged.api_calls.get(method, 0) + n
    keys = list(dict.fromkeys((p["phase"], p["concurrency"]) for r in runs for p in r.phases))
    for label, c in keys:
        parts = [p for r in runs if (p := r.phase(label, c)) is not None]
        wall = sum(p["wall_s"] for p in parts)
        n = sum(p["n"] for p in parts)
        cpu = {g: round(sum(p["cpu_pct"][g] * p["wall_s"] for p in parts) / wall, 1) for g in parts[0]["cpu_pct"] if g != "app_procs"}
        if "app_procs" in parts[0]["cpu_pct"]:
            width = max(len(p["cpu_pct"]["app_procs"]) for p in parts)
            padded = [p["cpu_pct"]["app_procs"] + [0] * (width - len(p["cpu_pct"]["app_procs"])) for p in parts]
            cpu["app_procs"] = [round(sum(col) / len(col)) for col in zip(*padded)]
        phase: dict[str, Any] = {
            "phase": label,
            "concurrency": c,
            "n": n,
            "wall_s": round(wall, 3),
            "rps": round(n / wall, 1),
            "ack_ms": [v for p in parts for v in p["ack_ms"]],
            "status": _count(k for p in parts for k, v in p["status"].items() for _ in range(v)),
            "cpu_pct": cpu,
            "runs_ack_p99": [round(percentile(p["ack_ms"], 99), 1) for p in parts],
            "runs_rps": [p["rps"] for p in parts],
        }
        if "downstream" in parts[0]:
            phase["downstream"] = parts[0]["downstream"]
            phase["downstream_ms"] = [v for p in parts for v in p["downstream_ms"]]
            phase["downstream_missing"] = sum(p["downstream_missing"] for p in parts)
            phase["runs_downstream_p99"] = [round(percentile(p["downstream_ms"], 99), 1) for p in parts]
        merged.phases.append(phase)
    return merged


def pick_best(results: list[StackResult], kind: str, concurrency: int, pattern: str | None = None) -> StackResult | None:
    """Lowest /escalate ack p99 at `concurrency` among error-free candidates of one kind."""
    best, best_p99 = None, math.inf
    for r in results:
        p = r.phase("/escalate", concurrency)
        if r.error or not r.stack.candidate or r.stack.kind != kind or p is None:
            continue
        if pattern is not None and dict(r.stack.env).get("BENCH_PATTERN", "ack_then_call") != pattern:
            continue
        if set(p["status"]) != {"200"} or p.get("downstream_missing"):
            continue
        p99 = percentile(p["ack_ms"], 99)
        if p99 < best_p99:
            best, best_p99 = r, p99
    return best


# ---------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------


def _fmt(v: float) -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.1f}"


def _errors(p: dict[str, Any] | None) -> str:
    if p is None:
        return "n/a"
    bad = {k: v for k, v in p["status"].items() if k != "200"}
    if p.get("downstream_missing"):
        bad["no-API-call"] = p["downstream_missing"]
    return ", ".join(f"{k}×{v}" for k, v in bad.items()) or "0"


def _split(cpu: dict[str, Any]) -> str:
    procs = [p for p in cpu.get("app_procs", []) if p >= 1]
    return f" ({'+'.join(map(str, procs))})" if len(procs) > 1 else ""


def _cpu(p: dict[str, Any]) -> str:
    # /proc counts CPU in 10 ms ticks: a phase shorter than ~0.5 s gives noise.
    if p["wall_s"] < 0.5:
        return "n/a (phase < 0.5 s)"
    cpu = p["cpu_pct"]
    return f"{cpu.get('app', 0):.0f}{_split(cpu)}/{cpu.get('standin', 0):.0f}/{cpu.get('loadgen', 0):.0f}"


def results_table(results: list[StackResult]) -> str:
    head = (
        "| stack | C | /escalate ack p50 | ack p99 | req/s | cmd→views.open p50 | p99 "
        "| submit ack p50 | ack p99 | req/s | submit→postMessage p50 | p99 | errors | CPU% app/stand-in/loadgen |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        if r.error and not r.phases:
            lines.append(f"| {r.stack.name} | – | FAILED: {r.error} |" + " |" * 11)
            continue
        for c in sorted({p["concurrency"] for p in r.phases}):
            cmd, sub = r.phase("/escalate", c), r.phase("submission", c)
            lines.append(
                f"| {r.stack.name} | {c} "
                f"| {_fmt(percentile(cmd['ack_ms'], 50))} | {_fmt(percentile(cmd['ack_ms'], 99))} | {cmd['rps']:.0f} "
                f"| {_fmt(percentile(cmd['downstream_ms'], 50))} | {_fmt(percentile(cmd['downstream_ms'], 99))} "
                f"| {_fmt(percentile(sub['ack_ms'], 50))} | {_fmt(percentile(sub['ack_ms'], 99))} | {sub['rps']:.0f} "
                f"| {_fmt(percentile(sub['downstream_ms'], 50))} | {_fmt(percentile(sub['downstream_ms'], 99))} "
                f"| cmd {_errors(cmd)}; sub {_errors(sub)} "
                f"| {_cpu(cmd)} |"
            )
    return "\n".join(lines)


def requirement_table(results: list[StackResult], concurrency: int) -> str:
    """The later acceptance rule: ack p99 ≤ 1.25× fastest bare stack and < 300 ms; submit→post p99 < 1 s."""
    rows = []
    for r in results:
        cmd, sub = r.phase("/escalate", concurrency), r.phase("submission", concurrency)
        if cmd and sub:
            rows.append((r, percentile(cmd["ack_ms"], 99), percentile(sub["downstream_ms"], 99)))
    if not rows:
        return ""
    fastest = min(p99 for _, p99, _ in rows)
    out = [
        f"| stack (C={concurrency}) | /escalate ack p99 ms | × fastest | < 300 ms | per-run ack p99 | per-run req/s "
        f"| submit→postMessage p99 ms | < 1 s | per-run submit→postMessage p99 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r, ack99, post99 in sorted(rows, key=lambda row: row[1]):
        ok = lambda b: "yes" if b else "**no**"  # noqa: E731
        cmd, sub = r.phase("/escalate", concurrency), r.phase("submission", concurrency)
        spread = lambda xs: " / ".join(f"{x:.0f}" for x in xs) if xs else "–"  # noqa: E731
        out.append(
            f"| {r.stack.name} | {ack99:.1f} | {ack99 / fastest:.2f} | {ok(ack99 < 300)} "
            f"| {spread(cmd.get('runs_ack_p99'))} | {spread(cmd.get('runs_rps'))} "
            f"| {_fmt(post99)} | {ok(post99 < 1000)} | {spread(sub.get('runs_downstream_p99'))} |"
        )
    return "\n".join(out)


def versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for dist in ("slack_bolt", "slack_sdk", "aiohttp", "uvicorn", "uvicorn-worker", "gunicorn", "starlette", "uvloop", "httptools", "h11"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def report(results, variant_results, selftest, concurrency, args, elapsed) -> None:
    top_c = max(concurrency)
    print(
        f"## Serving stacks: {args.requests} requests per phase × {args.repeat} run(s), closed loop, "
        f"stand-in API latency {args.api_latency_ms:g} ms, run took {elapsed:.0f} s\n"
    )
    print("Versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()) + "\n")
    for p in selftest.get("phases", []):
        print(
            f"Rig ceiling (load generator → stand-in views.open, C={p['concurrency']}): {p['rps']:.0f} req/s, "
            f"p50 {percentile(p['ack_ms'], 50):.1f} ms, p99 {percentile(p['ack_ms'], 99):.1f} ms, "
            f"CPU% stand-in {p['cpu_pct'].get('standin', 0):.0f} / loadgen {p['cpu_pct'].get('loadgen', 0):.0f}\n"
        )
    print(
        "Latencies in ms. ack = request sent → HTTP response received; cmd→views.open and "
        "submit→postMessage = request sent → API call received by the stand-in. CPU% measured "
        "during the /escalate phase (200% = both cores).\n"
    )
    print(results_table(results) + "\n")
    print(requirement_table(results, top_c) + "\n")
    if variant_results:
        print(f"### 2 ms blocking call after ack() (C={top_c})\n")
        print(results_table(variant_results) + "\n")
    print("### Command lines\n")
    for r in results + variant_results:
        print(f"- `{r.stack.name}`: `{r.stack.display_command()}`")
    findings = [(r.stack.name, line, n) for r in results + variant_results for line, n in r.log_findings.items()]
    if findings:
        print("\n### Server log warnings/errors\n")
        for name, line, n in findings[:40]:
            print(f"- {name}: {n}× `{line}`")

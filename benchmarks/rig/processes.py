"""Processes of a run: children in their own process groups, their CPU time, ports, readiness.

Everything a benchmark starts goes through `ProcessGroups`, which kills each child's whole group
(gunicorn master and workers alike) on exit, also on Ctrl-C / SIGTERM.  `Stack` is one server's
command line; `run_stack` starts it, drives it with the load generator and stops it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import select
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .payloads import SIGNING_SECRET, SLACK_PATH
from .report import StackResult

BENCH_DIR = Path(__file__).resolve().parent.parent  # benchmarks/: where servers import the apps from
PY = sys.executable

# A realistic production keep-alive: longer than any gap between phases, so the
# load generator never races a server closing an idle pooled connection.
KEEPALIVE_SECONDS = 75


@dataclass(frozen=True)
class Stack:
    name: str
    kind: str  # "sync" or "async": which Bolt App class the stack runs
    argv: tuple[str, ...]  # '{port}' and '{bench_dir}' are filled in at start
    env: tuple[tuple[str, str], ...] = ()  # BENCH_* app settings
    note: str = ""
    candidate: bool = True  # False: a reference/pitfall run, never "recommended"

    def command(self, port: int) -> list[str]:
        return [a.format(port=port, bench_dir=BENCH_DIR) for a in self.argv]

    def display_command(self, port: int | str = "$PORT") -> str:
        """Shell form a human would type (console scripts instead of python -m)."""
        args = [a.format(port=port, bench_dir=BENCH_DIR) for a in self.argv]
        if args[:2] == [PY, "-m"]:
            args = args[2:]
        env = " ".join(f"{k}={v}" for k, v in self.env)
        return (env + " " if env else "") + shlex.join(args)

    def with_env(self, suffix: str, **env: str) -> Stack:
        merged = dict(self.env) | env
        return dataclasses.replace(self, name=self.name + suffix, env=tuple(sorted(merged.items())), candidate=False)


# ---------------------------------------------------------------------------
# Process management
# ---------------------------------------------------------------------------

_CLK_TCK = os.sysconf("SC_CLK_TCK")


def process_group_cpu_seconds(pgid: int) -> dict[int, float]:
    """user+system CPU per live member of a process group (gunicorn master + workers)."""
    per_pid: dict[int, float] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2 :].split()  # comm may contain spaces
        if int(fields[2]) == pgid:
            per_pid[int(entry.name)] = (int(fields[11]) + int(fields[12])) / _CLK_TCK
    return per_pid


def find_free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http_ready(port: int, proc: subprocess.Popen, timeout_s: float = 30.0) -> None:
    """Ready = any HTTP status line on GET; the Bolt route itself is exercised by warm-up."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(16).startswith(b"HTTP/"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server on port {port} not ready after {timeout_s}s")


class ProcessGroups:
    """Starts children in their own process groups and guarantees they die.

    Use as a context manager; `stop` is also safe to call early.
    """

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def __enter__(self) -> ProcessGroups:
        return self

    def __exit__(self, *exc) -> None:
        for proc in reversed(self.procs):
            self.stop(proc)

    def start(self, argv: Sequence[str], *, env: dict[str, str] | None = None, stdout=None, stderr=None, cwd: Path | None = None) -> subprocess.Popen:
        proc = subprocess.Popen(
            list(argv),
            env={**os.environ, **(env or {})},
            stdout=stdout,
            stderr=stderr,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # pgid == pid
        )
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen, grace_s: float = 8.0) -> None:
        pgid = proc.pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace_s)
        # Workers can outlive a master that died first; sweep the whole group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=2)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        if proc in self.procs:
            self.procs.remove(proc)


def _read_line(proc: subprocess.Popen, timeout_s: float) -> str:
    ready, _, _ = select.select([proc.stdout], [], [], timeout_s)
    if not ready:
        raise RuntimeError("timed out waiting for child output")
    return proc.stdout.readline().decode()


class CpuMeter:
    """CPU seconds per watched process group between two points in time."""

    def __init__(self, groups: dict[str, int]):
        self.groups = {**groups, "loadgen": os.getpgid(0)}

    def snapshot(self) -> dict[str, dict[int, float]]:
        return {name: process_group_cpu_seconds(pgid) for name, pgid in self.groups.items()}

    @staticmethod
    def percent(before, after, wall_s: float) -> dict[str, Any]:
        """Group totals, plus the per-process split of 'app' (shows worker imbalance)."""
        out: dict[str, Any] = {}
        for group, procs in after.items():
            used = {pid: secs - before[group].get(pid, 0.0) for pid, secs in procs.items()}
            out[group] = round(100.0 * sum(used.values()) / wall_s, 1)
            if group == "app":
                out["app_procs"] = sorted((round(100.0 * v / wall_s) for v in used.values() if v > 0), reverse=True)
        return out


# ---------------------------------------------------------------------------
# Orchestration
# ---------------------------------------------------------------------------


def start_standin(pg: ProcessGroups, api_latency_ms: float, extra_args: Sequence[str] = ()) -> tuple[subprocess.Popen, str]:
    # cwd: `python -m` finds the rig package in benchmarks/, whatever the caller's directory.
    proc = pg.start([PY, "-m", "rig.standin", "--api-latency-ms", str(api_latency_ms), *extra_args], stdout=subprocess.PIPE, cwd=BENCH_DIR)
    line = _read_line(proc, 20)
    if not line.startswith("READY "):
        raise RuntimeError(f"stand-in failed to start: {line!r}")
    return proc, f"http://127.0.0.1:{int(line.split()[1])}"


def run_loadgen(pg: ProcessGroups, plan: dict[str, Any], timeout_s: float) -> dict[str, Any]:
    proc = pg.start([PY, "-m", "rig.load", json.dumps(plan)], stdout=subprocess.PIPE, cwd=BENCH_DIR)
    try:
        out, _ = proc.communicate(timeout=timeout_s)
    finally:
        pg.stop(proc)
    if proc.returncode != 0:
        raise RuntimeError(f"load generator exited with {proc.returncode}")
    return json.loads(out.decode().strip().splitlines()[-1])


def scan_log(path: Path) -> dict[str, int]:
    """Distinct WARNING/ERROR lines the server logged (e.g. 'Unhandled request', ack timeouts)."""
    findings: dict[str, int] = {}
    for line in path.read_text(errors="replace").splitlines():
        if "WARNING" in line or "ERROR" in line or "Traceback" in line:
            key = line.strip()[:160]
            findings[key] = findings.get(key, 0) + 1
    return findings


def run_stack(
    pg: ProcessGroups, stack: Stack, standin_url: str, standin_pgid: int, *, requests: int, concurrency: list[int], warmup: int, log_dir: Path
) -> StackResult:
    port = find_free_port()
    env = {"BENCH_STANDIN_URL": standin_url, "BENCH_SIGNING_SECRET": SIGNING_SECRET, **dict(stack.env)}
    log_path = log_dir / f"{stack.name}.log"
    result = StackResult(stack)
    print(f"[{stack.name}] {stack.display_command(port)}", file=sys.stderr, flush=True)
    with open(log_path, "wb") as log:
        proc = pg.start(stack.command(port), env=env, stdout=log, stderr=subprocess.STDOUT, cwd=BENCH_DIR)
    try:
        wait_http_ready(port, proc)
        plan = {
            "run_id": f"{stack.name}.{os.getpid()}.{time.time_ns()}",
            "target_url": f"http://127.0.0.1:{port}{SLACK_PATH}",
            "standin_url": standin_url,
            "secret": SIGNING_SECRET,
            "requests": requests,
            "concurrency": concurrency,
            "warmup": warmup,
            "pgids": {"app": proc.pid, "standin": standin_pgid},
        }
        out = run_loadgen(pg, plan, timeout_s=120 + requests * len(concurrency) * 0.2)
        result.phases, result.api_calls = out["phases"], out["api_calls"]
    except Exception as exc:  # one broken stack must not hide the others' results
        result.error = f"{type(exc).__name__}: {exc}"
        print(f"[{stack.name}] FAILED: {result.error}", file=sys.stderr, flush=True)
    finally:
        pg.stop(proc)
        result.log_findings = scan_log(log_path)
    return result

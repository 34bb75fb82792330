"""Brief work in a child process: the serving process acks, a worker process stores and posts.

Why: storing a brief, matching it against recent ones and posting it cost ~25 ms of CPU (6–12 ms
now). On threads of the serving process that work held the GIL while Slack's requests waited for
their ack: at 50 agents submitting, p99 acks were 3–7× a minimal Bolt app's (benchmarks/results.md).
In its own process (niced, so the acks come first on a busy machine) it runs on the other core.

Jobs (bot.usecases.escalate.BriefJob) go over a pipe per worker. The serving process keeps each one until
its worker reports it done; if a worker dies, a new one starts and gets that worker's unfinished
jobs again. That is safe because filing is idempotent by the modal's view id (a brief is
stored and posted once), and a brief stored but not posted is retried by the scheduler's tick.
If the serving process itself dies, its unfinished jobs die with it, as on a worker thread.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import queue
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.logs import configure_logging
from bot.settings import Settings
from bot.usecases.escalate import BriefJob, file_brief

log = logging.getLogger(__name__)

NICENESS = 19  # the lowest priority: on a busy machine the acks come first (at 50 senders, nice 5 still doubled the p99 ack)
THREADS = 8  # per worker: briefs wait on Slack (100–300 ms a call in production) more than on CPU
POLL_SECONDS = 0.5


@dataclass
class _Slot:
    """One worker process, its pipe, the jobs handed to it and not yet reported done."""

    process: Any = None
    conn: Any = None  # our end of a Pipe: jobs out, done keys back. One pipe per worker, no shared
    outbox: queue.Queue = field(default_factory=queue.Queue)  # lock a killed worker could die holding
    pending: dict[str, BriefJob] = field(default_factory=dict)


class BriefWorkers:
    """`processes` worker processes; `submit` never blocks the event loop (a thread per worker sends)."""

    def __init__(self, settings: Settings, processes: int = 1, *, threads: int = THREADS) -> None:
        self.settings = settings
        self.threads = threads
        self._mp = multiprocessing.get_context("spawn")  # a fresh interpreter: no threads or sockets inherited
        self._slots = [_Slot() for _ in range(processes)]
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for slot in self._slots:
            self._start(slot)
            self._threads.append(threading.Thread(target=self._send, args=(slot,), name="brief-send", daemon=True))
        self._threads.append(threading.Thread(target=self._watch, name="brief-workers", daemon=True))
        for thread in self._threads:
            thread.start()

    def submit(self, job: BriefJob) -> None:
        with self._lock:
            slot = min(self._slots, key=lambda s: len(s.pending))
            slot.pending[job.view_id] = job
        slot.outbox.put(job)

    @property
    def pending(self) -> int:
        with self._lock:
            return sum(len(s.pending) for s in self._slots)

    def stop(self, timeout: float = 15.0) -> None:
        """Let the workers finish what they hold (and what is queued for them), then stop them."""
        for slot in self._slots:
            slot.outbox.put(None)
        deadline = time.monotonic() + timeout
        for slot in self._slots:
            slot.process.join(max(0.0, deadline - time.monotonic()))
            if slot.process.is_alive():  # it ignores SIGTERM (see work()), so: SIGKILL
                log.warning("brief worker %s did not stop in %.0f s; killing it", slot.process.pid, timeout)
                slot.process.kill()
                slot.process.join(1)
        self._stopping.set()
        for thread in self._threads:
            thread.join(POLL_SECONDS * 4)
        left = self.pending
        if left:
            log.warning("%s brief(s) were not finished at shutdown; stored ones are posted by the tick after a restart", left)

    # --- the serving process's side -----------------------------------------------------------

    def _start(self, slot: _Slot) -> None:
        ours, theirs = self._mp.Pipe()
        slot.process = self._mp.Process(target=work, args=(self.settings, theirs, self.threads, os.getpid()), name="brief-worker", daemon=True)
        slot.process.start()
        theirs.close()
        slot.conn = ours

    def _send(self, slot: _Slot) -> None:
        while True:
            job = slot.outbox.get()  # None: the worker stops once its jobs are done
            try:
                slot.conn.send(job)
            except (OSError, ValueError):
                pass  # the worker is gone: _watch starts another and hands its jobs over again
            if job is None:
                return

    def _watch(self) -> None:
        while not self._stopping.is_set():
            conns = {slot.conn: slot for slot in self._slots}
            for conn in multiprocessing.connection.wait(list(conns), timeout=POLL_SECONDS):
                self._receive(conns[conn])
            for slot in self._slots:
                if slot.process.is_alive() or self._stopping.is_set() or slot.process.exitcode == 0:
                    continue
                log.error(
                    "brief worker %s died (exit code %s): starting another and handing over its unfinished briefs", slot.process.pid, slot.process.exitcode
                )
                slot.conn.close()
                self._start(slot)
                with self._lock:
                    unfinished = list(slot.pending.values())
                for job in unfinished:  # the dead one may have stored or posted some: filing twice files once
                    slot.outbox.put(job)

    def _receive(self, slot: _Slot) -> None:
        try:
            while slot.conn.poll():
                key = slot.conn.recv()
                with self._lock:
                    slot.pending.pop(key, None)
        except (EOFError, OSError):
            pass  # the worker died: _watch replaces it


# --- the worker process ---------------------------------------------------------------------------


def work(settings: Settings, conn, threads: int, parent_pid: int) -> None:
    """A worker process's main: file each job on a pool of threads until told to stop."""
    # Ctrl-C or a SIGTERM to the whole process group reaches the parent, which tells the workers to
    # stop once their jobs are done; the workers ignore the signals so nothing is cut mid-brief.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        os.nice(NICENESS)
    except OSError:
        pass
    configure_logging(settings.log_level, process="brief-worker")
    from bot.runtime.startup import freeze_startup_objects
    from bot.services import build_services
    from bot.slack_api.workspace import serving_team

    services = build_services(settings)  # its own engine and Slack clients; the parent ran the migrations
    replies = threading.Lock()  # one pipe, several threads reporting
    # A job is taken from the pipe only when a thread is free for it: the backlog stays with the
    # serving process, which hands it to a new worker if this one dies.
    free = threading.BoundedSemaphore(threads)

    def file_one(job: BriefJob) -> None:
        try:
            with serving_team(job.team_id):  # several workspaces: this brief's token
                file_brief(services, job)
        except Exception:  # noqa: BLE001 - file_brief reports its own failures; this is the last guard
            log.exception("filing brief %s failed", job.view_id)
        finally:
            free.release()
            try:
                with replies:
                    conn.send(job.view_id)
            except OSError:
                pass  # the serving process is gone

    def orphaned() -> bool:
        return os.getppid() != parent_pid

    freeze_startup_objects()
    with ThreadPoolExecutor(threads, thread_name_prefix="brief") as pool:
        while not orphaned():  # orphaned: finish what is held, take nothing more
            if not free.acquire(timeout=POLL_SECONDS):
                continue
            try:
                job: BriefJob | Literal[False] | None = conn.recv() if conn.poll(POLL_SECONDS) else False
            except (EOFError, OSError):
                job = None
            if job is False:
                free.release()
                continue
            if job is None:
                free.release()
                break
            pool.submit(file_one, job)
    services.db.dispose()

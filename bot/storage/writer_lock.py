"""SQLite's one writer, queued for across threads and processes without SQLite's busy handler.

Every session here writes (BEGIN IMMEDIATE), and SQLite lets one connection write at a time. A
connection that finds the lock taken waits in SQLite's busy handler, which sleeps 1, 2, 5, 10 … up
to 100 ms between tries and is not fair: with two brief worker processes, a worker could sleep
through many of the other's transactions (p99 submission → post 3.4 s against a p50 of 0.9 s).

So a writer first takes this lock: a re-entrant thread lock (threads of one process are woken as
soon as it is free), then an flock on a file beside the database (other processes: the serving
process, brief workers, the command line). The kernel drops an flock when its process dies, so a
killed worker never leaves it taken. flock cannot wait with a timeout, so a process polls it at
short intervals; the whole wait is bounded by the busy timeout, after which the session goes
ahead and SQLite decides (it fails with "database is locked" rather than hanging).
"""

from __future__ import annotations

import fcntl
import os
import threading
import time

FIRST_POLL_SECONDS = 0.0002
LONGEST_POLL_SECONDS = 0.002  # a waiting process notices a free lock within ~2 ms (SQLite: up to 100 ms)


class WriterLock:
    def __init__(self, database_path: str | None, timeout: float) -> None:
        self.timeout = timeout
        self._threads = threading.RLock()
        self._depth = threading.local()  # re-entrant: a nested session holds the file lock already
        self._path = f"{database_path}-writer.lock" if database_path and database_path != ":memory:" else None
        self._fd: int | None = None
        self._fd_pid: int | None = None  # a forked child must open its own (an flock is shared across fork)

    def acquire(self) -> bool:
        """True if held (release it); False after the timeout (go ahead and let SQLite decide)."""
        deadline = time.monotonic() + self.timeout
        if not self._threads.acquire(timeout=self.timeout):
            return False
        depth = getattr(self._depth, "n", 0)
        if depth == 0 and self._path is not None and not self._lock_file(deadline):
            self._threads.release()
            return False
        self._depth.n = depth + 1
        return True

    def release(self) -> None:
        self._depth.n -= 1
        if self._depth.n == 0 and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()

    def _lock_file(self, deadline: float) -> bool:
        fd = self._file()
        if fd is None:
            return True  # no lock file (a read-only directory): SQLite's own handler is the queue
        pause = FIRST_POLL_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(pause)
                pause = min(pause * 2, LONGEST_POLL_SECONDS)

    def _file(self) -> int | None:
        if self._fd is None or self._fd_pid != os.getpid():
            try:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError:
                self._path = None
                return None
            self._fd_pid = os.getpid()
        return self._fd

    def close(self) -> None:
        if self._fd is not None and self._fd_pid == os.getpid():
            os.close(self._fd)
        self._fd = None

"""The SQLite writer lock: one writer across threads and processes, released when its holder dies."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.storage.db import Database
from bot.storage.writer_lock import WriterLock

ROOT = Path(__file__).resolve().parent.parent

HOLDER = """
import sys, time
from bot.storage.writer_lock import WriterLock
lock = WriterLock(sys.argv[1], timeout=5)
assert lock.acquire()
print("held", flush=True)
sys.stdin.readline()  # hold until told (or killed)
lock.release()
print("released", flush=True)
sys.stdin.readline()
"""


@pytest.fixture
def holder(tmp_path):
    """Another process holding the lock of tmp_path/db until its stdin gets a line."""
    started = []

    def start(path: str) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-c", HOLDER, path], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "held"
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.kill()
        proc.wait(5)


def test_another_process_waits_until_the_holder_releases(tmp_path, holder):
    path = str(tmp_path / "escalations.db")
    proc = holder(path)
    lock = WriterLock(path, timeout=5)
    got = []

    def wait_for_it() -> None:
        got.append((lock.acquire(), time.monotonic()))
        lock.release()

    waiter = threading.Thread(target=wait_for_it)
    waiter.start()
    time.sleep(0.3)
    assert not got  # still waiting on the other process
    released_at = time.monotonic()
    proc.stdin.write("\n")
    proc.stdin.flush()
    assert proc.stdout.readline().strip() == "released"
    waiter.join(5)
    assert got and got[0][0] is True
    assert got[0][1] - released_at < 1.0


def test_a_killed_holder_frees_the_lock(tmp_path, holder):
    path = str(tmp_path / "escalations.db")
    proc = holder(path)
    proc.send_signal(signal.SIGKILL)
    proc.wait(5)
    lock = WriterLock(path, timeout=2)
    assert lock.acquire()
    lock.release()


def test_gives_up_after_the_timeout_so_sqlite_decides(tmp_path, holder):
    path = str(tmp_path / "escalations.db")
    holder(path)
    lock = WriterLock(path, timeout=0.2)
    started = time.monotonic()
    assert lock.acquire() is False
    assert 0.15 <= time.monotonic() - started < 2
    # Not held: another thread of this process is not blocked by the failed attempt.
    other = []
    t = threading.Thread(target=lambda: other.append(lock._threads.acquire(timeout=1)))
    t.start()
    t.join(5)
    assert other == [True]


def test_reentrant_in_one_thread_exclusive_between_threads(tmp_path):
    lock = WriterLock(str(tmp_path / "escalations.db"), timeout=5)
    assert lock.acquire() and lock.acquire()  # a nested session
    order = []

    def second() -> None:
        assert lock.acquire()
        order.append("second")
        lock.release()

    t = threading.Thread(target=second)
    t.start()
    lock.release()
    time.sleep(0.1)
    assert order == []  # the outer hold is still on
    order.append("first")
    lock.release()
    t.join(5)
    assert order == ["first", "second"]


def test_sessions_of_two_processes_on_one_sqlite_file_take_turns(tmp_path, holder):
    url = f"sqlite:///{tmp_path / 'escalations.db'}"
    db = Database(url)
    db.upgrade()
    proc = holder(str(tmp_path / "escalations.db"))
    done = []

    def write() -> None:
        with db.session():
            done.append(time.monotonic())

    t = threading.Thread(target=write)
    t.start()
    time.sleep(0.3)
    assert not done  # the session waits for the other process's writer
    proc.stdin.write("\n")
    proc.stdin.flush()
    t.join(5)
    assert done
    db.dispose()


def test_no_lock_file_for_an_in_memory_database():
    lock = WriterLock(":memory:", timeout=1)
    assert lock.acquire()
    lock.release()

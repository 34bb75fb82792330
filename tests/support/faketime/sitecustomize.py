"""Loaded by every Python process of the year-ahead test run (.ci/run puts this folder on PYTHONPATH).

libfaketime moves the wall clock (FAKETIME="+365d") and leaves the monotonic clock alone
(DONT_FAKE_MONOTONIC=1), so timeouts and waits behave. One call still breaks under it: Python's
time.sleep waits with clock_nanosleep on an absolute monotonic deadline, which libfaketime rewrites
into an invalid one (EINVAL). Here time.sleep waits with select's relative timeout instead.
"""

import os

if os.environ.get("FAKETIME"):
    import select
    import time

    def _sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            select.select([], [], [], left)

    time.sleep = _sleep

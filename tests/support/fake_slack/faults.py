"""Fault injection: queued faults (fail()) and a seeded random failure rate."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterable
from typing import Any

from .records import Fault

_DEFAULT_ERROR_FOR_STATUS = {
    429: "ratelimited",
    500: "internal_error",
    502: "service_unavailable",
    503: "service_unavailable",
    504: "request_timeout",
}


class FaultInjection:
    """Mixin for FakeSlackCore: what the next calls are answered with instead of the normal answer."""

    # ----- fault injection ----------------------------------------------------------------

    def fail(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int = 200,
        times: int = 1,
        delay: float = 0.0,
        headers: dict[str, str] | None = None,
        body: Any = None,
        disconnect: bool = False,
        accept_first: bool = False,
        match: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """Queue a fault for the next ``times`` calls of ``method`` ("*" = any method).

        - ``error``: Slack error code answered as ``{"ok": false, "error": ...}``;
          defaults from ``status`` (429 ratelimited, 500 internal_error, 503 ...).
        - ``status=429`` gets ``Retry-After: 1`` unless ``headers`` says otherwise.
        - ``delay`` seconds before answering; with nothing else set the call then
          succeeds normally (a slow Slack), else the fault is answered after it.
        - ``body``: raw body (str/bytes) or dict (JSON) to send instead.
        - ``disconnect``: close the connection without any answer.
        - ``accept_first``: with ``delay``, carry the call out at once and answer after
          the delay: the client times out although Slack accepted the call.
        - ``match``: a predicate on the call's arguments; the fault is kept for the first
          call it matches (e.g. only posts in a thread, only one channel), others pass.
        """
        if error is None and body is None and not disconnect:
            if status != 200:
                error = _DEFAULT_ERROR_FOR_STATUS.get(status, "internal_error" if status >= 500 else "invalid_request")
            elif delay <= 0 or accept_first:
                error = None if accept_first else "internal_error"
        hdrs = dict(headers or {})
        if status == 429 and not any(k.lower() == "retry-after" for k in hdrs):
            hdrs["Retry-After"] = "1"
        f = Fault(error=error, status=status, delay=delay, headers=hdrs, body=body, disconnect=disconnect, accept_first=accept_first, match=match)
        with self._lock:
            for _ in range(times):
                self._faults[method].append(copy.copy(f))

    def set_failure_rate(
        self,
        rate: float,
        *,
        seed: int | None = None,
        methods: Iterable[str] | None = None,
        modes: Iterable[Fault] | None = None,
    ) -> None:
        """Fail a random ``rate`` of calls (seeded, reproducible).

        ``methods`` limits it to those methods (default: all but auth.test).
        ``modes`` are the faults drawn from (default: 429 ratelimited with
        Retry-After 1, 500 internal_error, 503 service_unavailable).
        """
        with self._lock:
            self.failure_rate = float(rate)
            if seed is not None:
                self._rng = random.Random(seed)
            self.failure_methods = frozenset(methods) if methods is not None else None
            self.failure_modes = (
                list(modes)
                if modes is not None
                else [
                    Fault(error="ratelimited", status=429, headers={"Retry-After": "1"}),
                    Fault(error="internal_error", status=500),
                    Fault(error="service_unavailable", status=503),
                ]
            )

    def _take_fault(self, method: str, args: dict[str, Any] | None = None) -> Fault | None:
        with self._lock:
            for key in (method, "*"):
                q = self._faults.get(key)
                for fault in list(q or ()):  # the first queued fault this call satisfies
                    if fault.match is None or fault.match(args or {}):
                        q.remove(fault)
                        return fault
            if self.failure_rate > 0:
                eligible = method in self.failure_methods if self.failure_methods is not None else method != "auth.test"
                if eligible and self._rng.random() < self.failure_rate:
                    return copy.copy(self._rng.choice(self.failure_modes))
        return None

"""A small JSON-over-HTTP helper on the standard library (urllib), shared by the adapters.

No third-party client: the adapters make a handful of calls, each with its own short timeout.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

USER_AGENT = "escalation-brief"
# Statuses where trying again cannot help (bad request, auth, not found, validation): give up at once.
PERMANENT_STATUSES = frozenset({400, 401, 403, 404, 405, 410, 422})


class TicketingError(Exception):
    """A call to a ticketing system or the webhook failed; `permanent` if retrying cannot help."""

    def __init__(self, message: str, *, status: int | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.permanent = permanent


@dataclass(frozen=True)
class Response:
    status: int
    body: Any  # parsed JSON, or None


def basic_auth(user: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


def request(method: str, url: str, *, headers: dict[str, str], body: bytes | None = None, timeout: float, what: str) -> Response:
    req = urllib.request.Request(url, data=body, method=method, headers={"User-Agent": USER_AGENT, "Accept": "application/json", **headers})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - configured https URLs
            raw = resp.read()
            return Response(resp.status, _json(raw))
    except urllib.error.HTTPError as exc:
        detail = _error_detail(exc)
        raise TicketingError(f"{what}: HTTP {exc.code}{detail}", status=exc.code, permanent=exc.code in PERMANENT_STATUSES) from None
    except TimeoutError:
        raise TicketingError(f"{what}: no answer within {timeout:g} s") from None
    except urllib.error.URLError as exc:
        raise TicketingError(f"{what}: {exc.reason}") from None
    except OSError as exc:
        raise TicketingError(f"{what}: {exc}") from None


def request_json(method: str, url: str, *, headers: dict[str, str], payload: Any = None, timeout: float, what: str) -> Response:
    body = json.dumps(payload).encode() if payload is not None else None
    hdrs = {**headers, **({"Content-Type": "application/json"} if body is not None else {})}
    return request(method, url, headers=hdrs, body=body, timeout=timeout, what=what)


def _json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _error_detail(exc: urllib.error.HTTPError) -> str:
    try:
        text = exc.read(300).decode("utf-8", "replace").strip()
    except Exception:  # noqa: BLE001 - the status is what matters
        return ""
    return f" ({' '.join(text.split())[:120]})" if text else ""

"""Exactly one effect per Slack event: Slack re-sends an event it thinks failed (X-Slack-Retry-Num,
same event_id), and with several replicas or a restart in between, memory is not enough. The
event_id is recorded in the database (unique) before any listener runs; a repeat is answered 200
and does nothing. If the database cannot be asked, the event is handled (a rare double is better
than a lost acknowledgement)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.storage import events

log = logging.getLogger(__name__)


class EventDedupe(AsyncMiddleware):
    """A middleware object rather than a function: Bolt builds a function middleware's arguments
    by inspecting it on every request, 5 % of the event loop's time per /escalate under load."""

    def __init__(self, services) -> None:
        self.services = services

    async def async_process(self, *, req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse | None:  # noqa: A002 - Bolt's name
        body = req.body
        event_id = body.get("event_id") if isinstance(body, dict) and body.get("type") == "event_callback" else None
        if event_id:
            try:
                first = await self.services.run_sync(_record, self.services, str(event_id), str(body.get("team_id") or ""))
            except Exception:  # noqa: BLE001
                log.warning("could not record event %s; handling it anyway", event_id, exc_info=True)
                first = True
            if not first:
                log.info("event %s already handled: ignored", event_id)
                return BoltResponse(status=200, body="")
        return await next()


def _record(services, event_id: str, team_id: str) -> bool:
    with services.db.session() as session:
        return events.first_delivery_of_event(session, event_id, team_id=team_id, now=services.clock.now())


def first_submission(services, key: str, team_id: str) -> bool:
    """Sync: True the first time a view submission (or other one-shot action) with `key` is seen."""
    try:
        return _record(services, key, team_id)
    except Exception:  # noqa: BLE001
        log.warning("could not record submission %s; handling it anyway", key, exc_info=True)
        return True

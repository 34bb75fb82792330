"""Exactly one effect per Slack event and per click: Slack re-sends an event it thinks failed
(X-Slack-Retry-Num, same event_id), and an attacker who captured a signed click can replay it for
the five minutes its signature stays fresh (Slack never re-sends a click: each has its own
trigger_id). With several replicas or a restart in between, memory is not enough: the event_id, or
the click's trigger_id (or a closed view's id: a view closes once), is recorded in the database (unique) before any listener runs; a repeat is
answered 200 and does nothing. If the database cannot be asked, the request is handled (a rare
double is better than a lost acknowledgement)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.slack import payloads
from bot.storage import events

log = logging.getLogger(__name__)


class EventDedupe(AsyncMiddleware):
    """A middleware object rather than a function: Bolt builds a function middleware's arguments
    by inspecting it on every request, 5 % of the event loop's time per /escalate under load."""

    def __init__(self, services) -> None:
        self.services = services

    async def async_process(self, *, req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse | None:  # noqa: A002 - Bolt's name
        body = req.body
        key = _once_key(body) if isinstance(body, dict) else None
        if key:
            try:
                first = await self.services.run_sync(_record, self.services, key, payloads.team_id(body))
            except Exception:  # noqa: BLE001
                log.warning("could not record %s; handling it anyway", key, exc_info=True)
                first = True
            if not first:
                log.info("%s already handled: ignored (a retry or a replay)", key)
                return BoltResponse(status=200, body="")
        return await next()


def _once_key(body: dict) -> str | None:
    """What makes this request one of a kind: an event's id, a click's trigger_id (None: no such key)."""
    kind = body.get("type")
    if kind == "event_callback":
        return str(body.get("event_id") or "") or None
    if kind == "block_actions" and body.get("trigger_id"):
        return "click:" + str(body["trigger_id"])  # events.SlackEvent keeps 64 characters; Slack's trigger ids are ~40
    if kind == "view_closed" and isinstance(body.get("view"), dict) and body["view"].get("id"):
        return events.VIEW_CLOSED + str(body["view"]["id"])  # a view closes once (bot.slack.listeners.drafts keeps its draft)
    return None


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


async def once_per_view(services, body: dict, view: dict, operation, *args, **kwargs):
    """Run a modal's operation once per submitted view (a double-submitted modal posts one note);
    its result, or None for a repeat."""
    key = f"view:{view.get('id')}"
    if view.get("id") and not await services.run_sync(first_submission, services, key, payloads.team_id(body)):
        log.info("%s submitted again: ignored", key)
        return None
    return await services.run_sync(operation, *args, **kwargs)

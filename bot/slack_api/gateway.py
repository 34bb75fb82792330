"""The one place that talks to Slack's Web API for the use cases, the CLI and the scheduler.

It sends each call through `SlackWebClient` (bot.slack_api.web_client: slack_sdk's AsyncWebClient
on a kept-open connection pool, retrying connection errors), and turns SlackApiError into
`SlackCallFailed` carrying Slack's error code, so callers decide in domain terms (store and tell
the agent) instead of catching SDK exceptions everywhere.

Rate limits are never waited out on a thread (issue 17: seven throttled posts once held every
worker thread for Retry-After). A 429 is answered at once as `SlackCallFailed("ratelimited",
retry_after=...)`, and the caller re-queues the work: a brief's delivery is retried by the tick no
sooner than Retry-After (bot.slack_api.backoff), a nudge at the next tick. A channel that answered
429 takes no more posts from this process until its Retry-After has passed (`ChannelPacer.hold`).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.slack_api.web_client import SlackWebClient
from bot.slack_api.workspace import current_team

log = logging.getLogger(__name__)

BRIEF_EVENT_TYPE = "escalation_brief"  # message metadata type on every posted brief
CONTINUATION_EVENT_TYPE = "escalation_brief_part"  # on each thread part of a long brief: {escalation_id, part}
NUDGE_EVENT_TYPE = "escalation_nudge"  # message metadata type on every scheduled nudge
RETRY_AFTER_UNSAID = 1  # seconds a channel is held after a 429 that did not say Retry-After (Slack always does)
MAX_PACING_WAIT = 3.0  # seconds a post may wait for its channel's pacing slot; beyond, it is refused as rate-limited
HISTORY_PAGES = 5  # how far back a check for an already-posted message reads (pages of 200)
TZ_TTL = 3600.0  # seconds a user's time zone is reused before users.info is asked again


class SlackCallFailed(Exception):
    def __init__(self, method: str, error: str, *, status: int | None = None, retry_after: int | None = None) -> None:
        super().__init__(f"{method} failed: {error}")
        self.method = method
        self.error = error
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class ChannelStatus:
    channel_id: str
    exists: bool
    name: str | None = None
    is_member: bool = False
    is_private: bool = False
    is_archived: bool = False
    error: str | None = None


class ChannelPacer:
    """About one post per second per channel (Slack's documented limit for chat.postMessage), so a
    burst of nudges into one channel is spread out instead of rate-limited away; and no post to a
    channel that answered 429 until its Retry-After has passed.

    No thread waits long here: a post whose slot is more than `max_wait` seconds away (a burst
    into one channel from many threads), and any post to a held channel, is refused at once with
    `SlackCallFailed("ratelimited", retry_after=...)`, which callers treat as Slack's own 429
    (re-queued for later); posts already waiting for their slot in a channel that becomes held are
    refused then, not at the end of their wait. Slots are reserved under a lock, so concurrent
    threads queue rather than all sleeping one second.

    Process-local: across replicas, the 429 Slack then answers holds the channel in each replica
    that meets it, and the work is retried by the tick. `now` is the clock Retry-After is counted
    on (the services' clock, so tests move it); pacing sleeps on `monotonic`.
    """

    def __init__(
        self,
        interval: float = 1.0,
        *,
        max_wait: float = MAX_PACING_WAIT,
        sleep: Callable[[float], None] | None = None,
        monotonic=time.monotonic,
        now: Callable[[], float] | None = None,
    ) -> None:
        self.interval = interval
        self.max_wait = max(max_wait, interval)  # a configured interval longer than that is still honoured
        self._sleep = sleep  # tests pass one; else a wait that a hold() on the channel ends early
        self._monotonic = monotonic
        self._now = now or monotonic
        self._next: dict[str, float] = {}
        self._held: dict[str, float] = {}  # channel → until when (on `now`) Slack said to wait
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # notified when a channel is held

    def wait(self, channel: str) -> float:
        """Block until `channel` may take another post (at most `max_wait`); returns the seconds
        waited. Raises SlackCallFailed("ratelimited") at once when the channel is held or its next
        slot is further away than that."""
        with self._lock:
            self._refuse_if_held(channel)
            if self.interval <= 0:
                return 0.0
            now = self._monotonic()
            slot = max(now, self._next.get(channel, now))
            if slot - now > self.max_wait:
                raise SlackCallFailed("chat.postMessage", "ratelimited", retry_after=math.ceil(slot - now))
            self._next[channel] = slot + self.interval
            if len(self._next) > 10_000:  # forget channels idle for a while
                self._next = {c: t for c, t in self._next.items() if t > now}
        delay = slot - now
        if delay > 0:
            if self._sleep is not None:
                self._sleep(delay)
            with self._changed:
                if self._sleep is None:
                    self._changed.wait_for(lambda: self._is_held(channel), timeout=delay)
                self._refuse_if_held(channel)  # held while this one waited its turn (an earlier post got a 429): not sent
        return delay

    def _is_held(self, channel: str) -> bool:
        held = self._held.get(channel)
        return held is not None and held > self._now()

    def _refuse_if_held(self, channel: str) -> None:
        held = self._held.get(channel)
        if held is None:
            return
        left = held - self._now()
        if left > 0:
            raise SlackCallFailed("chat.postMessage", "ratelimited", retry_after=math.ceil(left))
        del self._held[channel]

    def hold(self, channel: str, seconds: float) -> None:
        """Slack answered 429 for a post to `channel`: refuse posts to it for `seconds`."""
        with self._changed:
            until = self._now() + max(seconds, 0)
            self._held[channel] = max(until, self._held.get(channel, until))
            if len(self._held) > 10_000:
                now = self._now()
                self._held = {c: t for c, t in self._held.items() if t > now}
            self._changed.notify_all()  # posts waiting for their slot there: refused now


def make_web_client(token: str | None, base_url: str, *, timeout: float = 10) -> SlackWebClient:
    """The bot's Web API client: connections kept open and reused, connection errors retried, 429s
    never waited out (bot.slack_api.web_client)."""
    return SlackWebClient(token, base_url, timeout=timeout)


class SlackGateway:
    def __init__(self, client: SlackWebClient, *, pacer: ChannelPacer | None = None) -> None:
        self.client = client
        self._setup(pacer)

    def _setup(self, pacer: ChannelPacer | None) -> None:
        self.pacer = pacer or ChannelPacer(0)
        # Per workspace: permalink prefix by channel (Slack's links are that prefix plus the ts
        # without its dot), and (time, tz) by user: one Web API call each per brief saved.
        self._link_prefixes: dict[tuple[str | None, str], str] = {}
        self._timezones: dict[tuple[str | None, str], tuple[float, str]] = {}

    def _call(self, method: str, **kwargs: Any) -> dict:
        try:
            # slack_sdk's typed methods send each method's wire format (JSON, form or GET) as Slack expects.
            response = self.client.call(method, **kwargs)
        except SlackApiError as exc:
            status = exc.response.status_code if exc.response is not None else None
            headers = exc.response.headers if exc.response is not None else {}
            retry = headers.get("Retry-After") or headers.get("retry-after") if headers else None
            error = (exc.response.get("error") if exc.response is not None else None) or f"http_{status}"
            raise SlackCallFailed(method, str(error), status=status, retry_after=int(retry) if retry and str(retry).isdigit() else None) from exc
        except (SlackRequestError, OSError, aiohttp.ClientError) as exc:  # OSError: TimeoutError too
            raise SlackCallFailed(method, "connection_error") from exc
        return response.data if hasattr(response, "data") else dict(response)

    def post_message(
        self,
        channel: str,
        *,
        text: str,
        blocks: list[dict] | None = None,
        thread_ts: str | None = None,
        metadata: dict | None = None,
    ) -> tuple[str, str]:
        """Post and return (channel id, ts). A user id as channel posts to the app's DM with them."""
        args: dict[str, Any] = {"channel": channel, "text": text, "unfurl_links": False, "unfurl_media": False}
        if blocks is not None:
            args["blocks"] = blocks
        if thread_ts:
            args["thread_ts"] = thread_ts
        if metadata:
            args["metadata"] = metadata
        self.pacer.wait(channel)  # refused at once (ratelimited) while the channel is held
        try:
            data = self._call("chat.postMessage", **args)
        except SlackCallFailed as exc:
            if exc.status == 429 or exc.error == "ratelimited":
                self.pacer.hold(channel, exc.retry_after or RETRY_AFTER_UNSAID)
            raise
        return data["channel"], data["ts"]

    def post_ephemeral(self, channel: str, user: str, *, text: str, thread_ts: str | None = None) -> None:
        args: dict[str, Any] = {"channel": channel, "user": user, "text": text}
        if thread_ts:
            args["thread_ts"] = thread_ts
        self._call("chat.postEphemeral", **args)

    def find_posted(self, channel: str, event_type: str, match: dict[str, Any], *, thread_ts: str | None = None) -> tuple[str, str] | None:
        """(channel id, ts) of a message this app already posted with metadata `event_type` whose
        payload contains `match`, or None. Used before re-posting after an answer that never came
        (a timeout, a 5xx): Slack may have accepted the first post. Raises SlackCallFailed when
        Slack cannot be asked (the caller then retries later rather than risk a double post)."""
        for found in self._posted(channel, event_type, match, thread_ts=thread_ts):
            return found
        return None

    def find_all_posted(self, channel: str, event_type: str, match: dict[str, Any], *, thread_ts: str | None = None) -> list[tuple[str, str]]:
        """Every (channel id, ts) find_posted would consider, newest first (e.g. all thread parts of a brief)."""
        return list(self._posted(channel, event_type, match, thread_ts=thread_ts))

    def _posted(self, channel: str, event_type: str, match: dict[str, Any], *, thread_ts: str | None):
        if channel[:1] in ("U", "W"):  # a DM: history needs the conversation's id
            channel = self._call("conversations.open", users=channel).get("channel", {}).get("id") or channel
        # Newest first, a few pages: the post being looked for was made minutes ago at most.
        args: dict[str, Any] = {"channel": channel, "include_all_metadata": True, "limit": 200}
        method = "conversations.history"
        if thread_ts:
            method, args["ts"] = "conversations.replies", thread_ts
        cursor = None
        for _ in range(HISTORY_PAGES):
            data = self._call(method, **args, **({"cursor": cursor} if cursor else {}))
            for message in data.get("messages") or []:
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if metadata.get("event_type") == event_type and all(payload.get(k) == v for k, v in match.items()):
                    yield channel, message["ts"]
            cursor = (data.get("response_metadata") or {}).get("next_cursor")
            if not data.get("has_more") or not cursor:
                return

    def update_message(self, channel: str, ts: str, *, text: str, blocks: list[dict]) -> None:
        self._call("chat.update", channel=channel, ts=ts, text=text, blocks=blocks)

    def permalink(self, channel: str, ts: str) -> str | None:
        """The message's link. The first one per channel comes from chat.getPermalink; when it has
        the usual form (…/archives/<channel>/p<ts without the dot>), later ones are built from it."""
        key, tail = (_team(), channel), "p" + ts.replace(".", "")
        prefix = self._link_prefixes.get(key)
        if prefix is not None:
            return prefix + tail
        try:
            link = self._call("chat.getPermalink", channel=channel, message_ts=ts).get("permalink")
        except SlackCallFailed:
            log.info("no permalink for %s/%s", channel, ts)
            return None
        if link and link.endswith(f"/archives/{channel}/{tail}"):
            self._link_prefixes[key] = link[: -len(tail)]
        return link

    def update_view(self, view_id: str | None, view: dict) -> None:
        """views.update of a modal; best effort: the person may have closed it (not_found), and what
        matters is stored."""
        if not view_id:
            return
        try:
            self._call("views.update", view_id=view_id, view=view)
        except SlackCallFailed as exc:
            log.info("views.update skipped: %s", exc.error)

    def open_view(self, trigger_id: str, view: dict) -> dict:
        return self._call("views.open", trigger_id=trigger_id, view=view).get("view", {})

    def user_timezone(self, user_id: str) -> str:
        """The user's IANA zone (UTC when unknown), reused for TZ_TTL: people rarely move, and an
        agent filing briefs back to back should not cost one users.info each."""
        key = (_team(), user_id)
        cached = self._timezones.get(key)
        if cached is not None and time.monotonic() - cached[0] < TZ_TTL:
            return cached[1]
        try:
            tz = self._call("users.info", user=user_id).get("user", {}).get("tz") or "UTC"
        except SlackCallFailed:
            return "UTC"  # not cached: the next brief asks again
        if len(self._timezones) > 10_000:  # bounded: a long-lived process meets many users
            self._timezones.clear()
        self._timezones[key] = (time.monotonic(), tz)
        return tz

    def auth_test(self) -> dict:
        return self._call("auth.test")

    def token_renewed(self, team_id: str) -> bool:
        """After Slack refused the workspace's token: whether a newer one is now stored for it (OAuth:
        another replica handled a reinstall while this one still held the old token). One token: never."""
        return False

    def open_socket_connection(self, app_token: str) -> str:
        """apps.connections.open: proves the app-level token works (returns a one-time WebSocket URL)."""
        return self._call("apps.connections.open", app_token=app_token).get("url", "")

    def usergroup_members(self, usergroup: str) -> list[str]:
        return list(self._call("usergroups.users.list", usergroup=usergroup).get("users") or [])

    def channel_members(self, channel_id: str, *, page_size: int = 1000) -> list[str]:
        """Everyone in the channel, following conversations.members' cursor to the last page."""
        members: list[str] = []
        cursor = None
        while True:
            args: dict[str, Any] = {"channel": channel_id, "limit": page_size}
            if cursor:
                args["cursor"] = cursor
            data = self._call("conversations.members", **args)
            members += data.get("members") or []
            cursor = (data.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return members

    def channel_status(self, channel_id: str) -> ChannelStatus:
        try:
            channel = self._call("conversations.info", channel=channel_id).get("channel", {})
        except SlackCallFailed as exc:
            return ChannelStatus(channel_id, exists=False, error=exc.error)
        return ChannelStatus(
            channel_id,
            exists=True,
            name=channel.get("name"),
            is_member=bool(channel.get("is_member")),
            is_private=bool(channel.get("is_private")),
            is_archived=bool(channel.get("is_archived")),
        )

    # --- home and digest: the Home tab, the digest's chart --------------------------------------------

    def publish_home(self, user_id: str, view: dict) -> None:
        self._call("views.publish", user_id=user_id, view=view)

    def upload_file(self, channel: str, *, filename: str, content: bytes, title: str, initial_comment: str | None = None, thread_ts: str | None = None) -> str:
        """Slack's current upload flow (files.getUploadURLExternal → POST the bytes → files.completeUploadExternal); returns the file id."""
        try:
            response = self.client.run(
                lambda client: client.files_upload_v2(
                    channel=channel, filename=filename, content=content, title=title, initial_comment=initial_comment, thread_ts=thread_ts
                )
            )
        except SlackApiError as exc:
            error = (exc.response.get("error") if exc.response is not None else None) or "upload_failed"
            raise SlackCallFailed("files.upload", str(error)) from exc
        except (SlackRequestError, OSError, aiohttp.ClientError) as exc:
            raise SlackCallFailed("files.upload", "connection_error") from exc
        return str((response.get("file") or {}).get("id") or "")


def _team() -> str | None:
    """The workspace being served (OAuth mode), so cached facts never cross workspaces."""
    return current_team.get()

"""The one place that talks to Slack's Web API for the domain, the CLI and (later) the scheduler.

It wraps slack_sdk's WebClient with retries for connection errors and rate limits, and turns
SlackApiError into `SlackCallFailed` carrying Slack's error code, so callers decide in domain terms
(store and tell the agent) instead of catching SDK exceptions everywhere.
"""

from __future__ import annotations

import http.client
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from bot.slack_api.keepalive import KeepAliveWebClient
from bot.slack_api.workspace import current_team

log = logging.getLogger(__name__)

BRIEF_EVENT_TYPE = "escalation_brief"  # message metadata type on every posted brief
NUDGE_EVENT_TYPE = "escalation_nudge"  # message metadata type on every scheduled nudge
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
    burst of nudges into one channel is spread out instead of rate-limited away.

    Process-local: across replicas, the 429 that Slack then answers is retried by slack_sdk's
    RateLimitErrorRetryHandler (honouring Retry-After), and failed sends are retried by the tick.
    Slots are reserved under a lock, so concurrent threads queue rather than all sleeping one second.
    """

    def __init__(self, interval: float = 1.0, *, sleep=time.sleep, monotonic=time.monotonic) -> None:
        self.interval = interval
        self._sleep = sleep
        self._monotonic = monotonic
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, channel: str) -> float:
        """Block until `channel` may take another post; returns the seconds waited."""
        if self.interval <= 0:
            return 0.0
        with self._lock:
            now = self._monotonic()
            slot = max(now, self._next.get(channel, now))
            self._next[channel] = slot + self.interval
            if len(self._next) > 10_000:  # forget channels idle for a while
                self._next = {c: t for c, t in self._next.items() if t > now}
        delay = slot - now
        if delay > 0:
            self._sleep(delay)
        return delay


def make_web_client(token: str, base_url: str, *, timeout: int = 10) -> WebClient:
    """A WebClient that reuses its connection to Slack between calls (see bot.slack_api.keepalive)."""
    return KeepAliveWebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=2), RateLimitErrorRetryHandler(max_retry_count=1)],
    )


class SlackGateway:
    def __init__(self, client: WebClient, *, pacer: ChannelPacer | None = None) -> None:
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
            # The typed WebClient methods send each method's wire format (JSON or form) as Slack expects.
            response = getattr(self.client, method.replace(".", "_"))(**kwargs)
        except SlackApiError as exc:
            status = exc.response.status_code if exc.response is not None else None
            headers = exc.response.headers if exc.response is not None else {}
            retry = headers.get("Retry-After") or headers.get("retry-after") if headers else None
            error = (exc.response.get("error") if exc.response is not None else None) or f"http_{status}"
            raise SlackCallFailed(method, str(error), status=status, retry_after=int(retry) if retry and str(retry).isdigit() else None) from exc
        except (SlackRequestError, OSError, http.client.HTTPException) as exc:  # HTTPException: a reply cut off mid-way
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
        self.pacer.wait(channel)
        data = self._call("chat.postMessage", **args)
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
                    return channel, message["ts"]
            cursor = (data.get("response_metadata") or {}).get("next_cursor")
            if not data.get("has_more") or not cursor:
                return None
        return None

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
            response = self.client.files_upload_v2(
                channel=channel, filename=filename, content=content, title=title, initial_comment=initial_comment, thread_ts=thread_ts
            )
        except SlackApiError as exc:
            error = (exc.response.get("error") if exc.response is not None else None) or "upload_failed"
            raise SlackCallFailed("files.upload", str(error)) from exc
        except (SlackRequestError, OSError, http.client.HTTPException) as exc:
            raise SlackCallFailed("files.upload", "connection_error") from exc
        return str((response.get("file") or {}).get("id") or "")


def _team() -> str | None:
    """The workspace being served (OAuth mode), so cached facts never cross workspaces."""
    return current_team.get()

"""A stand-in Slack Web API served on 127.0.0.1, for tests.

The bot under test builds ``WebClient(base_url=fake.base_url)`` (or
``AsyncWebClient``) and talks to it over real HTTP, so what is exercised is
slack_sdk's actual wire format, retry handlers, error mapping and timeouts.

    with FakeSlack() as slack:
        slack.add_channel("C0SUPPORT", "support")
        client = WebClient(base_url=slack.base_url, token="xoxb-test")
        client.chat_postMessage(channel="C0SUPPORT", text="hi")
        assert slack.last("chat.postMessage").args["text"] == "hi"

Behaviour follows https://docs.slack.dev/reference/methods/ where it matters
to the bot: auth errors, channel membership/archival, ts generation, message
storage for history/replies/update, views with ids/hashes/trigger ids, and
Block Kit limits (see blockkit_limits).  Faults are injected with ``fail()``
or a seeded ``failure_rate``.
"""

from __future__ import annotations

import base64
import collections
import copy
import email.parser
import email.policy
import hashlib
import json
import random
import re
import selectors
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl, urlsplit

try:  # relative import when used as tests.support.fake_slack
    from . import blockkit_limits
except ImportError:  # pragma: no cover - imported as a top-level module
    import blockkit_limits  # type: ignore[no-redef]

__all__ = ["FakeSlack", "Call", "Fault", "Channel", "User", "DEFAULT_SCOPES"]

DEFAULT_SCOPES = (
    "app_mentions:read,channels:history,channels:read,chat:write,chat:write.public,"
    "commands,groups:history,groups:read,im:history,im:read,im:write,reactions:write,users:read"
)

_JSON_ARGS = ("blocks", "attachments", "view", "metadata")
_USER_ID_RE = re.compile(r"^[UW][A-Z0-9]{2,}$")
_DEFAULT_ERROR_FOR_STATUS = {
    429: "ratelimited",
    500: "internal_error",
    502: "service_unavailable",
    503: "service_unavailable",
    504: "request_timeout",
}


# --------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------


@dataclass
class Call:
    """One request received by the fake."""

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    received_at: float  # time.monotonic()
    http_method: str = "POST"
    content_type: str = ""
    query: dict[str, str] = field(default_factory=dict)  # the query-string part of args
    raw_body: bytes = b""
    token: str | None = None
    status: int | None = None  # HTTP status answered (None: not answered / dropped)
    response: dict[str, Any] | None = None  # JSON body answered, if JSON
    fault: "Fault | None" = None
    violations: list[str] = field(default_factory=list)
    dropped: bool = False  # the fake closed the connection without answering (a disconnect or timeout fault)

    def header(self, name: str, default: str | None = None) -> str | None:
        low = name.lower()
        for k, v in self.headers.items():
            if k.lower() == low:
                return v
        return default

    @property
    def ok(self) -> bool | None:
        return None if self.response is None else bool(self.response.get("ok"))


@dataclass
class Fault:
    """A fault to answer one call with. See FakeSlack.fail()."""

    error: str | None = None
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] | None = None
    body: Any = None  # str/bytes sent raw; dict sent as JSON
    disconnect: bool = False  # close the socket without answering
    accept_first: bool = False  # with delay: carry the call out at once, answer after the delay (a timeout after Slack accepted)

    @property
    def answers(self) -> bool:
        """Whether the fault replaces the normal answer (else it only delays it)."""
        return self.disconnect or self.error is not None or self.status != 200 or self.body is not None


@dataclass
class Channel:
    id: str
    name: str
    is_member: bool = True
    is_private: bool = False
    is_archived: bool = False
    is_im: bool = False
    user: str | None = None  # for DMs
    topic: str = ""
    purpose: str = ""
    members: list[str] = field(default_factory=list)  # conversations.members (the bot is not listed)

    def to_api(self) -> dict[str, Any]:
        if self.is_im:
            return {
                "id": self.id,
                "created": 1700000000,
                "is_im": True,
                "is_org_shared": False,
                "user": self.user,
                "is_user_deleted": False,
                "priority": 0,
            }
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "is_archived": self.is_archived,
            "is_general": False,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_member": self.is_member,
            "created": 1700000000,
            "creator": "U0CREATOR",
            "unlinked": 0,
            "topic": {"value": self.topic, "creator": "", "last_set": 0},
            "purpose": {"value": self.purpose, "creator": "", "last_set": 0},
            "previous_names": [],
        }


@dataclass
class User:
    id: str
    name: str
    tz: str = "UTC"
    tz_offset: int = 0
    tz_label: str = "Coordinated Universal Time"
    real_name: str = ""
    display_name: str = ""
    email: str | None = None
    is_bot: bool = False
    deleted: bool = False
    team_id: str = "T0001"

    def to_api(self) -> dict[str, Any]:
        real = self.real_name or self.name
        profile = {
            "real_name": real,
            "real_name_normalized": real,
            "display_name": self.display_name,
            "display_name_normalized": self.display_name,
            "first_name": real.split(" ")[0],
            "last_name": " ".join(real.split(" ")[1:]),
            "title": "",
            "phone": "",
            "status_text": "",
            "status_emoji": "",
            "avatar_hash": "g0000000000",
            "image_48": "https://secure.gravatar.com/avatar/0.jpg?s=48",
            "image_72": "https://secure.gravatar.com/avatar/0.jpg?s=72",
            "team": self.team_id,
        }
        if self.email:
            profile["email"] = self.email
        return {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "deleted": self.deleted,
            "color": "9f69e7",
            "real_name": real,
            "tz": self.tz,
            "tz_label": self.tz_label,
            "tz_offset": self.tz_offset,
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1700000000,
            "is_email_confirmed": True,
            "who_can_share_contact_card": "EVERYONE",
        }


class _ApiError(Exception):
    def __init__(self, error: str, status: int = 200, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.extra = extra


# --------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128  # the default 5 drops SYNs under concurrency (1 s retransmit stalls)
    fake: "FakeSlack"

    def process_request(self, request, client_address):  # type: ignore[override]
        t = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name="FakeSlack-conn",
            daemon=True,
        )
        with self.fake._conn_lock:
            self.fake.connections += 1
            self.fake._conn_threads = [x for x in self.fake._conn_threads if x.is_alive()]
            self.fake._conn_threads.append(t)
            self.fake._conn_socks.add(request)
        t.start()

    def shutdown_request(self, request):  # type: ignore[override]
        with self.fake._conn_lock:
            self.fake._conn_socks.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):  # noqa: D401 - quiet
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeSlack/1.0"
    sys_version = ""
    timeout = 10  # never let a silent client pin a thread forever
    disable_nagle_algorithm = True  # headers and body are two writes: on a kept connection Nagle holds the body for the client's delayed ACK (~40 ms)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_POST(self) -> None:  # noqa: N802
        self.server.fake._handle(self)  # type: ignore[attr-defined]

    do_GET = do_POST  # AsyncWebClient sends GET (query string) for http_verb="GET" methods

    def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        if isinstance(body, (bytes, bytearray)):
            raw, ctype = bytes(body), "text/html; charset=utf-8"
        elif isinstance(body, str):
            raw = body.encode("utf-8")
            ctype = "application/json; charset=utf-8" if body.lstrip()[:1] in "{[" else "text/html; charset=utf-8"
        else:
            raw, ctype = json.dumps(body).encode("utf-8"), "application/json; charset=utf-8"
        if not self.server.fake.keep_alive:  # type: ignore[attr-defined]
            self.close_connection = True  # else as the request asked (HTTP/1.1: kept unless `Connection: close`)
        self.send_response(status)
        hdrs = {"Content-Type": ctype, "Content-Length": str(len(raw))}
        if self.close_connection:
            hdrs["Connection"] = "close"
        hdrs.update(headers or {})
        for k, v in hdrs.items():
            self.send_header(k, str(v))
        self.end_headers()
        self.wfile.write(raw)
        self.wfile.flush()


# --------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------


class FakeSlack:
    """A Slack Web API double on 127.0.0.1:<free port>.

    Args:
        strict: answer Block Kit violations with Slack's error (else only record them).
        public_posting: the bot token has ``chat:write.public`` (may post to public
            channels it is not a member of).
        bot_token / app_token: if given, only that exact token is accepted; else any
            well-formed ``xoxb-``/``xoxp-`` (Web API) or ``xapp-`` (apps.connections.open).
        failure_rate / seed / failure_methods: random faults (see set_failure_rate()).
        strict_users: unknown users get ``user_not_found`` (else a synthesized UTC user).
        enforce_trigger_ids: a trigger_id used twice gets ``exchanged_trigger_id``.
        keep_alive: answer without ``Connection: close`` and serve the next request on the same
            connection (a fault's ``headers={"Connection": "close"}`` still closes it);
            ``connections`` counts the connections accepted.
    """

    def __init__(
        self,
        *,
        strict: bool = True,
        public_posting: bool = True,
        bot_token: str | None = None,
        app_token: str | None = None,
        failure_rate: float = 0.0,
        seed: int = 0,
        failure_methods: Iterable[str] | None = None,
        strict_users: bool = False,
        enforce_trigger_ids: bool = True,
        team_id: str = "T0001",
        team_name: str = "Example",
        team_domain: str = "example",
        bot_user_id: str = "UBOT",
        bot_user_name: str = "escalation-bot",
        bot_id: str = "BBOT",
        app_id: str = "A0001",
        scopes: str = DEFAULT_SCOPES,
        keep_alive: bool = False,
    ) -> None:
        self.strict = strict
        self.public_posting = public_posting
        self.bot_token = bot_token
        self.app_token = app_token
        self.strict_users = strict_users
        self.enforce_trigger_ids = enforce_trigger_ids
        self.team_id = team_id
        self.team_name = team_name
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self.bot_user_name = bot_user_name
        self.bot_id = bot_id
        self.app_id = app_id
        self.scopes = scopes
        self.keep_alive = keep_alive
        self.connections = 0  # accepted TCP connections

        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._calls: list[Call] = []
        self.violations: list[str] = []
        self._faults: dict[str, collections.deque[Fault]] = collections.defaultdict(collections.deque)

        self.failure_rate = 0.0
        self.failure_methods: frozenset[str] | None = None
        self.failure_modes: list[Fault] = []
        self._rng = random.Random(seed)
        self.set_failure_rate(failure_rate, seed=seed, methods=failure_methods)

        self._channels: dict[str, Channel] = {}
        self._users: dict[str, User] = {}
        self._dm_by_user: dict[str, str] = {}
        self._messages: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        self.ephemerals: list[dict[str, Any]] = []
        self._views: dict[str, dict[str, Any]] = {}
        self._view_by_external: dict[str, str] = {}
        self._home_by_user: dict[str, str] = {}
        self.files: dict[str, dict[str, Any]] = {}  # file id → filename, length, title, content (bytes), channel, thread_ts
        self._used_triggers: set[str] = set()
        self._ts_n = 0
        self._id_n = 0

        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._conn_lock = threading.Lock()
        self._conn_threads: list[threading.Thread] = []
        self._conn_socks: set[socket.socket] = set()
        self._handlers: dict[str, Callable[[dict[str, Any], Call], dict[str, Any]]] = {
            "api.test": self._api_test,
            "auth.test": self._auth_test,
            "oauth.v2.access": self._oauth_v2_access,
            "apps.connections.open": self._apps_connections_open,
            "usergroups.users.list": self._usergroups_users_list,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "conversations.open": self._conversations_open,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
            "users.info": self._users_info,
            "reactions.add": self._reactions_add,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
        }

    # ----- lifecycle ------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/api/`` — pass as WebClient(base_url=...)."""
        return f"http://127.0.0.1:{self.port}/api/"

    def start(self) -> "FakeSlack":
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = threading.Thread(target=self._serve, args=(server, self._wake_r), name="FakeSlack", daemon=True)
        self._thread.start()
        return self

    def _serve(self, server: "_Server", wake: socket.socket) -> None:
        # Like serve_forever(), but woken at once by stop() instead of polling.
        with selectors.DefaultSelector() as sel:
            sel.register(server, selectors.EVENT_READ)
            sel.register(wake, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _ in sel.select():
                    if key.fileobj is wake:
                        return
                    server._handle_request_noblock()

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()  # also wakes delayed faults
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        if thread is not None:
            thread.join(timeout=2.0)
        server.server_close()
        with self._conn_lock:
            socks = list(self._conn_socks)
            threads = list(self._conn_threads)
        for s in socks:  # unblock handlers stuck reading from a silent client
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for t in threads:
            t.join(timeout=2.0)
        with self._conn_lock:
            self._conn_threads.clear()
            self._conn_socks.clear()
        self._wake_r.close()
        self._wake_w.close()
        self._server = None
        self._thread = None

    def __enter__(self) -> "FakeSlack":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ----- convenience clients ------------------------------------------------------

    def client(self, token: str = "xoxb-test", **kwargs: Any):
        """A slack_sdk WebClient pointed at this fake."""
        from slack_sdk import WebClient

        return WebClient(base_url=self.base_url, token=token, **kwargs)

    def async_client(self, token: str = "xoxb-test", **kwargs: Any):
        from slack_sdk.web.async_client import AsyncWebClient

        return AsyncWebClient(base_url=self.base_url, token=token, **kwargs)

    # ----- registries -------------------------------------------------------------------

    def add_channel(
        self,
        id: str,  # noqa: A002 - Slack's field name
        name: str,
        is_member: bool = True,
        is_private: bool = False,
        is_archived: bool = False,
        *,
        topic: str = "",
        purpose: str = "",
        members: list[str] | None = None,
    ) -> Channel:
        ch = Channel(id=id, name=name.lstrip("#"), is_member=is_member, is_private=is_private,
                     is_archived=is_archived, topic=topic, purpose=purpose, members=list(members or []))
        with self._lock:
            self._channels[id] = ch
        return ch

    def set_members(self, channel_id: str, user_ids: Iterable[str]) -> None:
        """Who is in a channel, as conversations.members reports it."""
        with self._lock:
            self._channels[channel_id].members = list(user_ids)

    def channel(self, id: str) -> Channel | None:  # noqa: A002
        with self._lock:
            return self._channels.get(id)

    def add_user(
        self,
        id: str,  # noqa: A002
        name: str,
        tz: str = "UTC",
        tz_offset: int | None = None,
        *,
        tz_label: str | None = None,
        real_name: str | None = None,
        display_name: str | None = None,
        email: str | None = None,
        is_bot: bool = False,
        deleted: bool = False,
    ) -> User:
        """Register a user. tz_offset (seconds east of UTC) defaults to the zone's current offset."""
        if tz_offset is None:
            tz_offset = _zone_offset(tz)
        if tz_label is None:
            tz_label = "Coordinated Universal Time" if tz in ("UTC", "Etc/UTC") else tz
        u = User(id=id, name=name, tz=tz, tz_offset=tz_offset, tz_label=tz_label,
                 real_name=real_name or name, display_name=display_name if display_name is not None else name,
                 email=email, is_bot=is_bot, deleted=deleted, team_id=self.team_id)
        with self._lock:
            self._users[id] = u
        return u

    def seed_message(
        self,
        channel: str,
        text: str,
        *,
        user: str = "U999",
        ts: str | None = None,
        thread_ts: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Store a message as if a person had posted it (e.g. for a message shortcut)."""
        with self._lock:
            msg = {
                "type": "message",
                "user": user,
                "text": text,
                "ts": ts or self._next_ts(),
                "team": self.team_id,
                "blocks": [_rich_text_block(text)],
            }
            if thread_ts:
                msg["thread_ts"] = thread_ts
            msg.update(extra)
            self._store_message(channel, msg)
            return copy.deepcopy(msg)

    # ----- state inspection -------------------------------------------------------------

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Stored messages (oldest first), of one channel or of all."""
        with self._lock:
            if channel is not None:
                return copy.deepcopy(self._messages.get(channel, []))
            return copy.deepcopy([m for msgs in self._messages.values() for m in msgs])

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        with self._lock:
            m = self._find_message(channel, ts)
            return copy.deepcopy(m) if m else None

    def view(self, view_id: str) -> dict[str, Any] | None:
        with self._lock:
            v = self._views.get(view_id)
            return copy.deepcopy(v) if v else None

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        with self._lock:
            vid = self._home_by_user.get(user_id)
            return copy.deepcopy(self._views[vid]) if vid else None

    def dm_channel(self, user_id: str) -> str:
        """The DM channel id between the bot and a user (opened on demand)."""
        with self._lock:
            return self._open_dm(user_id)

    # ----- recorded calls ----------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def last(self, method: str) -> Call:
        with self._lock:
            for c in reversed(self._calls):
                if c.method == method:
                    return c
            seen = [c.method for c in self._calls]
        raise AssertionError(f"no call to {method}; methods seen: {seen}")

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0, *, answered: bool = True) -> list[Call]:
        """Wait until ``count`` calls of ``method`` were received (and, by default, answered or dropped)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [c for c in self._calls if c.method == method]
                if len(got) >= count and (not answered or all(c.status is not None or c.dropped for c in got[:count])):
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [c.method for c in self._calls]
                    raise AssertionError(
                        f"expected {count} call(s) to {method} within {timeout}s, got {len(got)}; "
                        f"methods seen: {seen}"
                    )
                self._cond.wait(min(left, 0.05))

    def reset(self) -> None:
        """Forget calls, violations and queued faults (registries and messages stay)."""
        with self._lock:
            self._calls.clear()
            self.violations.clear()
            self._faults.clear()

    def assert_no_violations(self) -> None:
        with self._lock:
            v = list(self.violations)
        if v:
            raise AssertionError("Block Kit violations:\n  " + "\n  ".join(v))

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
        """
        if error is None and body is None and not disconnect:
            if status != 200:
                error = _DEFAULT_ERROR_FOR_STATUS.get(status, "internal_error" if status >= 500 else "invalid_request")
            elif delay <= 0 or accept_first:
                error = None if accept_first else "internal_error"
        hdrs = dict(headers or {})
        if status == 429 and not any(k.lower() == "retry-after" for k in hdrs):
            hdrs["Retry-After"] = "1"
        f = Fault(error=error, status=status, delay=delay, headers=hdrs, body=body, disconnect=disconnect, accept_first=accept_first)
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
            self.failure_modes = list(modes) if modes is not None else [
                Fault(error="ratelimited", status=429, headers={"Retry-After": "1"}),
                Fault(error="internal_error", status=500),
                Fault(error="service_unavailable", status=503),
            ]

    def _take_fault(self, method: str) -> Fault | None:
        with self._lock:
            for key in (method, "*"):
                q = self._faults.get(key)
                if q:
                    return q.popleft()
            if self.failure_rate > 0:
                eligible = (
                    method in self.failure_methods if self.failure_methods is not None else method != "auth.test"
                )
                if eligible and self._rng.random() < self.failure_rate:
                    return copy.copy(self._rng.choice(self.failure_modes))
        return None

    # ----- request handling ---------------------------------------------------------------

    def _handle(self, h: _Handler) -> None:
        try:
            self._handle_inner(h)
        except (BrokenPipeError, ConnectionResetError, socket.timeout, OSError):
            h.close_connection = True

    def _handle_inner(self, h: _Handler) -> None:
        parts = urlsplit(h.path)
        if parts.path.startswith("/hooks/"):
            self._handle_response_url(h, parts.path)
            return
        if parts.path.startswith("/upload/v1/"):
            self._handle_upload(h, parts.path[len("/upload/v1/"):])
            return
        if not parts.path.startswith("/api/"):
            h.send_json(404, {"ok": False, "error": "not_found"})
            return
        method = parts.path[len("/api/"):].strip("/")
        raw = _read_body(h)
        ctype = h.headers.get("Content-Type", "") or ""
        args: dict[str, Any] = dict(parse_qsl(parts.query, keep_blank_values=True))
        body_error = None
        try:
            args.update(_parse_body(raw, ctype))
        except ValueError as e:
            body_error = str(e)
        for k in _JSON_ARGS:
            if isinstance(args.get(k), str):
                try:
                    args[k] = json.loads(args[k])
                except ValueError:
                    pass  # left as a string; Slack answers invalid_*_format below
        token = _bearer(h.headers.get("Authorization")) or args.pop("token", None)
        if isinstance(args.get("token"), str):
            args.pop("token")
        call = Call(
            method=method,
            args=args,
            headers={k: v for k, v in h.headers.items()},
            received_at=time.monotonic(),
            http_method=h.command,
            content_type=ctype,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            raw_body=raw,
            token=token,
        )
        fault = self._take_fault(method)
        call.fault = fault
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()

        if fault is not None and fault.delay > 0 and not fault.accept_first:
            if self._stopping.wait(fault.delay):
                self._mark_dropped(call)
                h.close_connection = True
                return
        if fault is not None and fault.disconnect:
            self._mark_dropped(call)
            h.close_connection = True
            try:
                h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if fault is not None and fault.answers:
            body = fault.body if fault.body is not None else {"ok": False, "error": fault.error}
            hdrs = self._std_headers()
            hdrs.update(fault.headers or {})
            self._answer(h, call, fault.status, body, hdrs)
            return

        if body_error is not None:
            self._answer(h, call, 200, {"ok": False, "error": "invalid_json", "detail": body_error})
            return
        auth_error = self._check_auth(method, token)
        if auth_error:
            self._answer(h, call, 200, {"ok": False, "error": auth_error})
            return

        # Block Kit enforcement
        for k in ("blocks", "view"):
            if isinstance(args.get(k), str):
                err = "invalid_blocks_format" if k == "blocks" else "invalid_arguments"
                self._answer(h, call, 200, {"ok": False, "error": err,
                                            "response_metadata": {"messages": [f"[ERROR] {k} is not valid JSON"]}})
                return
        if "blocks" in args or "view" in args or method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            problems = blockkit_limits.check_call(method, args)
            if problems:
                call.violations = problems
                with self._lock:
                    self.violations.extend(f"{method}: {p}" for p in problems)
                if self.strict:
                    err = "invalid_arguments" if method.startswith("views.") else "invalid_blocks"
                    self._answer(h, call, 200, {
                        "ok": False,
                        "error": err,
                        "errors": problems,
                        "response_metadata": {"messages": [f"[ERROR] {p}" for p in problems]},
                    })
                    return

        handler = self._handlers.get(method)
        try:
            with self._lock:
                body = handler(args, call) if handler else {"ok": True}
        except _ApiError as e:
            body = {"ok": False, "error": e.error, **e.extra}
            self._answer(h, call, e.status, body)
            return
        if fault is not None and fault.accept_first and fault.delay > 0:
            self._stopping.wait(fault.delay)  # done, but answered after the client has given up
        self._answer(h, call, 200, body)

    def _std_headers(self) -> dict[str, str]:
        return {
            "x-slack-req-id": hashlib.sha1(str(time.monotonic_ns()).encode()).hexdigest()[:32],
            "x-oauth-scopes": self.scopes if self.public_posting else self.scopes.replace(",chat:write.public", ""),
            "x-accepted-oauth-scopes": "",
            "access-control-allow-origin": "*",
        }

    @property
    def hooks_url(self) -> str:
        """Base for response_url values: what the bot posts there is recorded as method "response_url"."""
        return f"http://127.0.0.1:{self.port}/hooks/"

    def _handle_response_url(self, h: _Handler, path: str) -> None:
        raw = _read_body(h)
        try:
            args = json.loads(raw or b"{}")
        except ValueError:
            args = {"raw": raw.decode("utf-8", "replace")}
        call = Call(method="response_url", args=args if isinstance(args, dict) else {"body": args}, headers=dict(h.headers.items()),
                    received_at=time.monotonic(), http_method=h.command, content_type=h.headers.get("Content-Type", ""), raw_body=raw)
        call.violations = blockkit_limits.check_message(call.args) if isinstance(call.args.get("blocks"), list) else []
        with self._cond:
            self._calls.append(call)
            self.violations.extend(f"response_url: {v}" for v in call.violations)
            call.status, call.response = 200, {"ok": True}
            self._cond.notify_all()
        h.send_json(200, "ok")

    def _handle_upload(self, h: _Handler, file_id: str) -> None:
        """The upload_url handed out by files.getUploadURLExternal: the file's bytes arrive here (method "upload")."""
        raw = _read_body(h)
        call = Call(method="upload", args={"file_id": file_id, "length": len(raw)}, headers=dict(h.headers.items()),
                    received_at=time.monotonic(), http_method=h.command, content_type=h.headers.get("Content-Type", ""), raw_body=raw)
        with self._cond:
            self._calls.append(call)
            entry = self.files.get(file_id)
            if entry is None or h.command != "POST":
                status, body = 404, "file not found"
            elif len(raw) != entry["length"]:
                status, body = 400, f"expected {entry['length']} bytes, got {len(raw)}"
            else:
                entry["content"] = raw
                status, body = 200, f"OK - {len(raw)}"
            call.status = status
            self._cond.notify_all()
        h.send_json(status, body.encode())

    def _mark_dropped(self, call: Call) -> None:
        with self._cond:
            call.dropped = True
            self._cond.notify_all()

    def _answer(self, h: _Handler, call: Call, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        with self._cond:
            self._cond.notify_all()
            call.status = status
            if isinstance(body, dict):
                call.response = copy.deepcopy(body)
            elif isinstance(body, (str, bytes)):
                try:
                    parsed = json.loads(body)
                    call.response = parsed if isinstance(parsed, dict) else None
                except ValueError:
                    call.response = None
        h.send_json(status, body, headers if headers is not None else self._std_headers())

    def _check_auth(self, method: str, token: str | None) -> str | None:
        if method == "oauth.v2.access":
            return None  # the app authenticates with its client id and secret (checked by the handler)
        if not token:
            return "not_authed"
        if method == "apps.connections.open":
            if token.startswith(("xoxb-", "xoxp-")):
                return "not_allowed_token_type"
            if not token.startswith("xapp-") or (self.app_token is not None and token != self.app_token):
                return "invalid_auth"
            return None
        if token.startswith("xapp-"):
            return "not_allowed_token_type"
        if not token.startswith(("xoxb-", "xoxp-")) or len(token) < 6:
            return "invalid_auth"
        if self.bot_token is not None and token != self.bot_token:
            return "invalid_auth"
        return None

    # ----- helpers (call with self._lock held) ----------------------------------------

    def _next_ts(self) -> str:
        self._ts_n += 1
        n = self._ts_n * 100
        return f"{1700000000 + n // 1_000_000}.{n % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        self._id_n += 1
        return f"{prefix}{self._id_n:08X}"

    def _open_dm(self, user_id: str) -> str:
        dm = self._dm_by_user.get(user_id)
        if dm is None:
            dm = "D" + hashlib.sha1(user_id.encode()).hexdigest()[:8].upper()
            self._dm_by_user[user_id] = dm
            self._channels[dm] = Channel(id=dm, name=dm, is_im=True, user=user_id)
        return dm

    def _resolve_channel(self, channel: Any, *, for_posting: bool = False, for_reading: bool = False) -> str:
        if not channel or not isinstance(channel, str):
            raise _ApiError("channel_not_found")
        if _USER_ID_RE.match(channel):
            return self._open_dm(channel)
        ch = self._channels.get(channel)
        if ch is None and channel.startswith("#"):
            ch = next((c for c in self._channels.values() if c.name == channel[1:]), None)
        if ch is None and channel.startswith("D"):
            ch = Channel(id=channel, name=channel, is_im=True)
            self._channels[channel] = ch
        if ch is None:
            ch = next((c for c in self._channels.values() if c.name == channel and not c.is_im), None)
        if ch is None:
            raise _ApiError("channel_not_found")
        if ch.is_im:
            return ch.id
        if ch.is_private and not ch.is_member:
            raise _ApiError("channel_not_found")  # private channels are invisible to non-members
        if for_posting:
            if ch.is_archived:
                raise _ApiError("is_archived")
            if not ch.is_member and not (self.public_posting and not ch.is_private):
                raise _ApiError("not_in_channel")
        if for_reading and not ch.is_member:
            raise _ApiError("not_in_channel")
        return ch.id

    def _find_message(self, channel: str, ts: Any) -> dict[str, Any] | None:
        for m in self._messages.get(channel, []):
            if m.get("ts") == ts:
                return m
        return None

    def _store_message(self, channel: str, msg: dict[str, Any]) -> None:
        msgs = self._messages[channel]
        msgs.append(msg)
        msgs.sort(key=lambda m: _ts_key(m.get("ts")))
        tts = msg.get("thread_ts")
        if tts and tts != msg.get("ts"):
            parent = self._find_message(channel, tts)
            if parent is not None:
                parent["thread_ts"] = tts
                parent["reply_count"] = parent.get("reply_count", 0) + 1
                users = parent.setdefault("reply_users", [])
                who = msg.get("user") or msg.get("bot_id")
                if who and who not in users:
                    users.append(who)
                parent["reply_users_count"] = len(users)
                parent["latest_reply"] = msg["ts"]

    def _bot_message(self, args: dict[str, Any], ts: str) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "text": args.get("text") or "",
            "ts": ts,
            "team": self.team_id,
            "bot_profile": {
                "id": self.bot_id,
                "app_id": self.app_id,
                "name": self.bot_user_name,
                "deleted": False,
                "team_id": self.team_id,
            },
        }
        for k in ("blocks", "attachments", "metadata", "username", "icon_emoji", "icon_url"):
            if args.get(k) is not None:
                msg[k] = copy.deepcopy(args[k])
        if args.get("thread_ts"):
            msg["thread_ts"] = str(args["thread_ts"])
            if _truthy(args.get("reply_broadcast")):
                msg["subtype"] = "thread_broadcast"
        return msg

    # ----- method implementations ------------------------------------------------------

    def _api_test(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        return {"ok": True, "args": args}

    def _auth_test(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": self.bot_user_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _usergroups_users_list(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        # Tests set `usergroups = {"S…": ["U…", …]}`; an unknown group is Slack's no_such_subteam.
        groups = getattr(self, "usergroups", {})
        if args.get("usergroup") not in groups:
            raise _ApiError("no_such_subteam")
        return {"ok": True, "users": list(groups[args["usergroup"]])}

    def add_oauth_grant(self, code: str, *, team_id: str, bot_token: str, team_name: str = "Second", user_id: str = "U0ADMIN",
                        client_id: str = "111.222", client_secret: str = "oauth-client-secret", scope: str = DEFAULT_SCOPES) -> None:
        """What oauth.v2.access answers for `code` (the code Slack puts in the redirect after consent)."""
        grants = self.__dict__.setdefault("oauth_grants", {})
        grants[code] = {"team_id": team_id, "bot_token": bot_token, "team_name": team_name, "user_id": user_id,
                        "client_id": client_id, "client_secret": client_secret, "scope": scope}

    def _oauth_v2_access(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        # The client may authenticate with HTTP Basic (slack_sdk's default) or form fields.
        client_id, client_secret = args.get("client_id"), args.get("client_secret")
        basic = call.header("Authorization") or ""
        if basic.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(basic[6:]).decode().partition(":")
        grant = getattr(self, "oauth_grants", {}).get(args.get("code"))
        if grant is None:
            raise _ApiError("invalid_code")
        if (client_id, client_secret) != (grant["client_id"], grant["client_secret"]):
            raise _ApiError("invalid_client_id" if client_id != grant["client_id"] else "bad_client_secret")
        return {
            "ok": True, "app_id": self.app_id, "authed_user": {"id": grant["user_id"]}, "scope": grant["scope"], "token_type": "bot",
            "access_token": grant["bot_token"], "bot_user_id": self.bot_user_id,
            "team": {"id": grant["team_id"], "name": grant["team_name"]}, "enterprise": None, "is_enterprise_install": False,
        }

    def _apps_connections_open(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        # Tests running a Socket Mode server of their own set `socket_mode_url` to its ws:// address.
        base = getattr(self, "socket_mode_url", None) or "wss://127.0.0.1:1/link/"
        return {"ok": True, "url": f"{base}?ticket={self._next_id('t')}&app_id={self.app_id}"}

    def _chat_post_message(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        ch = self._resolve_channel(args.get("channel"), for_posting=True)
        if not args.get("text") and not args.get("blocks") and not args.get("attachments"):
            raise _ApiError("no_text")
        ts = self._next_ts()
        msg = self._bot_message(args, ts)
        self._store_message(ch, msg)
        return {"ok": True, "channel": ch, "ts": ts, "message": copy.deepcopy(msg)}

    def _chat_update(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        ch = self._resolve_channel(args.get("channel"))
        msg = self._find_message(ch, args.get("ts"))
        if msg is None:
            raise _ApiError("message_not_found")
        if msg.get("bot_id") != self.bot_id:
            raise _ApiError("cant_update_message")
        for k in ("text", "blocks", "attachments", "metadata"):
            if k in args:
                msg[k] = copy.deepcopy(args[k])
        msg["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        return {"ok": True, "channel": ch, "ts": msg["ts"], "text": msg.get("text", ""), "message": copy.deepcopy(msg)}

    def _chat_delete(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        ch = self._resolve_channel(args.get("channel"))
        msg = self._find_message(ch, args.get("ts"))
        if msg is None:
            raise _ApiError("message_not_found")
        self._messages[ch].remove(msg)
        return {"ok": True, "channel": ch, "ts": msg["ts"]}

    def _chat_post_ephemeral(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        ch = self._resolve_channel(args.get("channel"), for_posting=True)
        if not args.get("user"):
            raise _ApiError("user_not_found")
        if not args.get("text") and not args.get("blocks") and not args.get("attachments"):
            raise _ApiError("no_text")
        ts = self._next_ts()
        msg = self._bot_message(args, ts)
        self.ephemerals.append({"channel": ch, "user": args["user"], "message": msg})
        return {"ok": True, "message_ts": ts}

    def _chat_get_permalink(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        ch = self._resolve_channel(args.get("channel"))
        ts = args.get("message_ts")
        if not ts:
            raise _ApiError("message_not_found")
        link = f"https://{self.team_domain}.slack.com/archives/{ch}/p{str(ts).replace('.', '')}"
        msg = self._find_message(ch, ts)
        if msg is not None and msg.get("thread_ts") and msg["thread_ts"] != ts:
            link += f"?thread_ts={msg['thread_ts']}&cid={ch}"
        return {"ok": True, "channel": ch, "permalink": link}

    def _conversations_info(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        cid = args.get("channel")
        ch = self._channels.get(cid) if isinstance(cid, str) else None
        if ch is None or (ch.is_private and not ch.is_member):
            raise _ApiError("channel_not_found")
        return {"ok": True, "channel": ch.to_api()}

    def _conversations_members(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        # Slack pages with an opaque cursor (limit defaults to 100, at most 1000); an empty
        # next_cursor means the last page. Private channels the bot is not in are channel_not_found.
        cid = args.get("channel")
        ch = self._channels.get(cid) if isinstance(cid, str) else None
        if ch is None or (ch.is_private and not ch.is_member):
            raise _ApiError("channel_not_found")
        limit = min(int(args.get("limit") or 100), 1000)
        cursor = str(args.get("cursor") or "")
        try:
            start = int(base64.b64decode(cursor.encode()).decode().removeprefix("offset:")) if cursor else 0
        except ValueError:
            raise _ApiError("invalid_cursor") from None
        page = ch.members[start:start + limit]
        more = start + limit < len(ch.members)
        next_cursor = base64.b64encode(f"offset:{start + limit}".encode()).decode() if more else ""
        return {"ok": True, "members": list(page), "response_metadata": {"next_cursor": next_cursor}}

    def _conversations_open(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        if args.get("channel"):
            cid = self._resolve_channel(args["channel"])
            return {"ok": True, "channel": {"id": cid}}
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if not users:
            raise _ApiError("users_list_not_supplied")
        if len(users) == 1:
            dm = self._open_dm(users[0])
            return {"ok": True, "no_op": False, "already_open": False, "channel": {"id": dm}}
        key = ",".join(sorted(users))
        mp = self._dm_by_user.get(key)
        if mp is None:
            mp = "G" + hashlib.sha1(key.encode()).hexdigest()[:8].upper()
            self._dm_by_user[key] = mp
            self._channels[mp] = Channel(id=mp, name=f"mpdm-{key}", is_im=True)
        return {"ok": True, "channel": {"id": mp}}

    def _conversations_history(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        ch = self._resolve_channel(args.get("channel"), for_reading=True)
        inclusive = _truthy(args.get("inclusive"))
        oldest = _ts_key(args.get("oldest") or "0")
        latest = _ts_key(args["latest"]) if args.get("latest") else float("inf")
        limit = int(args.get("limit") or 100)
        out = []
        for m in reversed(self._messages.get(ch, [])):
            is_reply = m.get("thread_ts") and m.get("thread_ts") != m.get("ts") and m.get("subtype") != "thread_broadcast"
            if is_reply:
                continue
            k = _ts_key(m["ts"])
            if inclusive:
                if not oldest <= k <= latest:
                    continue
            elif not oldest < k < latest:
                continue
            out.append(_as_read(m, args))
        has_more = len(out) > limit
        return {"ok": True, "messages": out[:limit], "has_more": has_more, "pin_count": 0,
                "response_metadata": {"next_cursor": ""}}

    def _conversations_replies(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        ch = self._resolve_channel(args.get("channel"), for_reading=True)
        ts = args.get("ts")
        parent = self._find_message(ch, ts)
        if parent is None:
            raise _ApiError("thread_not_found")
        thread = [_as_read(m, args) for m in self._messages.get(ch, [])
                  if m.get("ts") == ts or m.get("thread_ts") == ts]
        limit = int(args.get("limit") or 1000)
        return {"ok": True, "messages": thread[:limit], "has_more": len(thread) > limit,
                "response_metadata": {"next_cursor": ""}}

    def _files_get_upload_url_external(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        filename = args.get("filename")
        try:
            length = int(args.get("length") or 0)
        except (TypeError, ValueError):
            length = 0
        if not filename:
            raise _ApiError("invalid_arguments", response_metadata={"messages": ["[ERROR] missing required field: filename"]})
        if length <= 0:
            raise _ApiError("invalid_arguments", response_metadata={"messages": ["[ERROR] missing required field: length"]})
        file_id = self._next_id("F")
        self.files[file_id] = {"id": file_id, "filename": filename, "length": length, "content": None, "title": None, "channel": None, "thread_ts": None}
        return {"ok": True, "upload_url": f"http://127.0.0.1:{self.port}/upload/v1/{file_id}", "file_id": file_id}

    def _files_complete_upload_external(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        files = args.get("files")
        if isinstance(files, str):
            try:
                files = json.loads(files)
            except ValueError:
                raise _ApiError("invalid_arguments") from None
        if not isinstance(files, list) or not files:
            raise _ApiError("invalid_arguments", response_metadata={"messages": ["[ERROR] missing required field: files"]})
        channel = self._resolve_channel(args["channel_id"], for_posting=True) if args.get("channel_id") else None
        done = []
        for item in files:
            entry = self.files.get(str((item or {}).get("id")))
            if entry is None:
                raise _ApiError("file_not_found")
            if entry["content"] is None:
                raise _ApiError("file_upload_not_completed")  # the bytes never reached upload_url
            entry.update(title=item.get("title") or entry["filename"], channel=channel, thread_ts=args.get("thread_ts"),
                         initial_comment=args.get("initial_comment"))
            done.append({"id": entry["id"], "name": entry["filename"], "title": entry["title"], "size": entry["length"]})
        if channel is not None:
            msg = self._bot_message({"text": args.get("initial_comment") or "", "thread_ts": args.get("thread_ts")}, self._next_ts())
            msg["files"] = copy.deepcopy(done)
            msg["upload"] = True
            self._store_message(channel, msg)
        return {"ok": True, "files": done}

    def _users_info(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        uid = args.get("user")
        if not uid:
            raise _ApiError("user_not_found")
        u = self._users.get(uid)
        if u is None:
            if uid == self.bot_user_id:
                u = User(id=uid, name=self.bot_user_name, is_bot=True, team_id=self.team_id)
            elif self.strict_users:
                raise _ApiError("user_not_found")
            else:
                u = User(id=uid, name=uid.lower(), real_name=f"User {uid}", display_name=uid.lower(),
                         team_id=self.team_id)
        return {"ok": True, "user": u.to_api()}

    def _reactions_add(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        ch = self._resolve_channel(args.get("channel"))
        name = args.get("name")
        if not name:
            raise _ApiError("invalid_name")
        msg = self._find_message(ch, args.get("timestamp"))
        if msg is not None:
            reactions = msg.setdefault("reactions", [])
            r = next((r for r in reactions if r["name"] == name), None)
            if r is None:
                reactions.append({"name": name, "users": [self.bot_user_id], "count": 1})
            elif self.bot_user_id in r["users"]:
                raise _ApiError("already_reacted")
            else:
                r["users"].append(self.bot_user_id)
                r["count"] += 1
        return {"ok": True}

    # views

    def _use_trigger(self, args: dict[str, Any]) -> None:
        trig = args.get("trigger_id") or args.get("interactivity_pointer")
        if not trig:
            raise _ApiError("invalid_arguments",
                            response_metadata={"messages": ["[ERROR] missing required field: trigger_id"]})
        if self.enforce_trigger_ids:
            if trig in self._used_triggers:
                raise _ApiError("exchanged_trigger_id")
            self._used_triggers.add(trig)

    def _new_view(self, view: dict[str, Any], *, view_id: str | None = None,
                  root: str | None = None, previous: str | None = None) -> dict[str, Any]:
        vid = view_id or self._next_id("V")
        self._id_n += 1
        v = {
            "id": vid,
            "team_id": self.team_id,
            "type": view.get("type"),
            "blocks": copy.deepcopy(view.get("blocks", [])),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{1700000000 + self._id_n}.{hashlib.sha1(str(self._id_n).encode()).hexdigest()[:8]}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "previous_view_id": previous,
            "root_view_id": root or vid,
            "app_id": self.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        for k in ("title", "close", "submit"):
            if view.get(k) is not None:
                v[k] = copy.deepcopy(view[k])
            elif v["type"] == "modal":
                v[k] = None
        if v["external_id"]:
            other = self._view_by_external.get(v["external_id"])
            if other and other != vid:
                raise _ApiError("duplicate_external_id")
            self._view_by_external[v["external_id"]] = vid
        self._views[vid] = v
        return v

    def _views_open(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        self._use_trigger(args)
        return {"ok": True, "view": copy.deepcopy(self._new_view(args["view"]))}

    def _views_push(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        self._use_trigger(args)
        return {"ok": True, "view": copy.deepcopy(self._new_view(args["view"]))}

    def _views_update(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        vid = args.get("view_id")
        if not vid and args.get("external_id"):
            vid = self._view_by_external.get(args["external_id"])
        if not vid or vid not in self._views:
            raise _ApiError("not_found")
        old = self._views[vid]
        if args.get("hash") and args["hash"] != old["hash"]:
            raise _ApiError("hash_conflict")
        new = dict(args["view"])
        new.setdefault("external_id", old.get("external_id", ""))
        v = self._new_view(new, view_id=vid, root=old["root_view_id"], previous=old.get("previous_view_id"))
        return {"ok": True, "view": copy.deepcopy(v)}

    def _views_publish(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        uid = args.get("user_id")
        if not uid:
            raise _ApiError("invalid_arguments",
                            response_metadata={"messages": ["[ERROR] missing required field: user_id"]})
        old_id = self._home_by_user.get(uid)
        if old_id and args.get("hash") and args["hash"] != self._views[old_id]["hash"]:
            raise _ApiError("hash_conflict")
        v = self._new_view(args["view"], view_id=old_id)
        self._home_by_user[uid] = v["id"]
        return {"ok": True, "view": copy.deepcopy(v)}


# --------------------------------------------------------------------------
# Parsing helpers
# --------------------------------------------------------------------------


def _read_body(h: BaseHTTPRequestHandler) -> bytes:
    if "chunked" in (h.headers.get("Transfer-Encoding") or "").lower():
        chunks = []
        while True:
            line = h.rfile.readline()
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                h.rfile.readline()
                break
            chunks.append(h.rfile.read(size))
            h.rfile.readline()
        return b"".join(chunks)
    n = int(h.headers.get("Content-Length") or 0)
    return h.rfile.read(n) if n > 0 else b""


def _parse_body(raw: bytes, ctype: str) -> dict[str, Any]:
    if not raw:
        return {}
    base = ctype.split(";")[0].strip().lower()
    if base == "application/json":
        try:
            data = json.loads(raw.decode("utf-8"))
        except ValueError as e:
            raise ValueError(f"body is not JSON: {e}") from None
        if not isinstance(data, dict):
            raise ValueError("JSON body is not an object")
        return data
    if base == "multipart/form-data":
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + ctype.encode("latin-1") + b"\r\n\r\n" + raw
        )
        out: dict[str, Any] = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not name:
                continue
            payload = part.get_payload(decode=True) or b""
            out[name] = payload if part.get_filename() else payload.decode("utf-8", "replace")
        return out
    # x-www-form-urlencoded (slack_sdk's default) or unspecified
    return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))


def _bearer(value: str | None) -> str | None:
    if not value:
        return None
    parts = value.split(None, 1)
    if len(parts) == 2 and parts[0].lower() == "bearer":
        return parts[1].strip()
    return None


def _as_read(message: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """A stored message as history/replies return it: metadata only with include_all_metadata."""
    m = copy.deepcopy(message)
    if not _truthy(args.get("include_all_metadata")):
        m.pop("metadata", None)
    return m


def _truthy(v: Any) -> bool:
    return v is True or (isinstance(v, str) and v.lower() in ("1", "true")) or v == 1


def _ts_key(ts: Any) -> float:
    try:
        return float(ts)
    except (TypeError, ValueError):
        return 0.0


def _zone_offset(tz: str) -> int:
    try:
        from datetime import datetime
        from zoneinfo import ZoneInfo

        off = datetime.now(ZoneInfo(tz)).utcoffset()
        return int(off.total_seconds()) if off is not None else 0
    except Exception:  # unknown zone / no tzdata
        return 0


def _rich_text_block(text: str) -> dict[str, Any]:
    return {
        "type": "rich_text",
        "block_id": hashlib.sha1(text.encode()).hexdigest()[:5],
        "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
    }


try:  # a ready-made fixture: `from tests.support.fake_slack import fake_slack`
    import pytest

    @pytest.fixture
    def fake_slack():
        with FakeSlack() as fake:
            yield fake

except ImportError:  # pragma: no cover
    pass

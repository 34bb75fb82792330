"""FakeSlackCore: the shared state, call recording and the dispatcher that routes each request
through faults, auth and Block Kit checks to a handler. The handlers themselves are the API-family
mixins' methods; FakeSlack (in __init__.py) combines them with this class."""

from __future__ import annotations

import collections
import copy
import hashlib
import json
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

try:  # relative import when used as tests.support.fake_slack
    from .. import blockkit_limits
except ImportError:  # pragma: no cover - imported as a top-level module
    import blockkit_limits  # type: ignore[no-redef]

from .faults import FaultInjection
from .records import DEFAULT_SCOPES, Call, Channel, Fault, User, _ApiError
from .server import ServerLifecycle, _bearer, _Handler, _parse_body, _read_body, _Server
from .state import SlackState

_JSON_ARGS = ("blocks", "attachments", "view", "metadata")


class FakeSlackCore(ServerLifecycle, FaultInjection, SlackState):
    """Everything of FakeSlack but the API methods' handlers (see FakeSlack for the arguments)."""

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
        # the API-family mixins' methods (chat.py, views.py, ...), found on FakeSlack
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
                    raise AssertionError(f"expected {count} call(s) to {method} within {timeout}s, got {len(got)}; methods seen: {seen}")
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

    # ----- request handling ---------------------------------------------------------------

    def _handle(self, h: _Handler) -> None:
        try:
            self._handle_inner(h)
        except (TimeoutError, BrokenPipeError, ConnectionResetError, OSError):
            h.close_connection = True

    def _handle_inner(self, h: _Handler) -> None:
        parts = urlsplit(h.path)
        if parts.path.startswith("/hooks/"):
            self._handle_response_url(h, parts.path)
            return
        if parts.path.startswith("/upload/v1/"):
            self._handle_upload(h, parts.path[len("/upload/v1/") :])
            return
        if not parts.path.startswith("/api/"):
            h.send_json(404, {"ok": False, "error": "not_found"})
            return
        method = parts.path[len("/api/") :].strip("/")
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
        fault = self._take_fault(method, args)
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
                self._answer(h, call, 200, {"ok": False, "error": err, "response_metadata": {"messages": [f"[ERROR] {k} is not valid JSON"]}})
                return
        if "blocks" in args or "view" in args or method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            problems = blockkit_limits.check_call(method, args)
            if problems:
                call.violations = problems
                with self._lock:
                    self.violations.extend(f"{method}: {p}" for p in problems)
                if self.strict:
                    err = "invalid_arguments" if method.startswith("views.") else "invalid_blocks"
                    self._answer(
                        h,
                        call,
                        200,
                        {
                            "ok": False,
                            "error": err,
                            "errors": problems,
                            "response_metadata": {"messages": [f"[ERROR] {p}" for p in problems]},
                        },
                    )
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
        call = Call(
            method="response_url",
            args=args if isinstance(args, dict) else {"body": args},
            headers=dict(h.headers.items()),
            received_at=time.monotonic(),
            http_method=h.command,
            content_type=h.headers.get("Content-Type", ""),
            raw_body=raw,
            path=path,
        )
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
        call = Call(
            method="upload",
            args={"file_id": file_id, "length": len(raw)},
            headers=dict(h.headers.items()),
            received_at=time.monotonic(),
            http_method=h.command,
            content_type=h.headers.get("Content-Type", ""),
            raw_body=raw,
        )
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
        if token in getattr(self, "revoked_tokens", ()):  # revoke_token(): the app uninstalled, or the token revoked
            return "token_revoked"
        if not token.startswith(("xoxb-", "xoxp-")) or len(token) < 6:
            return "invalid_auth"
        if self.bot_token is not None and token != self.bot_token:
            return "invalid_auth"
        return None

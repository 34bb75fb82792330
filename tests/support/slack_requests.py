"""Requests to the bot, built and signed exactly as Slack sends them.

Payload shapes follow Slack's interaction-payload / Events API docs and
bolt-python's tests/scenario_tests:

- slash commands: ``application/x-www-form-urlencoded`` key=value pairs;
- interactivity (block_actions, view_submission, shortcuts):
  ``application/x-www-form-urlencoded`` with one field ``payload=<JSON>``;
- Events API: ``application/json`` ``event_callback`` envelope.

Signing (https://docs.slack.dev/authentication/verifying-requests-from-slack):
``X-Slack-Signature = "v0=" + hex(HMAC-SHA256(secret, "v0:{ts}:{raw body}"))``.

Every builder returns ``(body: str, content_type: str)``.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import time
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

__all__ = [
    "FORM",
    "JSON",
    "sign",
    "new_trigger_id",
    "slash_command",
    "view_submission",
    "view_closed",
    "block_actions",
    "message_shortcut",
    "global_shortcut",
    "event_callback",
    "message_event",
    "url_verification",
    "state_values",
    "SlackSender",
]

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

DEFAULT_TEAM_ID = "T0001"
DEFAULT_TEAM_DOMAIN = "example"
DEFAULT_APP_ID = "A0001"
DEFAULT_BOT_USER_ID = "UBOT"
DEFAULT_VERIFICATION_TOKEN = "verification-token"

_counter = itertools.count(1)


# --------------------------------------------------------------------------
# Signing
# --------------------------------------------------------------------------


def sign(secret: str, body: bytes | str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's request-signing headers for ``body`` (the exact raw bytes sent)."""
    ts = str(int(time.time()) if timestamp is None else int(timestamp))
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    base = b"v0:" + ts.encode("ascii") + b":" + raw
    digest = hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


# --------------------------------------------------------------------------
# Small pieces
# --------------------------------------------------------------------------


def new_trigger_id() -> str:
    """A fresh trigger_id shaped like Slack's ("13345224609.738474920.8088930838d88f008e0")."""
    n = next(_counter)
    return f"{1700000000000 + n}.{738474920 + n}.{uuid.uuid4().hex}"


def _action_ts() -> str:
    return f"{time.time():.6f}"


def _user(user_id: str, user_name: str | None, team_id: str) -> dict[str, Any]:
    name = user_name or user_id.lower()
    return {"id": user_id, "username": name, "name": name, "team_id": team_id}


def _team(team_id: str, team_domain: str) -> dict[str, Any]:
    return {"id": team_id, "domain": team_domain}


def _response_url(kind: str, team_id: str) -> str:
    n = next(_counter)
    return f"https://hooks.slack.com/{kind}/{team_id}/{5000000000 + n}/{uuid.uuid4().hex[:24]}"


def _payload_body(payload: dict[str, Any]) -> tuple[str, str]:
    # Slack form-encodes one field: payload=<JSON> (quote, spaces as %20)
    return "payload=" + quote(json.dumps(payload), safe=""), FORM


def _find_element(blocks: Any, action_id: str) -> tuple[dict | None, dict | None]:
    """(block, element) holding ``action_id`` in a list of blocks."""
    for b in blocks or []:
        if not isinstance(b, dict):
            continue
        cands = []
        if isinstance(b.get("accessory"), dict):
            cands.append(b["accessory"])
        if isinstance(b.get("element"), dict):
            cands.append(b["element"])
        cands += [e for e in b.get("elements") or [] if isinstance(e, dict)]
        for e in cands:
            if e.get("action_id") == action_id:
                return b, e
    return None, None


def _all_options(el: dict) -> list[dict]:
    opts = list(el.get("options") or [])
    for g in el.get("option_groups") or []:
        opts += list(g.get("options") or [])
    return opts


def _option_for(el: dict, value: Any) -> dict:
    if isinstance(value, dict):
        return value
    for o in _all_options(el):
        if o.get("value") == value:
            return copy.deepcopy(o)
    return {"text": {"type": "plain_text", "text": str(value), "emoji": True}, "value": str(value)}


def _element_state(el: dict, value: Any) -> dict[str, Any]:
    """The state.values entry Slack sends for element ``el`` holding ``value``.

    ``value`` None means "left empty" (Slack still sends the key, with null).
    """
    etype = el.get("type", "plain_text_input")
    st: dict[str, Any] = {"type": etype}
    if etype in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
        st["value"] = None if value is None else str(value)
    elif etype in ("static_select", "external_select", "radio_buttons"):
        st["selected_option"] = None if value is None else _option_for(el, value)
    elif etype in ("multi_static_select", "multi_external_select", "checkboxes"):
        vals = [] if value is None else (value if isinstance(value, (list, tuple)) else [value])
        st["selected_options"] = [_option_for(el, v) for v in vals]
    elif etype == "users_select":
        st["selected_user"] = value
    elif etype == "multi_users_select":
        st["selected_users"] = list(value or [])
    elif etype == "conversations_select":
        st["selected_conversation"] = value
    elif etype == "multi_conversations_select":
        st["selected_conversations"] = list(value or [])
    elif etype == "channels_select":
        st["selected_channel"] = value
    elif etype == "multi_channels_select":
        st["selected_channels"] = list(value or [])
    elif etype == "datepicker":
        st["selected_date"] = value
    elif etype == "timepicker":
        st["selected_time"] = value
        if el.get("timezone"):
            st["timezone"] = el["timezone"]
    elif etype == "datetimepicker":
        st["selected_date_time"] = None if value is None else int(value)
    elif etype == "rich_text_input":
        st["rich_text_value"] = (
            value
            if isinstance(value, dict) or value is None
            else {
                "type": "rich_text",
                "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": str(value)}]}],
            }
        )
    elif etype == "file_input":
        st["files"] = list(value or [])
    else:
        st["value"] = value
    return st


def state_values(view: Mapping[str, Any] | None, values: Mapping[str, Any] | None) -> dict[str, Any]:
    """Build ``view.state.values`` as Slack sends it.

    ``values`` maps block_id -> {action_id: entry}.  An entry that is a dict
    with a ``type`` is used as-is (the exact wire shape); anything else is a
    shorthand expanded from the view's element: a string for text inputs, an
    option *value* for selects/radios, a list for multi-selects/checkboxes,
    "YYYY-MM-DD" for datepickers, a UNIX int for datetimepickers, and so on.
    Like Slack, every input block of the view appears, empty ones with null.
    """
    values = dict(values or {})
    out: dict[str, dict[str, Any]] = {}
    blocks = (view or {}).get("blocks") or []
    for b in blocks:
        if not isinstance(b, dict) or b.get("type") != "input" or not isinstance(b.get("element"), dict):
            continue
        el = b["element"]
        bid, aid = b.get("block_id"), el.get("action_id")
        if not bid or not aid:
            continue
        given = (values.get(bid) or {}).get(aid)
        if isinstance(given, dict) and "type" in given:
            out.setdefault(bid, {})[aid] = copy.deepcopy(given)
        else:
            out.setdefault(bid, {})[aid] = _element_state(el, given)
    for bid, actions in values.items():  # entries for blocks not in the view (or non-input blocks)
        for aid, given in (actions or {}).items():
            if aid in out.get(bid, {}):
                continue
            if isinstance(given, dict) and "type" in given:
                out.setdefault(bid, {})[aid] = copy.deepcopy(given)
            else:
                _, el = _find_element(blocks, aid)
                out.setdefault(bid, {})[aid] = _element_state(el or {"type": "plain_text_input"}, given)
    return out


def _full_view(view: Any, team_id: str, app_id: str, bot_id: str) -> dict[str, Any]:
    """Accept a view dict, a FakeSlack Call (views.open etc.) or its response; fill Slack's fields."""
    if hasattr(view, "args") and hasattr(view, "response"):  # tests.support.fake_slack.Call
        resp = view.response or {}
        view = resp.get("view") if isinstance(resp.get("view"), dict) else view.args.get("view")
    if isinstance(view, Mapping) and "view" in view and "type" not in view:  # a views.open response
        view = view["view"]
    v = copy.deepcopy(dict(view or {}))
    vid = v.get("id") or f"V{next(_counter):08X}"
    defaults = {
        "id": vid,
        "team_id": team_id,
        "type": "modal",
        "blocks": [],
        "private_metadata": "",
        "callback_id": "",
        "state": {"values": {}},
        "hash": f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
        "clear_on_close": False,
        "notify_on_close": False,
        "close": None,
        "submit": None,
        "previous_view_id": None,
        "root_view_id": vid,
        "app_id": app_id,
        "external_id": "",
        "app_installed_team_id": team_id,
        "bot_id": bot_id,
    }
    for k, dv in defaults.items():
        v.setdefault(k, dv)
    return v


# --------------------------------------------------------------------------
# Payload builders
# --------------------------------------------------------------------------


def slash_command(
    command: str = "/escalate",
    text: str = "",
    user_id: str = "U123",
    team_id: str = DEFAULT_TEAM_ID,
    channel_id: str = "C0SUPPORT",
    *,
    user_name: str | None = None,
    channel_name: str = "support",
    team_domain: str = DEFAULT_TEAM_DOMAIN,
    api_app_id: str = DEFAULT_APP_ID,
    trigger_id: str | None = None,
    response_url: str | None = None,
    token: str = DEFAULT_VERIFICATION_TOKEN,
    enterprise_id: str | None = None,
    enterprise_name: str | None = None,
) -> tuple[str, str]:
    """A slash command invocation, form-encoded like Slack sends it."""
    fields: list[tuple[str, str]] = [
        ("token", token),
        ("team_id", team_id),
        ("team_domain", team_domain),
    ]
    if enterprise_id:
        fields += [("enterprise_id", enterprise_id), ("enterprise_name", enterprise_name or "")]
    fields += [
        ("channel_id", channel_id),
        ("channel_name", channel_name),
        ("user_id", user_id),
        ("user_name", user_name or user_id.lower()),
        ("command", command),
        ("text", text),
        ("api_app_id", api_app_id),
        ("is_enterprise_install", "false"),
        ("response_url", response_url or _response_url("commands", team_id)),
        ("trigger_id", trigger_id or new_trigger_id()),
    ]
    return urlencode(fields), FORM


def view_submission(
    view: Any,
    values: Mapping[str, Any] | None = None,
    user_id: str = "U123",
    private_metadata: str | None = None,
    *,
    team_id: str = DEFAULT_TEAM_ID,
    team_domain: str = DEFAULT_TEAM_DOMAIN,
    user_name: str | None = None,
    api_app_id: str = DEFAULT_APP_ID,
    bot_id: str = "BBOT",
    trigger_id: str | None = None,
    response_urls: list[dict[str, Any]] | None = None,
    token: str = DEFAULT_VERIFICATION_TOKEN,
) -> tuple[str, str]:
    """A view_submission for ``view`` (dict, views.open response or FakeSlack Call) with ``values``.

    ``values`` is ``state.values`` ({block_id: {action_id: entry}}), exact or
    shorthand — see state_values().
    """
    v = _full_view(view, team_id, api_app_id, bot_id)
    v["state"] = {"values": state_values(v, values)}
    if private_metadata is not None:
        v["private_metadata"] = private_metadata
    payload = {
        "type": "view_submission",
        "team": _team(team_id, team_domain),
        "user": _user(user_id, user_name, team_id),
        "api_app_id": api_app_id,
        "token": token,
        "trigger_id": trigger_id or new_trigger_id(),
        "view": v,
        "response_urls": list(response_urls or []),
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return _payload_body(payload)


def view_closed(
    view: Any,
    user_id: str = "U123",
    *,
    is_cleared: bool = False,
    team_id: str = DEFAULT_TEAM_ID,
    team_domain: str = DEFAULT_TEAM_DOMAIN,
    api_app_id: str = DEFAULT_APP_ID,
    bot_id: str = "BBOT",
    token: str = DEFAULT_VERIFICATION_TOKEN,
) -> tuple[str, str]:
    """A view_closed payload (sent when the view had notify_on_close)."""
    payload = {
        "type": "view_closed",
        "team": _team(team_id, team_domain),
        "user": _user(user_id, None, team_id),
        "api_app_id": api_app_id,
        "token": token,
        "view": _full_view(view, team_id, api_app_id, bot_id),
        "is_cleared": is_cleared,
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return _payload_body(payload)


def block_actions(
    action_id: str,
    value: Any = None,
    block_id: str | None = None,
    user_id: str = "U123",
    view: Any = None,
    message: Mapping[str, Any] | None = None,
    channel_id: str | None = None,
    container: Mapping[str, Any] | None = None,
    selected_option: Mapping[str, Any] | None = None,
    *,
    action_type: str | None = None,
    selected_options: list[Mapping[str, Any]] | None = None,
    values: Mapping[str, Any] | None = None,
    team_id: str = DEFAULT_TEAM_ID,
    team_domain: str = DEFAULT_TEAM_DOMAIN,
    user_name: str | None = None,
    channel_name: str = "support",
    api_app_id: str = DEFAULT_APP_ID,
    bot_id: str = "BBOT",
    trigger_id: str | None = None,
    response_url: str | None = None,
    token: str = DEFAULT_VERIFICATION_TOKEN,
) -> tuple[str, str]:
    """A block_actions payload for a click/selection in a message or a view.

    ``message`` is the message holding the element (e.g. FakeSlack's
    chat.postMessage response ``["message"]``); ``view`` a view (see
    view_submission).  block_id, action type and the button's text are taken
    from the element when found.  ``values`` fills the view's state.values.
    """
    full_view = _full_view(view, team_id, api_app_id, bot_id) if view is not None else None
    blocks = (full_view or message or {}).get("blocks") or []
    blk, el = _find_element(blocks, action_id)
    if block_id is None:
        block_id = (blk or {}).get("block_id") or "b"
    etype = (
        action_type
        or (el or {}).get("type")
        or ("static_select" if selected_option is not None else "multi_static_select" if selected_options is not None else "button")
    )

    action: dict[str, Any] = {"action_id": action_id, "block_id": block_id, "type": etype, "action_ts": _action_ts()}
    if etype == "button":
        if el and el.get("text"):
            action["text"] = copy.deepcopy(el["text"])
        else:
            action["text"] = {"type": "plain_text", "text": action_id, "emoji": True}
        if value is not None:
            action["value"] = value
        elif el and "value" in el:
            action["value"] = el["value"]
        if el and el.get("style"):
            action["style"] = el["style"]
    elif etype in ("static_select", "external_select", "radio_buttons", "overflow"):
        if selected_option is None and value is not None:
            selected_option = _option_for(el or {}, value)
        action["selected_option"] = copy.deepcopy(selected_option)
        if el and el.get("placeholder"):
            action["placeholder"] = copy.deepcopy(el["placeholder"])
    elif etype in ("multi_static_select", "multi_external_select", "checkboxes"):
        if selected_options is None:
            vals = [] if value is None else (value if isinstance(value, (list, tuple)) else [value])
            selected_options = [_option_for(el or {}, v) for v in vals]
        action["selected_options"] = copy.deepcopy(list(selected_options))
    else:
        action.update({k: v for k, v in _element_state(el or {"type": etype}, value).items() if k != "type"})

    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id, user_name, team_id),
        "api_app_id": api_app_id,
        "token": token,
        "container": None,
        "trigger_id": trigger_id or new_trigger_id(),
        "team": _team(team_id, team_domain),
        "enterprise": None,
        "is_enterprise_install": False,
    }
    if full_view is not None:
        full_view["state"] = {"values": state_values(full_view, values)}
        payload["container"] = dict(container or {"type": "view", "view_id": full_view["id"]})
        payload["view"] = full_view
        payload["state"] = {"values": {}}
    else:
        msg = copy.deepcopy(dict(message)) if message is not None else None
        ch = channel_id or "C0SUPPORT"
        ts = (msg or {}).get("ts") or "1700000000.000100"
        payload["container"] = dict(container or {"type": "message", "message_ts": ts, "channel_id": ch, "is_ephemeral": False})
        payload["channel"] = {"id": ch, "name": channel_name}
        if msg is not None:
            msg.setdefault("type", "message")
            payload["message"] = msg
        payload["state"] = {"values": dict(values or {})}
        payload["response_url"] = response_url or _response_url("actions", team_id)
    payload["actions"] = [action]
    return _payload_body(payload)


def message_shortcut(
    callback_id: str,
    message_text: str,
    message_ts: str,
    channel_id: str,
    user_id: str = "U123",
    message_user: str = "U999",
    *,
    channel_name: str = "support",
    team_id: str = DEFAULT_TEAM_ID,
    team_domain: str = DEFAULT_TEAM_DOMAIN,
    user_name: str | None = None,
    thread_ts: str | None = None,
    message_extra: Mapping[str, Any] | None = None,
    trigger_id: str | None = None,
    response_url: str | None = None,
    token: str = DEFAULT_VERIFICATION_TOKEN,
) -> tuple[str, str]:
    """A message shortcut ("message_action") on a person's message."""
    msg: dict[str, Any] = {
        "type": "message",
        "user": message_user,
        "text": message_text,
        "ts": message_ts,
        "team": team_id,
        "client_msg_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{channel_id}/{message_ts}")),
        "blocks": [
            {
                "type": "rich_text",
                "block_id": hashlib.sha1(message_text.encode()).hexdigest()[:5],
                "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": message_text}]}],
            }
        ],
    }
    if thread_ts:
        msg["thread_ts"] = thread_ts
    msg.update(copy.deepcopy(dict(message_extra or {})))
    payload = {
        "type": "message_action",
        "token": token,
        "action_ts": _action_ts(),
        "team": _team(team_id, team_domain),
        "user": _user(user_id, user_name, team_id),
        "channel": {"id": channel_id, "name": channel_name},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id or new_trigger_id(),
        "response_url": response_url or _response_url("app", team_id),
        "message_ts": message_ts,
        "message": msg,
    }
    return _payload_body(payload)


def global_shortcut(
    callback_id: str,
    user_id: str = "U123",
    *,
    team_id: str = DEFAULT_TEAM_ID,
    team_domain: str = DEFAULT_TEAM_DOMAIN,
    user_name: str | None = None,
    trigger_id: str | None = None,
    token: str = DEFAULT_VERIFICATION_TOKEN,
) -> tuple[str, str]:
    """A global shortcut ("shortcut"): no channel, no message, no response_url."""
    payload = {
        "type": "shortcut",
        "token": token,
        "action_ts": _action_ts(),
        "team": _team(team_id, team_domain),
        "user": _user(user_id, user_name, team_id),
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id or new_trigger_id(),
    }
    return _payload_body(payload)


def event_callback(
    event: Mapping[str, Any],
    team_id: str = DEFAULT_TEAM_ID,
    event_id: str | None = None,
    *,
    api_app_id: str = DEFAULT_APP_ID,
    event_time: int | None = None,
    bot_user_id: str = DEFAULT_BOT_USER_ID,
    token: str = DEFAULT_VERIFICATION_TOKEN,
) -> tuple[str, str]:
    """An Events API ``event_callback`` envelope around ``event`` (JSON body)."""
    n = next(_counter)
    body = {
        "token": token,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": None,
        "api_app_id": api_app_id,
        "event": dict(event),
        "type": "event_callback",
        "event_id": event_id or f"Ev{n:09d}{uuid.uuid4().hex[:4].upper()}",
        "event_time": int(time.time()) if event_time is None else int(event_time),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{uuid.uuid4().hex}",
    }
    return json.dumps(body), JSON


def message_event(
    text: str,
    channel: str = "C0SUPPORT",
    user: str = "U123",
    *,
    ts: str | None = None,
    thread_ts: str | None = None,
    channel_type: str = "channel",
    team_id: str = DEFAULT_TEAM_ID,
) -> dict[str, Any]:
    """A ``message`` event (the inner ``event`` dict, for event_callback())."""
    ts = ts or f"{time.time():.6f}"
    ev: dict[str, Any] = {
        "type": "message",
        "user": user,
        "text": text,
        "ts": ts,
        "team": team_id,
        "channel": channel,
        "event_ts": ts,
        "channel_type": channel_type,
        "client_msg_id": str(uuid.uuid4()),
        "blocks": [
            {
                "type": "rich_text",
                "block_id": hashlib.sha1(text.encode()).hexdigest()[:5],
                "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
            }
        ],
    }
    if thread_ts:
        ev["thread_ts"] = thread_ts
    return ev


def url_verification(challenge: str = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P") -> tuple[str, str]:
    return json.dumps({"token": DEFAULT_VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}), JSON


# --------------------------------------------------------------------------
# Sender
# --------------------------------------------------------------------------


class SlackSender:
    """Posts signed requests to the bot's ``{base_url}{path}`` (default /slack/events) with httpx."""

    def __init__(
        self,
        base_url: str,
        signing_secret: str,
        *,
        path: str = "/slack/events",
        timeout: float = 5.0,
        client: Any = None,
        response_url_base: str | None = None,
    ) -> None:
        import httpx

        # Where response_url values point (a FakeSlack's hooks_url), so respond() reaches a recorder.
        self.response_url_base = response_url_base
        self.url = base_url.rstrip("/") + "/" + path.lstrip("/")
        self.signing_secret = signing_secret
        self._own_client = client is None
        self._client = client if client is not None else httpx.Client(timeout=timeout)

    def close(self) -> None:
        if self._own_client:
            self._client.close()

    def __enter__(self) -> SlackSender:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def post(
        self,
        body: str | bytes,
        content_type: str,
        headers_extra: Mapping[str, str] | None = None,
        timestamp: int | None = None,
        signature: str | None = None,
    ):
        """POST ``body`` signed with the secret; ``timestamp``/``signature`` override (for stale/bad ones)."""
        raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        headers = {"Content-Type": content_type, "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}
        headers.update(sign(self.signing_secret, raw, timestamp))
        if signature is not None:
            headers["X-Slack-Signature"] = signature
        headers.update(headers_extra or {})
        return self._client.post(self.url, content=raw, headers=headers)

    def _send(self, built: tuple[str, str], headers_extra=None, timestamp=None, signature=None):
        body, ctype = built
        return self.post(body, ctype, headers_extra=headers_extra, timestamp=timestamp, signature=signature)

    def _hook(self, kwargs: dict[str, Any], kind: str) -> dict[str, Any]:
        if self.response_url_base and "response_url" not in kwargs:
            kwargs["response_url"] = f"{self.response_url_base}{kind}/{uuid.uuid4().hex[:12]}"
        return kwargs

    def command(self, *args: Any, headers_extra=None, timestamp=None, signature=None, **kwargs: Any):
        return self._send(slash_command(*args, **self._hook(kwargs, "commands")), headers_extra, timestamp, signature)

    def submit_view(self, *args: Any, headers_extra=None, timestamp=None, signature=None, **kwargs: Any):
        return self._send(view_submission(*args, **kwargs), headers_extra, timestamp, signature)

    def close_view(self, *args: Any, headers_extra=None, timestamp=None, signature=None, **kwargs: Any):
        return self._send(view_closed(*args, **kwargs), headers_extra, timestamp, signature)

    def action(self, *args: Any, headers_extra=None, timestamp=None, signature=None, **kwargs: Any):
        return self._send(block_actions(*args, **self._hook(kwargs, "actions")), headers_extra, timestamp, signature)

    def shortcut(self, *args: Any, headers_extra=None, timestamp=None, signature=None, **kwargs: Any):
        return self._send(message_shortcut(*args, **self._hook(kwargs, "app")), headers_extra, timestamp, signature)

    def global_shortcut(self, *args: Any, headers_extra=None, timestamp=None, signature=None, **kwargs: Any):
        return self._send(global_shortcut(*args, **kwargs), headers_extra, timestamp, signature)

    def event(
        self,
        event: Mapping[str, Any],
        *args: Any,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        headers_extra=None,
        timestamp=None,
        signature=None,
        **kwargs: Any,
    ):
        """Send an event_callback; ``retry_num`` adds Slack's X-Slack-Retry-Num/-Reason headers."""
        extra = dict(headers_extra or {})
        if retry_num is not None:
            extra.setdefault("X-Slack-Retry-Num", str(retry_num))
            extra.setdefault("X-Slack-Retry-Reason", retry_reason)
        return self._send(event_callback(event, *args, **kwargs), extra, timestamp, signature)

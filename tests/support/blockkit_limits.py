"""Slack's documented Block Kit limits, as a pure checker.

Nothing here talks to the network; every function takes plain dicts (what
slack_sdk puts on the wire) and returns a list of human-readable violations.
An empty list means "Slack would accept this as far as we know".

Every message names the place and the numbers, e.g.::

    view.blocks[3](section): text is 3001 chars, over 3000
    blocks[1](actions).elements[0](button): text is 76 chars, over 75

Limits follow https://docs.slack.dev/reference/block-kit/ (blocks, block
elements, composition objects, views, chat.postMessage).  Where the docs and
practice disagree we stay conservative (we flag what Slack might reject); those
places are marked ``conservative`` below.

Public API::

    check_call(method, args) -> list[str]
    check_message(args) -> list[str]
    check_view(view, *, method=None, prefix="view") -> list[str]
    check_blocks(blocks, *, surface="message", prefix="blocks") -> list[str]
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Iterable
from typing import Any

__all__ = [
    "LIMITS",
    "INPUT_ELEMENT_TYPES",
    "check_call",
    "check_message",
    "check_view",
    "check_blocks",
]

# --------------------------------------------------------------------------
# The numbers
# --------------------------------------------------------------------------

LIMITS: dict[str, int] = {
    "message_blocks": 50,
    "view_blocks": 100,
    "message_text": 40_000,
    "message_attachments": 100,
    "view_title": 24,
    "view_submit": 24,
    "view_close": 24,
    "private_metadata": 3000,
    "callback_id": 255,
    "external_id": 255,
    "view_payload_bytes": 250_000,  # "250 kB"; conservative: decimal kB
    "block_id": 255,
    "action_id": 255,
    "section_text": 3000,
    "section_fields": 10,
    "section_field_text": 2000,
    "header_text": 150,
    "context_elements": 10,
    "actions_elements": 25,
    "input_label": 2000,
    "input_hint": 2000,
    "image_url": 3000,
    "image_alt_text": 2000,
    "image_title": 2000,
    "video_title": 200,
    "markdown_text": 12_000,
    "text_object": 3000,
    "placeholder": 150,
    "plain_text_input_length": 3000,
    "plain_text_input_initial_value": 3000,
    "button_text": 75,
    "button_value": 2000,
    "button_url": 3000,
    "accessibility_label": 75,
    "select_options": 100,
    "select_option_groups": 100,
    "option_group_label": 75,
    "option_text": 75,
    # docs say 150; conservative: 75, like option text
    "option_value": 75,
    "option_description": 75,
    "option_url": 3000,
    "radio_options": 10,
    "checkbox_options": 10,
    "overflow_options_max": 5,
    "overflow_options_min": 1,
    "confirm_title": 100,
    "confirm_text": 300,
    "confirm_button": 30,
    "datetime_max": 9_999_999_999,
    "file_input_max_files": 10,
}

# Elements that may sit in an input block's ``element``.
INPUT_ELEMENT_TYPES = frozenset(
    {
        "checkboxes",
        "datepicker",
        "datetimepicker",
        "email_text_input",
        "file_input",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
        "number_input",
        "plain_text_input",
        "radio_buttons",
        "rich_text_input",
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "timepicker",
        "url_text_input",
    }
)

_SELECTS = frozenset(
    {
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
    }
)

# Elements allowed as a section block's accessory.
SECTION_ACCESSORY_TYPES = frozenset(
    _SELECTS
    | {
        "button",
        "checkboxes",
        "datepicker",
        "image",
        "overflow",
        "radio_buttons",
        "timepicker",
        "workflow_button",
    }
)

# Elements allowed in an actions block.
ACTIONS_ELEMENT_TYPES = frozenset(
    _SELECTS
    | {
        "button",
        "checkboxes",
        "datepicker",
        "datetimepicker",
        "overflow",
        "radio_buttons",
        "timepicker",
        "workflow_button",
    }
)

KNOWN_ELEMENT_TYPES = frozenset(INPUT_ELEMENT_TYPES | SECTION_ACCESSORY_TYPES | ACTIONS_ELEMENT_TYPES)

KNOWN_BLOCK_TYPES = frozenset(
    {
        "actions",
        "context",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "video",
        "table",
        "call",
        "context_actions",
    }
)

_MESSAGE_METHODS = frozenset({"chat.postMessage", "chat.update", "chat.postEphemeral", "chat.scheduleMessage"})
_VIEW_METHODS = frozenset({"views.open", "views.push", "views.update", "views.publish"})

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME_RE = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d")


# --------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------


def check_call(method: str, args: dict[str, Any]) -> list[str]:
    """Check the Block Kit content of one Web API call's arguments."""
    if not isinstance(args, dict):
        return [f"{method}: arguments are {type(args).__name__}, not an object"]
    if method in _VIEW_METHODS:
        if "view" not in args:
            return ["view: required"]
        return check_view(_maybe_json(args.get("view")), method=method)
    if method in _MESSAGE_METHODS:
        return check_message(args)
    if "blocks" in args:
        return check_blocks(_maybe_json(args.get("blocks")), surface="message")
    return []


def check_message(args: dict[str, Any]) -> list[str]:
    """Check chat.postMessage / chat.update / chat.postEphemeral arguments."""
    c = _Checker()
    text = args.get("text")
    blocks = _maybe_json(args.get("blocks"))
    attachments = _maybe_json(args.get("attachments"))

    if text is not None and not isinstance(text, str):
        c.add("text", f"is {type(text).__name__}, must be a string")
    elif isinstance(text, str) and len(text) > LIMITS["message_text"]:
        c.add("text", f"is {len(text)} chars, over {LIMITS['message_text']}")

    if blocks is not None:
        if not isinstance(blocks, list):
            c.add("blocks", f"must be an array of blocks, got {type(blocks).__name__}")
        else:
            c.blocks(blocks, "blocks", surface="message")
            if blocks and not (isinstance(text, str) and text.strip()):
                c.add(
                    "blocks",
                    "given without a fallback `text`: notifications and screen readers will show nothing",
                )

    if attachments is not None:
        if not isinstance(attachments, list):
            c.add("attachments", f"must be an array, got {type(attachments).__name__}")
        else:
            if len(attachments) > LIMITS["message_attachments"]:
                c.add("attachments", f"{len(attachments)} attachments, over {LIMITS['message_attachments']}")
            for i, att in enumerate(attachments):
                if isinstance(att, dict) and "blocks" in att:
                    ab = _maybe_json(att["blocks"])
                    if isinstance(ab, list):
                        c.blocks(ab, f"attachments[{i}].blocks", surface="message")

    metadata = _maybe_json(args.get("metadata"))
    if metadata is not None:
        if not isinstance(metadata, dict):
            c.add("metadata", "must be an object")
        else:
            if not isinstance(metadata.get("event_type"), str) or not metadata.get("event_type"):
                c.add("metadata", "event_type is required")
            if not isinstance(metadata.get("event_payload"), dict):
                c.add("metadata", "event_payload must be an object")
    return c.out


def check_view(view: Any, *, method: str | None = None, prefix: str = "view") -> list[str]:
    """Check a modal or Home tab view object (what views.* receive as ``view``)."""
    c = _Checker()
    view = _maybe_json(view)
    if not isinstance(view, dict):
        c.add(prefix, f"must be an object, got {type(view).__name__}")
        return c.out

    vtype = view.get("type")
    if vtype not in ("modal", "home"):
        c.add(prefix, f"type is {vtype!r}, must be 'modal' or 'home'")
    if method in ("views.open", "views.push") and vtype == "home":
        c.add(prefix, f"type 'home' cannot be opened with {method}; use views.publish")
    if method == "views.publish" and vtype == "modal":
        c.add(prefix, "type 'modal' cannot be published; views.publish takes type 'home'")

    blocks = view.get("blocks")
    if blocks is None:
        c.add(prefix, "blocks is required")
        blocks = []
    elif not isinstance(blocks, list):
        c.add(prefix, f"blocks must be an array, got {type(blocks).__name__}")
        blocks = []
    surface = "home" if vtype == "home" else "modal"

    if vtype == "modal" or vtype is None:
        c.text(view.get("title"), prefix, "title", LIMITS["view_title"], plain_only=True, required=True)
    elif "title" in view:
        c.text(view.get("title"), prefix, "title", LIMITS["view_title"], plain_only=True)
    c.text(view.get("close"), prefix, "close", LIMITS["view_close"], plain_only=True)
    c.text(view.get("submit"), prefix, "submit", LIMITS["view_submit"], plain_only=True)
    if vtype == "modal" and view.get("submit") is None:
        for i, b in enumerate(blocks):
            if isinstance(b, dict) and b.get("type") == "input":
                c.add(prefix, f"submit is required because blocks[{i}] is an input block")
                break

    for key, limit in (("private_metadata", "private_metadata"), ("callback_id", "callback_id"), ("external_id", "external_id")):
        val = view.get(key)
        if val is None:
            continue
        if not isinstance(val, str):
            c.add(prefix, f"{key} must be a string, got {type(val).__name__}")
        elif len(val) > LIMITS[limit]:
            c.add(prefix, f"{key} is {len(val)} chars, over {LIMITS[limit]}")

    c.blocks(blocks, f"{prefix}.blocks", surface=surface)

    try:
        size = len(json.dumps(view, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    except (TypeError, ValueError) as e:
        c.add(prefix, f"is not JSON-serialisable: {e}")
    else:
        if size > LIMITS["view_payload_bytes"]:
            c.add(prefix, f"payload is {size} bytes of JSON, over {LIMITS['view_payload_bytes']}")
    return c.out


def check_blocks(blocks: Any, *, surface: str = "message", prefix: str = "blocks") -> list[str]:
    """Check a bare list of blocks for a surface: 'message', 'modal' or 'home'."""
    c = _Checker()
    blocks = _maybe_json(blocks)
    if not isinstance(blocks, list):
        c.add(prefix, f"must be an array of blocks, got {type(blocks).__name__}")
    else:
        c.blocks(blocks, prefix, surface=surface)
    return c.out


# --------------------------------------------------------------------------
# Implementation
# --------------------------------------------------------------------------


def _maybe_json(value: Any) -> Any:
    """Form-encoded calls carry blocks/view as JSON strings: decode them."""
    if isinstance(value, (str, bytes)):
        s = value.decode() if isinstance(value, bytes) else value
        if s.lstrip()[:1] in ("[", "{"):
            try:
                return json.loads(s)
            except ValueError:
                return value
    return value


def _tname(obj: Any) -> str:
    if isinstance(obj, dict):
        return str(obj.get("type", "?"))
    return type(obj).__name__


class _Checker:
    def __init__(self) -> None:
        self.out: list[str] = []

    def add(self, path: str, msg: str) -> None:
        self.out.append(f"{path}: {msg}")

    # ----- primitives -------------------------------------------------------

    def string(self, val: Any, path: str, field: str, limit: int, *, required: bool = False) -> None:
        if val is None:
            if required:
                self.add(path, f"{field} is required")
            return
        if not isinstance(val, str):
            self.add(path, f"{field} must be a string, got {type(val).__name__}")
            return
        if required and not val:
            self.add(path, f"{field} is empty")
        if len(val) > limit:
            self.add(path, f"{field} is {len(val)} chars, over {limit}")

    def text(
        self,
        obj: Any,
        path: str,
        field: str,
        limit: int,
        *,
        plain_only: bool = False,
        required: bool = False,
        min_len: int = 1,
    ) -> None:
        if obj is None:
            if required:
                self.add(path, f"{field} is required")
            return
        if not isinstance(obj, dict):
            self.add(path, f"{field} must be a text object {{type, text}}, got {type(obj).__name__}")
            return
        ttype = obj.get("type")
        if ttype not in ("plain_text", "mrkdwn"):
            self.add(path, f"{field} has type {ttype!r}, must be 'plain_text' or 'mrkdwn'")
        elif plain_only and ttype != "plain_text":
            self.add(path, f"{field} must be plain_text, got {ttype}")
        if ttype == "mrkdwn" and "emoji" in obj:
            self.add(path, f"{field} sets emoji, which is allowed only on plain_text")
        if ttype == "plain_text" and "verbatim" in obj:
            self.add(path, f"{field} sets verbatim, which is allowed only on mrkdwn")
        txt = obj.get("text")
        if not isinstance(txt, str):
            self.add(path, f"{field} text must be a string, got {type(txt).__name__}")
            return
        if len(txt) < min_len:
            self.add(path, f"{field} is empty" if not txt else f"{field} is {len(txt)} chars, under {min_len}")
        if len(txt) > limit:
            self.add(path, f"{field} is {len(txt)} chars, over {limit}")

    def ident(self, val: Any, path: str, field: str) -> None:
        if val is None:
            return
        limit = LIMITS[field] if field in LIMITS else 255
        if not isinstance(val, str):
            self.add(path, f"{field} must be a string, got {type(val).__name__}")
        elif not val:
            self.add(path, f"{field} is empty")
        elif len(val) > limit:
            self.add(path, f"{field} is {len(val)} chars, over {limit}")

    def count(self, seq: Any, path: str, what: str, *, lo: int = 0, hi: int | None = None, required: bool = False) -> list:
        if seq is None:
            if required:
                self.add(path, f"{what} is required")
            return []
        if not isinstance(seq, list):
            self.add(path, f"{what} must be an array, got {type(seq).__name__}")
            return []
        if hi is not None and len(seq) > hi:
            self.add(path, f"{len(seq)} {what}, over {hi}")
        if len(seq) < lo:
            self.add(path, f"{len(seq)} {what}, need at least {lo}")
        return seq

    # ----- composition objects ---------------------------------------------

    def confirm(self, obj: Any, path: str) -> None:
        if obj is None:
            return
        p = f"{path}.confirm"
        if not isinstance(obj, dict):
            self.add(p, "must be an object")
            return
        self.text(obj.get("title"), p, "title", LIMITS["confirm_title"], plain_only=True, required=True)
        self.text(obj.get("text"), p, "text", LIMITS["confirm_text"], required=True)
        self.text(obj.get("confirm"), p, "confirm", LIMITS["confirm_button"], plain_only=True, required=True)
        self.text(obj.get("deny"), p, "deny", LIMITS["confirm_button"], plain_only=True, required=True)
        if "style" in obj and obj["style"] not in ("primary", "danger"):
            self.add(p, f"style is {obj['style']!r}, must be 'primary' or 'danger'")

    def option(self, opt: Any, path: str, *, plain_only: bool = True, allow_url: bool = False) -> None:
        if not isinstance(opt, dict):
            self.add(path, f"must be an option object, got {type(opt).__name__}")
            return
        self.text(opt.get("text"), path, "text", LIMITS["option_text"], plain_only=plain_only, required=True)
        self.string(opt.get("value"), path, "value", LIMITS["option_value"], required=True)
        self.text(opt.get("description"), path, "description", LIMITS["option_description"], plain_only=plain_only)
        if "url" in opt:
            if not allow_url:
                self.add(path, "url is allowed only on overflow menu options")
            else:
                self.string(opt.get("url"), path, "url", LIMITS["option_url"])

    def options(
        self,
        el: dict,
        path: str,
        *,
        lo: int,
        hi: int,
        plain_only: bool = True,
        allow_url: bool = False,
        required: bool = True,
    ) -> list:
        opts = self.count(el.get("options"), path, "options", lo=lo, hi=hi, required=required)
        values: set = set()
        for i, o in enumerate(opts):
            self.option(o, f"{path}.options[{i}]", plain_only=plain_only, allow_url=allow_url)
            if isinstance(o, dict) and isinstance(o.get("value"), str):
                if o["value"] in values:
                    self.add(f"{path}.options[{i}]", f"value {o['value']!r} is repeated")
                values.add(o["value"])
        return opts

    def initial_in(self, el: dict, path: str, all_opts: list) -> None:
        """initial_option(s) must be among the element's options."""

        def key(o: Any) -> Any:
            return o.get("value") if isinstance(o, dict) else None

        known = {key(o) for o in all_opts}
        if "initial_option" in el and el["initial_option"] is not None:
            io = el["initial_option"]
            self.option(io, f"{path}.initial_option", plain_only=False)
            if all_opts and key(io) not in known:
                self.add(path, f"initial_option value {key(io)!r} is not one of the options")
        if "initial_options" in el and el["initial_options"] is not None:
            ios = el["initial_options"]
            if not isinstance(ios, list):
                self.add(path, "initial_options must be an array")
                return
            for i, io in enumerate(ios):
                if all_opts and key(io) not in known:
                    self.add(path, f"initial_options[{i}] value {key(io)!r} is not one of the options")

    # ----- elements -----------------------------------------------------------

    def element(self, el: Any, path: str, allowed: Iterable[str], where: str) -> str | None:
        """Check one element; return its action_id (if any)."""
        if not isinstance(el, dict):
            self.add(path, f"element must be an object, got {type(el).__name__}")
            return None
        etype = el.get("type")
        allowed = frozenset(allowed)
        if etype is None:
            self.add(path, "element has no type")
            return None
        if etype not in KNOWN_ELEMENT_TYPES:
            self.add(path, f"unknown element type {etype!r}")
            return None
        if etype not in allowed:
            self.add(path, f"element type {etype!r} is not allowed {where}")
        self.ident(el.get("action_id"), path, "action_id")
        self.confirm(el.get("confirm"), path)
        if "placeholder" in el:
            self.text(el.get("placeholder"), path, "placeholder", LIMITS["placeholder"], plain_only=True)

        if etype == "button":
            self.text(el.get("text"), path, "text", LIMITS["button_text"], plain_only=True, required=True)
            self.string(el.get("value"), path, "value", LIMITS["button_value"])
            self.string(el.get("url"), path, "url", LIMITS["button_url"])
            self.string(el.get("accessibility_label"), path, "accessibility_label", LIMITS["accessibility_label"])
            if "style" in el and el["style"] not in ("primary", "danger"):
                self.add(path, f"style is {el['style']!r}, must be 'primary' or 'danger' (or absent)")
        elif etype == "workflow_button":
            self.text(el.get("text"), path, "text", LIMITS["button_text"], plain_only=True, required=True)
        elif etype in ("static_select", "multi_static_select"):
            has_opts = el.get("options") is not None
            has_groups = el.get("option_groups") is not None
            all_opts: list = []
            if has_opts and has_groups:
                self.add(path, "give options or option_groups, not both")
            if not has_opts and not has_groups:
                self.add(path, "options or option_groups is required")
            if has_opts:
                all_opts = self.options(el, path, lo=1, hi=LIMITS["select_options"])
            if has_groups:
                groups = self.count(el.get("option_groups"), path, "option_groups", lo=1, hi=LIMITS["select_option_groups"])
                for gi, g in enumerate(groups):
                    gp = f"{path}.option_groups[{gi}]"
                    if not isinstance(g, dict):
                        self.add(gp, "must be an object")
                        continue
                    self.text(g.get("label"), gp, "label", LIMITS["option_group_label"], plain_only=True, required=True)
                    all_opts += self.options(g, gp, lo=1, hi=LIMITS["select_options"])
            self.initial_in(el, path, all_opts)
        elif etype == "radio_buttons":
            opts = self.options(el, path, lo=1, hi=LIMITS["radio_options"], plain_only=False)
            self.initial_in(el, path, opts)
        elif etype == "checkboxes":
            opts = self.options(el, path, lo=1, hi=LIMITS["checkbox_options"], plain_only=False)
            self.initial_in(el, path, opts)
        elif etype == "overflow":
            self.options(el, path, lo=LIMITS["overflow_options_min"], hi=LIMITS["overflow_options_max"], allow_url=True)
        elif etype == "datepicker":
            d = el.get("initial_date")
            if d is not None:
                if not isinstance(d, str) or not _DATE_RE.fullmatch(d):
                    self.add(path, f"initial_date {d!r} is not YYYY-MM-DD")
                else:
                    try:
                        _dt.date.fromisoformat(d)
                    except ValueError:
                        self.add(path, f"initial_date {d!r} is not a real date")
        elif etype == "timepicker":
            t = el.get("initial_time")
            if t is not None and (not isinstance(t, str) or not _TIME_RE.fullmatch(t)):
                self.add(path, f"initial_time {t!r} is not HH:mm (00:00-23:59)")
            if "timezone" in el and not isinstance(el["timezone"], str):
                self.add(path, "timezone must be an IANA name string")
        elif etype == "datetimepicker":
            v = el.get("initial_date_time")
            if v is not None:
                if isinstance(v, bool) or not isinstance(v, int):
                    self.add(path, f"initial_date_time {v!r} must be an integer UNIX timestamp")
                elif not 0 <= v <= LIMITS["datetime_max"]:
                    self.add(path, f"initial_date_time {v} is outside 0..{LIMITS['datetime_max']}")
        elif etype == "plain_text_input":
            lim = LIMITS["plain_text_input_length"]
            mn, mx = el.get("min_length"), el.get("max_length")
            for name, val, lo in (("min_length", mn, 0), ("max_length", mx, 1)):
                if val is None:
                    continue
                if isinstance(val, bool) or not isinstance(val, int):
                    self.add(path, f"{name} must be an integer, got {val!r}")
                elif val > lim:
                    self.add(path, f"{name} {val} is over {lim}")
                elif val < lo:
                    self.add(path, f"{name} {val} is under {lo}")
            if isinstance(mn, int) and isinstance(mx, int) and mn > mx:
                self.add(path, f"min_length {mn} is greater than max_length {mx}")
            iv = el.get("initial_value")
            self.string(iv, path, "initial_value", LIMITS["plain_text_input_initial_value"])
            if isinstance(iv, str) and isinstance(mx, int) and not isinstance(mx, bool) and len(iv) > mx:
                self.add(path, f"initial_value is {len(iv)} chars, over its max_length {mx}")
        elif etype == "number_input":
            if not isinstance(el.get("is_decimal_allowed"), bool):
                self.add(path, "is_decimal_allowed (true/false) is required")
            for k in ("initial_value", "min_value", "max_value"):
                if k in el and not isinstance(el[k], str):
                    self.add(path, f"{k} must be a string, got {type(el[k]).__name__}")
        elif etype == "image":
            if not el.get("image_url") and not el.get("slack_file"):
                self.add(path, "image_url or slack_file is required")
            self.string(el.get("image_url"), path, "image_url", LIMITS["image_url"])
            self.string(el.get("alt_text"), path, "alt_text", LIMITS["image_alt_text"], required=True)
        elif etype == "file_input":
            mf = el.get("max_files")
            if mf is not None and (not isinstance(mf, int) or not 1 <= mf <= LIMITS["file_input_max_files"]):
                self.add(path, f"max_files {mf!r} is outside 1..{LIMITS['file_input_max_files']}")
        if etype.startswith("multi_"):
            m = el.get("max_selected_items")
            if m is not None and (isinstance(m, bool) or not isinstance(m, int) or m < 1):
                self.add(path, f"max_selected_items {m!r} must be an integer >= 1")
        aid = el.get("action_id")
        return aid if isinstance(aid, str) else None

    # ----- blocks ---------------------------------------------------------------

    def blocks(self, blocks: list, prefix: str, *, surface: str) -> None:
        hi = LIMITS["message_blocks"] if surface == "message" else LIMITS["view_blocks"]
        if len(blocks) > hi:
            self.add(prefix, f"{len(blocks)} blocks, over {hi} for a {surface}")
        if surface != "message" and not blocks:
            self.add(prefix, f"a {surface} needs at least 1 block")
        seen_block_ids: dict[str, int] = {}
        for i, b in enumerate(blocks):
            path = f"{prefix}[{i}]({_tname(b)})"
            if not isinstance(b, dict):
                self.add(path, "block must be an object")
                continue
            bid = b.get("block_id")
            self.ident(bid, path, "block_id")
            if isinstance(bid, str):
                if bid in seen_block_ids:
                    self.add(path, f"block_id {bid!r} duplicates {prefix}[{seen_block_ids[bid]}]")
                else:
                    seen_block_ids[bid] = i
            self.block(b, path)

    def _action_ids(self, path: str, ids: list[tuple[str, str]]) -> None:
        seen: dict[str, str] = {}
        for aid, where in ids:
            if aid in seen:
                self.add(path, f"action_id {aid!r} appears twice in this block ({seen[aid]} and {where})")
            else:
                seen[aid] = where

    def block(self, b: dict, path: str) -> None:
        btype = b.get("type")
        if btype is None:
            self.add(path, "block has no type")
            return
        if btype not in KNOWN_BLOCK_TYPES:
            self.add(path, f"unknown block type {btype!r}")
            return
        if btype == "section":
            has_text = b.get("text") is not None
            has_fields = b.get("fields") is not None
            if not has_text and not has_fields:
                self.add(path, "a section needs text or fields")
            if has_text:
                self.text(b.get("text"), path, "text", LIMITS["section_text"])
            if has_fields:
                fields = self.count(b.get("fields"), path, "fields", lo=1, hi=LIMITS["section_fields"])
                for fi, f in enumerate(fields):
                    self.text(f, path, f"fields[{fi}]", LIMITS["section_field_text"])
            if b.get("accessory") is not None:
                acc = b["accessory"]
                self.element(acc, f"{path}.accessory({_tname(acc)})", SECTION_ACCESSORY_TYPES, "as a section accessory")
        elif btype == "header":
            self.text(b.get("text"), path, "text", LIMITS["header_text"], plain_only=True, required=True)
        elif btype == "context":
            els = self.count(b.get("elements"), path, "elements", lo=1, hi=LIMITS["context_elements"], required=True)
            for ei, e in enumerate(els):
                ep = f"{path}.elements[{ei}]({_tname(e)})"
                if isinstance(e, dict) and e.get("type") in ("plain_text", "mrkdwn"):
                    self.text(e, ep, "text", LIMITS["text_object"])
                elif isinstance(e, dict) and e.get("type") == "image":
                    self.element(e, ep, {"image"}, "in a context block")
                else:
                    self.add(ep, "context elements must be text objects or images")
        elif btype == "actions":
            els = self.count(b.get("elements"), path, "elements", lo=1, hi=LIMITS["actions_elements"], required=True)
            ids = []
            for ei, e in enumerate(els):
                ep = f"{path}.elements[{ei}]({_tname(e)})"
                aid = self.element(e, ep, ACTIONS_ELEMENT_TYPES, "in an actions block")
                if aid is not None:
                    ids.append((aid, f"elements[{ei}]"))
            self._action_ids(path, ids)
        elif btype == "input":
            self.text(b.get("label"), path, "label", LIMITS["input_label"], plain_only=True, required=True)
            self.text(b.get("hint"), path, "hint", LIMITS["input_hint"], plain_only=True)
            el = b.get("element")
            if el is None:
                self.add(path, "element is required")
            else:
                self.element(el, f"{path}.element({_tname(el)})", INPUT_ELEMENT_TYPES, "in an input block")
            for k in ("optional", "dispatch_action"):
                if k in b and not isinstance(b[k], bool):
                    self.add(path, f"{k} must be true/false, got {b[k]!r}")
        elif btype == "image":
            if not b.get("image_url") and not b.get("slack_file"):
                self.add(path, "image_url or slack_file is required")
            self.string(b.get("image_url"), path, "image_url", LIMITS["image_url"])
            self.string(b.get("alt_text"), path, "alt_text", LIMITS["image_alt_text"], required=True)
            self.text(b.get("title"), path, "title", LIMITS["image_title"], plain_only=True)
        elif btype == "video":
            self.text(b.get("title"), path, "title", LIMITS["video_title"], plain_only=True, required=True)
            for k in ("alt_text", "video_url", "thumbnail_url"):
                if not b.get(k):
                    self.add(path, f"{k} is required")
        elif btype == "markdown":
            self.string(b.get("text"), path, "text", LIMITS["markdown_text"], required=True)
        elif btype == "rich_text":
            self.count(b.get("elements"), path, "elements", required=True)
        # divider, file, table, call: nothing we check

"""Slack request signing and payloads (what Slack itself would send), and what the apps send back.

The minimal apps under test (serving_stacks.py) open `escalation_modal()` and post
`postmessage_text(summary)`; the load generator's keys ride in trigger_id, the summary input and
that text, so the stand-in can tell which request caused which Web API call.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import urllib.parse
from typing import Any

SLACK_PATH = "/slack/events"
SIGNING_SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-test"
MODAL_CALLBACK_ID = "escalate_modal"
BENCH_KEY = re.compile(r"benchkey-[A-Za-z0-9_.-]+")  # correlation key inside any Web API call's arguments


def sign_headers(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack adds to every request: v0 HMAC-SHA256 over 'v0:{ts}:{raw body}'."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    basestring = b"v0:" + ts.encode() + b":" + body
    digest = hmac.new(secret.encode(), basestring, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }


def slash_command_body(trigger_id: str, command: str = "/escalate", text: str = "") -> bytes:
    """Form-encoded slash command; trigger_id doubles as the correlation key."""
    return urllib.parse.urlencode(
        {
            "token": "legacy-verification-token-unused",
            "team_id": "T1",
            "team_domain": "bench",
            "channel_id": "C1",
            "channel_name": "escalations",
            "user_id": "U1",
            "user_name": "bench",
            "command": command,
            "text": text,
            "api_app_id": "A1",
            "is_enterprise_install": "false",
            "response_url": "https://hooks.slack.com/commands/T1/1/bench",
            "trigger_id": trigger_id,
        }
    ).encode()


def view_submission_body(key: str, callback_id: str = MODAL_CALLBACK_ID) -> bytes:
    """Form-encoded `payload=<json>`; the summary input value doubles as correlation key."""
    payload = {
        "type": "view_submission",
        "team": {"id": "T1", "domain": "bench"},
        "user": {"id": "U1", "username": "bench", "name": "bench", "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy-verification-token-unused",
        "trigger_id": f"trig-{key}",
        "view": {
            "id": "V1",
            "team_id": "T1",
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": "",
            "hash": "1700000000.abcdef",
            "title": {"type": "plain_text", "text": "Escalate"},
            "blocks": [],
            "state": {"values": {"summary_block": {"summary": {"type": "plain_text_input", "value": key}}}},
            "app_id": "A1",
            "bot_id": "B1",
        },
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return urllib.parse.urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode()


def postmessage_text(key: str) -> str:
    """Text the view_submission listener posts; the stand-in indexes chat.postMessage by it."""
    return f"Escalation: {key}"


def escalation_modal() -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": MODAL_CALLBACK_ID,
        "title": {"type": "plain_text", "text": "Escalate"},
        "submit": {"type": "plain_text", "text": "Submit"},
        "blocks": [
            {
                "type": "input",
                "block_id": "summary_block",
                "label": {"type": "plain_text", "text": "Summary"},
                "element": {"type": "plain_text_input", "action_id": "summary"},
            }
        ],
    }

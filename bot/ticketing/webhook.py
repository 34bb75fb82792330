"""The outgoing webhook: each running-log entry POSTed as JSON, signed like Slack signs its requests.

    X-Escalation-Timestamp: <unix seconds>
    X-Escalation-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
    X-Escalation-Delivery:  <outbox id> (the same on every retry: receivers can drop duplicates)

Receivers recompute the signature over the raw body and reject old timestamps (README "Ticketing").
"""

from __future__ import annotations

import hashlib
import hmac
import json

from bot.ticketing.http import request


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class WebhookSender:
    system = "webhook"

    def __init__(self, url: str, secret: str) -> None:
        self.url = url
        self.secret = secret

    def send(self, payload: dict, *, delivery_id: str, timestamp: int, timeout: float) -> None:
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        ts = str(timestamp)
        headers = {
            "Content-Type": "application/json",
            "X-Escalation-Timestamp": ts,
            "X-Escalation-Signature": signature(self.secret, ts, body),
            "X-Escalation-Delivery": delivery_id,
        }
        request("POST", self.url, headers=headers, body=body, timeout=timeout, what="webhook")

"""Requests built by tests.support.slack_requests are signed and shaped like Slack's."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from slack_bolt import App, BoltRequest
from slack_sdk.signature import SignatureVerifier

from tests.support import slack_requests as sr
from tests.support.fake_slack import FakeSlack

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"

MODAL = {
    "type": "modal",
    "callback_id": "escalation_submit",
    "private_metadata": '{"channel":"C0SUPPORT"}',
    "title": {"type": "plain_text", "text": "Escalate"},
    "submit": {"type": "plain_text", "text": "Send"},
    "blocks": [
        {
            "type": "input",
            "block_id": "summary",
            "label": {"type": "plain_text", "text": "Summary"},
            "element": {"type": "plain_text_input", "action_id": "summary_input"},
        },
        {
            "type": "input",
            "block_id": "severity",
            "label": {"type": "plain_text", "text": "Severity"},
            "element": {
                "type": "static_select",
                "action_id": "severity_select",
                "options": [
                    {"text": {"type": "plain_text", "text": "SEV1"}, "value": "sev1"},
                    {"text": {"type": "plain_text", "text": "SEV2"}, "value": "sev2"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "due",
            "optional": True,
            "label": {"type": "plain_text", "text": "Due"},
            "element": {"type": "datepicker", "action_id": "due_date"},
        },
        {
            "type": "input",
            "block_id": "started",
            "label": {"type": "plain_text", "text": "Started"},
            "element": {"type": "datetimepicker", "action_id": "started_at"},
        },
    ],
}


# --------------------------------------------------------------------------- signing


def test_sign_matches_slack_sdk_verifier():
    body = "token=x&team_id=T0001&text=hello+world"
    ts = int(time.time())
    headers = sr.sign(SECRET, body, ts)
    assert headers["X-Slack-Request-Timestamp"] == str(ts)
    verifier = SignatureVerifier(SECRET)
    assert headers["X-Slack-Signature"] == verifier.generate_signature(timestamp=str(ts), body=body)
    assert verifier.is_valid_request(body, headers)
    assert sr.sign(SECRET, body.encode(), ts) == headers  # bytes and str agree
    assert sr.sign(SECRET, "é", ts) == sr.sign(SECRET, "é".encode(), ts)


def test_sign_defaults_to_now_and_detects_tampering():
    body, _ = sr.slash_command(text="checkout down")
    headers = sr.sign(SECRET, body)
    assert abs(int(headers["X-Slack-Request-Timestamp"]) - time.time()) < 5
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid_request(body, headers)
    assert not verifier.is_valid_request(body + "x", headers)
    assert not SignatureVerifier("other").is_valid_request(body, headers)
    stale = sr.sign(SECRET, body, int(time.time()) - 600)
    assert not verifier.is_valid_request(body, stale)  # older than 5 minutes


# --------------------------------------------------------------------------- shapes


def test_slash_command_shape():
    body, ctype = sr.slash_command("/escalate", "SEV2 checkout", user_id="U42", channel_id="C0SUPPORT")
    assert ctype == "application/x-www-form-urlencoded"
    f = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
    assert f["command"] == "/escalate" and f["text"] == "SEV2 checkout"
    assert f["user_id"] == "U42" and f["channel_id"] == "C0SUPPORT" and f["team_id"] == "T0001"
    assert f["response_url"].startswith("https://hooks.slack.com/commands/T0001/")
    assert len(f["trigger_id"].split(".")) == 3
    for k in ("token", "team_domain", "channel_name", "user_name", "api_app_id"):
        assert f[k]
    assert sr.slash_command()[0] != sr.slash_command()[0]  # fresh trigger_id each time


def _payload(body: str) -> dict:
    assert body.startswith("payload=")
    return json.loads(parse_qs(body)["payload"][0])


def test_view_submission_expands_shorthand_values_like_slack():
    body, ctype = sr.view_submission(
        MODAL,
        {"summary": {"summary_input": "Checkout 500s"}, "severity": {"severity_select": "sev2"}, "started": {"started_at": 1700000000}},
        user_id="U42",
    )
    p = _payload(body)
    assert ctype == sr.FORM and p["type"] == "view_submission"
    assert p["user"] == {"id": "U42", "username": "u42", "name": "u42", "team_id": "T0001"}
    assert p["team"]["id"] == "T0001" and p["api_app_id"] and p["trigger_id"]
    v = p["view"]
    assert v["callback_id"] == "escalation_submit" and v["private_metadata"] == '{"channel":"C0SUPPORT"}'
    assert v["id"].startswith("V") and v["hash"] and v["root_view_id"] == v["id"]
    values = v["state"]["values"]
    assert values["summary"]["summary_input"] == {"type": "plain_text_input", "value": "Checkout 500s"}
    assert values["severity"]["severity_select"] == {
        "type": "static_select",
        "selected_option": {"text": {"type": "plain_text", "text": "SEV2"}, "value": "sev2"},
    }
    assert values["due"]["due_date"] == {"type": "datepicker", "selected_date": None}  # empty but present
    assert values["started"]["started_at"] == {"type": "datetimepicker", "selected_date_time": 1700000000}


def test_view_submission_uses_exact_values_and_overrides_metadata():
    exact = {"summary": {"summary_input": {"type": "plain_text_input", "value": "x"}}}
    p = _payload(sr.view_submission(MODAL, exact, private_metadata="pm")[0])
    assert p["view"]["state"]["values"]["summary"]["summary_input"] == {"type": "plain_text_input", "value": "x"}
    assert p["view"]["private_metadata"] == "pm"


def test_block_actions_shapes():
    message = {
        "ts": "1700000000.000100",
        "text": "brief",
        "blocks": [
            {
                "type": "actions",
                "block_id": "brief_actions",
                "elements": [
                    {"type": "button", "action_id": "ack", "text": {"type": "plain_text", "text": "Acknowledge"}, "value": "esc-1"},
                ],
            }
        ],
    }
    p = _payload(sr.block_actions("ack", message=message, channel_id="C0ENG")[0])
    assert p["type"] == "block_actions"
    assert p["container"] == {"type": "message", "message_ts": "1700000000.000100", "channel_id": "C0ENG", "is_ephemeral": False}
    assert p["channel"]["id"] == "C0ENG" and p["message"]["ts"] == "1700000000.000100"
    a = p["actions"][0]
    assert a["action_id"] == "ack" and a["block_id"] == "brief_actions" and a["type"] == "button"
    assert a["value"] == "esc-1" and a["text"]["text"] == "Acknowledge" and a["action_ts"]
    assert p["response_url"].startswith("https://hooks.slack.com/actions/")

    opt = {"text": {"type": "plain_text", "text": "SEV1"}, "value": "sev1"}
    p = _payload(sr.block_actions("severity_select", view=MODAL, selected_option=opt)[0])
    assert p["container"]["type"] == "view" and p["container"]["view_id"] == p["view"]["id"]
    assert p["actions"][0]["type"] == "static_select" and p["actions"][0]["selected_option"] == opt
    assert p["actions"][0]["block_id"] == "severity"
    assert "response_url" not in p


def test_message_shortcut_and_event_shapes():
    p = _payload(sr.message_shortcut("escalate_message", "Checkout is down for ACME", "1700000000.000200", "C0SUPPORT")[0])
    assert p["type"] == "message_action" and p["callback_id"] == "escalate_message"
    assert p["message"]["text"] == "Checkout is down for ACME" and p["message"]["user"] == "U999"
    assert p["message_ts"] == p["message"]["ts"] == "1700000000.000200"
    assert p["channel"]["id"] == "C0SUPPORT" and p["response_url"] and p["trigger_id"]

    body, ctype = sr.event_callback(
        {"type": "app_mention", "user": "U1", "text": "<@UBOT> hi", "ts": "1.0", "channel": "C1", "event_ts": "1.0"}, event_id="Ev1"
    )
    e = json.loads(body)
    assert ctype == "application/json" and e["type"] == "event_callback" and e["event_id"] == "Ev1"
    assert e["authorizations"][0]["user_id"] == "UBOT" and e["authorizations"][0]["is_bot"] is True
    assert isinstance(e["event_time"], int) and e["team_id"] == "T0001" and e["api_app_id"]


# --------------------------------------------------------------------------- end to end through bolt


class _BoltEndpoint:
    """A bolt App behind a tiny HTTP server, with FakeSlack as its Web API."""

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        self.seen: dict[str, object] = {}
        app = App(token="xoxb-test", signing_secret=SECRET, client=fake.client(), process_before_response=True)
        self.app = app

        @app.command("/escalate")
        def on_command(ack, command, client):
            self.seen["command"] = command
            client.views_open(trigger_id=command["trigger_id"], view=MODAL)
            ack()

        @app.view("escalation_submit")
        def on_submit(ack, view):
            self.seen["view"] = view
            summary = view["state"]["values"]["summary"]["summary_input"]["value"]
            if len(summary) < 5:
                ack(response_action="errors", errors={"summary": "Say a bit more"})
            else:
                ack()

        @app.action("ack")
        def on_ack(ack, action, body):
            self.seen["action"] = (action, body)
            ack()

        @app.shortcut("escalate_message")
        def on_shortcut(ack, shortcut):
            self.seen["shortcut"] = shortcut
            ack()

        @app.event("app_mention")
        def on_mention(event):
            self.seen["event"] = event

        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
                resp = endpoint.app.dispatch(BoltRequest(body=raw, headers={k.lower(): [v] for k, v in self.headers.items()}))
                data = resp.body.encode("utf-8")
                self.send_response(resp.status)
                for k, vs in resp.headers.items():
                    if k.lower() != "content-length":
                        for v in vs:
                            self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self.thread.start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(2)


@pytest.fixture
def bot():
    with FakeSlack() as fake:
        fake.add_channel("C0SUPPORT", "support")
        endpoint = _BoltEndpoint(fake)
        with sr.SlackSender(endpoint.base_url, SECRET) as sender:
            yield endpoint, sender, fake
        endpoint.close()


def test_command_then_submit_the_opened_modal(bot):
    endpoint, sender, fake = bot
    r = sender.command("/escalate", "checkout down", user_id="U42")
    assert r.status_code == 200
    assert endpoint.seen["command"]["text"] == "checkout down" and endpoint.seen["command"]["user_id"] == "U42"
    opened = fake.last("views.open")
    assert opened.args["trigger_id"] == endpoint.seen["command"]["trigger_id"]

    # submit the view exactly as FakeSlack answered it (id, hash, ...)
    r = sender.submit_view(opened, {"summary": {"summary_input": "no"}, "severity": {"severity_select": "sev1"}})
    assert r.status_code == 200 and r.json() == {"response_action": "errors", "errors": {"summary": "Say a bit more"}}
    assert endpoint.seen["view"]["id"] == opened.response["view"]["id"]
    r = sender.submit_view(opened.response["view"], {"summary": {"summary_input": "Checkout 500s for EU"}})
    assert r.status_code == 200 and r.text == ""
    fake.assert_no_violations()


def test_action_on_a_posted_message(bot):
    endpoint, sender, fake = bot
    posted = fake.client().chat_postMessage(
        channel="C0SUPPORT",
        text="brief",
        blocks=[
            {
                "type": "actions",
                "block_id": "b1",
                "elements": [{"type": "button", "action_id": "ack", "text": {"type": "plain_text", "text": "Ack"}, "value": "esc-9"}],
            }
        ],
    )
    r = sender.action("ack", message=posted["message"], channel_id=posted["channel"])
    assert r.status_code == 200
    action, body = endpoint.seen["action"]
    assert action["value"] == "esc-9" and action["block_id"] == "b1"
    assert body["container"]["message_ts"] == posted["ts"] and body["channel"]["id"] == "C0SUPPORT"


def test_shortcut_and_event(bot):
    endpoint, sender, fake = bot
    human = fake.seed_message("C0SUPPORT", "ACME cannot log in", user="U777")
    r = sender.shortcut("escalate_message", human["text"], human["ts"], "C0SUPPORT", message_user="U777")
    assert r.status_code == 200
    assert endpoint.seen["shortcut"]["message"]["text"] == "ACME cannot log in"

    ev = {"type": "app_mention", "user": "U1", "text": "<@UBOT> status?", "ts": "1700000001.000100", "channel": "C0SUPPORT", "event_ts": "1700000001.000100"}
    r = sender.event(ev)
    assert r.status_code == 200 and endpoint.seen["event"]["text"] == "<@UBOT> status?"
    r = sender.post(*sr.url_verification("abc"))
    assert r.status_code == 200 and r.json() == {"challenge": "abc"}


def test_bad_and_stale_signatures_are_rejected(bot):
    endpoint, sender, fake = bot
    assert sender.command(signature="v0=" + "0" * 64).status_code == 401
    assert sender.command(timestamp=int(time.time()) - 10 * 60).status_code == 401
    assert "command" not in endpoint.seen
    assert fake.calls("views.open") == []
    assert sr.SlackSender(endpoint.base_url, "wrong-secret").command().status_code == 401


def test_event_retry_headers(bot):
    endpoint, sender, fake = bot
    ev = {"type": "app_mention", "user": "U1", "text": "again", "ts": "1.0", "channel": "C0SUPPORT", "event_ts": "1.0"}
    r = sender.event(ev, retry_num=1)
    assert r.status_code == 200  # bolt acks retries; the listener may still run
    assert r.request.headers["X-Slack-Retry-Num"] == "1" and r.request.headers["X-Slack-Retry-Reason"] == "http_timeout"

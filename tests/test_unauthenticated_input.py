"""Nothing is parsed before the signature holds (issue 16, item 3), tried over HTTP as an attacker would:
an oversized body is refused without being read, anything unsigned is a 401 whatever it contains, and
a signed body that is not one of Slack's payloads is a 400, never a 500 or a traceback."""

from __future__ import annotations

import logging
import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest

from bot.slack.requests import MAX_BODY_BYTES, signed_by_slack
from tests.conftest import AGENT, SIGNING_SECRET, TEAM
from tests.e2e import wait_until
from tests.support.slack_requests import sign, slash_command

EVENTS = "/slack/events"

# What Slack never sends: broken JSON, JSON that is not an object, a broken interactive payload,
# bytes that are not UTF-8.
MALFORMED: list[tuple[bytes, str]] = [
    (b"{not json", "application/json"),
    (b"[1,2,3]", "application/json"),
    (b"null", "application/json"),
    (b'"a string"', "application/json"),
    (b"payload=%7Bnope", "application/x-www-form-urlencoded"),
    (b"payload=%5B1%2C2%5D", "application/x-www-form-urlencoded"),
    (b"\xff\xfe\xfa not utf-8", "application/x-www-form-urlencoded"),
    (b"{\xff}", "application/json"),
]


def _post(bot, body: bytes, ctype: str, headers: dict[str, str | bytes] | None = None) -> httpx.Response:
    return httpx.post(f"{bot.url}{EVENTS}", content=body, headers={"Content-Type": ctype, **(headers or {})}, timeout=10)


def _no_errors_logged(caplog) -> None:
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [f"{r.name}: {r.getMessage()}" for r in bad]


@pytest.mark.parametrize(("body", "ctype"), MALFORMED)
def test_an_unsigned_malformed_body_is_a_401_and_logs_no_error(bot, caplog, body, ctype):
    caplog.set_level(logging.INFO)
    assert _post(bot, body, ctype).status_code == 401
    assert _post(bot, body, ctype, {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"}).status_code == 401
    _no_errors_logged(caplog)


@pytest.mark.parametrize(("body", "ctype"), MALFORMED)
def test_a_signed_malformed_body_is_a_400_logged_as_a_warning(bot, caplog, body, ctype):
    caplog.set_level(logging.INFO)
    calls = len(_requests_made(bot))
    response = _post(bot, body, ctype, sign(SIGNING_SECRET, body))
    assert response.status_code == 400
    _no_errors_logged(caplog)
    assert any("not a Slack payload" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)
    assert len(_requests_made(bot)) == calls  # nothing reached Slack


def _requests_made(bot) -> list:
    """Slack calls a request caused (not the start-up warm-up of channel members, which may still be running)."""
    return [c for c in bot.slack.calls() if c.method != "conversations.members"]


@pytest.mark.parametrize("timestamp", ["abc", "", "1e9", "-5", "١٢٣", "9" * 40])
def test_a_timestamp_that_is_not_unix_seconds_is_a_401(bot, caplog, timestamp):
    caplog.set_level(logging.INFO)
    body, ctype = slash_command(user_id=AGENT, team_id=TEAM)
    headers = {**sign(SIGNING_SECRET, body), "X-Slack-Request-Timestamp": timestamp.encode()}  # bytes: non-ASCII digits too
    assert _post(bot, body.encode(), ctype, headers).status_code == 401
    _no_errors_logged(caplog)


def test_a_body_over_the_limit_is_refused_by_its_content_length_without_being_read(bot):
    """The attacker announces 64 MiB and sends 1 KiB: the answer comes at once, not after a read
    that would wait for (and hold) the rest."""
    url = urlsplit(bot.url)
    with socket.create_connection((url.hostname, url.port), timeout=5) as conn:
        conn.sendall(
            f"POST {EVENTS} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: application/json\r\nContent-Length: {64 * 1024 * 1024}\r\n\r\n".encode()
            + b"{" * 1024
        )
        started = time.monotonic()
        answer = conn.recv(1024)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:80]
    assert time.monotonic() - started < 3


def test_a_streamed_body_over_the_limit_is_cut_off(bot):
    def chunks():
        block = b"x" * 65536
        for _ in range(MAX_BODY_BYTES // len(block) + 2):
            yield block

    response = httpx.post(f"{bot.url}{EVENTS}", content=chunks(), headers={"Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 413


def test_a_body_at_the_limit_is_still_checked_as_usual(bot):
    body = b"x" * MAX_BODY_BYTES
    assert _post(bot, body, "application/x-www-form-urlencoded").status_code == 401  # read whole, then refused: unsigned


def test_the_signature_check_is_slacks_own():
    """Same verdicts as slack_sdk's SignatureVerifier on what both can read."""
    from slack_sdk.signature import SignatureVerifier

    now = time.time()
    body = "token=x&team_id=T1&text=%E2%9C%93"
    headers = sign(SIGNING_SECRET, body)
    ts, signature = headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    verifier = SignatureVerifier(SIGNING_SECRET)
    for case_ts, case_sig, case_body in [
        (ts, signature, body),
        (ts, signature, body + "x"),
        (str(int(ts) - 301), signature, body),
        (ts, "v0=" + "0" * 64, body),
    ]:
        assert signed_by_slack(SIGNING_SECRET.encode(), case_body.encode(), case_ts, case_sig, now=now) == verifier.is_valid(case_body, case_ts, case_sig)


def test_a_signed_click_replayed_within_five_minutes_acts_once(bot):
    """An attacker who captured one signed click (here: the agent's Snooze on a check-in nudge) sends
    the same bytes with the same headers three more times, inside the signature's five minutes."""
    from datetime import timedelta

    from blocks import ids
    from bot.domain.brief import Destination
    from tests.conftest import CHANNELS
    from tests.support.slack_requests import block_actions
    from tests.test_follow_through import log_kinds, post_brief, tick_at, timers

    eng = CHANNELS[Destination.ENGINEERING][0]
    escalation_id = post_brief(bot, "high")
    tick_at(bot, timedelta(hours=4))
    nudge = [c for c in bot.slack.calls("chat.postMessage") if c.args.get("thread_ts") and "check in" in c.args["text"]][-1]
    body, ctype = block_actions(
        f"{ids.ACTION_SNOOZE_PREFIX}60",
        message=nudge.response["message"],
        channel_id=eng,
        user_id=AGENT,
        team_id=TEAM,
        response_url=f"{bot.slack.hooks_url}actions/r1",
    )
    headers = {"Content-Type": ctype, **sign(SIGNING_SECRET, body)}
    assert httpx.post(f"{bot.url}{EVENTS}", content=body, headers=headers).status_code == 200
    wait_until(lambda: "snoozed" in log_kinds(bot, escalation_id), what="the snooze")
    due = timers(bot, escalation_id)["checkin"].next_due_at
    bot.clock.advance(timedelta(minutes=3))  # the bot's clock moves on; the signature is still fresh
    for _ in range(3):
        assert httpx.post(f"{bot.url}{EVENTS}", content=body, headers=headers).status_code == 200
    time.sleep(0.3)
    assert log_kinds(bot, escalation_id).count("snoozed") == 1
    assert timers(bot, escalation_id)["checkin"].next_due_at == due
    assert len(bot.slack.calls("response_url")) == 1  # one confirmation, for the one real click

"""HTTP mode: only requests signed exactly as Slack signs them are served; health follows the database."""

from __future__ import annotations

import time

import httpx
from sqlmodel import select

from bot.storage.models import Escalation
from tests.conftest import AGENT, TEAM
from tests.e2e import open_modal, state_for
from tests.factories import draft
from tests.support.slack_requests import slash_command, view_submission


def test_a_wrong_signature_gets_401_and_changes_nothing(bot):
    view = open_modal(bot)
    calls_before = _requests_made(bot)
    body, ctype = view_submission(view, state_for(view, draft()), user_id=AGENT, team_id=TEAM)
    response = bot.sender.post(body, ctype, signature="v0=" + "0" * 64)
    assert response.status_code == 401
    body, ctype = slash_command(user_id=AGENT, team_id=TEAM)
    assert bot.sender.post(body, ctype, signature="v0=deadbeef").status_code == 401
    time.sleep(0.2)
    assert _requests_made(bot) == calls_before
    with bot.db.session() as s:
        assert list(s.exec(select(Escalation))) == []


def test_a_stale_timestamp_gets_401(bot):
    body, ctype = slash_command(user_id=AGENT, team_id=TEAM)
    stale = int(time.time()) - 301
    assert bot.sender.post(body, ctype, timestamp=stale).status_code == 401
    fresh = int(time.time()) - 240
    assert bot.sender.post(body, ctype, timestamp=fresh).status_code == 200


def test_unsigned_requests_are_refused(bot):
    body, ctype = slash_command(user_id=AGENT, team_id=TEAM)
    assert httpx.post(f"{bot.url}/slack/events", content=body, headers={"Content-Type": ctype}).status_code == 401


def test_healthz_follows_the_database(bot):
    assert httpx.get(f"{bot.url}/healthz").status_code == 200
    bot.services.db.ping = lambda: False  # the database stops answering
    response = httpx.get(f"{bot.url}/healthz")
    assert response.status_code == 503 and "database" in response.json()["status"]


def test_the_command_is_acknowledged_at_once(bot):
    """Ack first: the HTTP answer does not wait for views.open."""
    bot.slack.fail("views.open", delay=1.5)  # a slow Slack
    started = time.monotonic()
    body, ctype = slash_command(user_id=AGENT, team_id=TEAM)
    response = bot.sender.post(body, ctype)
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert elapsed < 1.0, elapsed  # generous for a loaded CI machine; typically ~10 ms
    bot.slack.wait_for("views.open", answered=False)


def test_a_burst_of_first_requests_makes_one_auth_test(bot):
    import concurrent.futures

    def one(_):
        body, ctype = slash_command(user_id=AGENT, team_id=TEAM)
        return bot.sender.post(body, ctype).status_code

    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        assert set(pool.map(one, range(20))) == {200}
    bot.slack.wait_for("views.open", count=20)
    assert len(bot.slack.calls("auth.test")) == 1
    assert all(c.token == "xoxb-test-token" for c in bot.slack.calls("views.open"))


def test_a_stale_or_forged_submission_changes_nothing(bot):
    """A replayed (older than 5 minutes) or re-signed-with-the-wrong-secret brief is refused whole."""
    from tests.support.slack_requests import sign

    view = open_modal(bot)
    calls_before = _requests_made(bot)
    body, ctype = view_submission(view, state_for(view, draft()), user_id=AGENT, team_id=TEAM)
    assert bot.sender.post(body, ctype, timestamp=int(time.time()) - 301).status_code == 401
    forged = sign("f" * 32, body)
    response = httpx.post(f"{bot.url}/slack/events", content=body, headers={"Content-Type": ctype, **forged})
    assert response.status_code == 401
    event = '{"type": "event_callback", "event_id": "Ev0FORGED", "team_id": "T0001", "event": {"type": "reaction_added"}}'
    assert httpx.post(f"{bot.url}/slack/events", content=event, headers={"Content-Type": "application/json", **sign("f" * 32, event)}).status_code == 401
    time.sleep(0.2)
    assert _requests_made(bot) == calls_before
    with bot.db.session() as s:
        assert list(s.exec(select(Escalation))) == []
        from bot.storage.models import SlackEvent

        assert list(s.exec(select(SlackEvent))) == []  # a refused event is not even remembered


def _requests_made(bot) -> int:
    """Slack calls so far, not counting the start-up warm-up of channel members (it may still be running)."""
    return len([c for c in bot.slack.calls() if c.method != "conversations.members"])

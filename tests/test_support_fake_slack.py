"""FakeSlack behaves like Slack as seen by slack_sdk's WebClient and AsyncWebClient."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import types

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_handlers
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient

from tests.support.fake_slack import FakeSlack, Fault, fake_slack  # noqa: F401 - fixture


@pytest.fixture
def client(fake_slack: FakeSlack) -> WebClient:
    return WebClient(base_url=fake_slack.base_url, token="xoxb-test", timeout=2)


MODAL = {
    "type": "modal",
    "callback_id": "escalate",
    "title": {"type": "plain_text", "text": "Escalate"},
    "submit": {"type": "plain_text", "text": "Send"},
    "blocks": [
        {
            "type": "input",
            "block_id": "summary",
            "label": {"type": "plain_text", "text": "Summary"},
            "element": {"type": "plain_text_input", "action_id": "summary_input"},
        }
    ],
}


# --------------------------------------------------------------------------- lifecycle


def test_starts_and_stops_fast_on_a_free_port_without_leaks():
    before = set(threading.enumerate())
    t0 = time.perf_counter()
    fake = FakeSlack().start()
    started = time.perf_counter() - t0
    assert fake.base_url.startswith("http://127.0.0.1:") and fake.base_url.endswith("/api/")
    assert fake.port != 0
    port = fake.port
    fake.client().auth_test()
    t1 = time.perf_counter()
    fake.stop()
    stopped = time.perf_counter() - t1
    assert started < 0.05 and stopped < 0.05, (started, stopped)
    assert set(threading.enumerate()) <= before
    with pytest.raises(OSError):  # the listening socket is closed
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()


def test_two_fakes_run_side_by_side():
    with FakeSlack() as a, FakeSlack() as b:
        assert a.port != b.port
        a.client().auth_test()
        assert len(a.calls()) == 1 and b.calls() == []


def test_stop_does_not_wait_for_a_delayed_answer():
    fake = FakeSlack().start()
    fake.fail("auth.test", delay=30)
    t = threading.Thread(target=lambda: _swallow(fake.client(timeout=5, retry_handlers=[]).auth_test))
    t.start()
    fake.wait_for("auth.test", answered=False)
    t0 = time.perf_counter()
    fake.stop()
    assert time.perf_counter() - t0 < 0.5
    t.join(2)
    assert not t.is_alive()


def _swallow(fn):
    try:
        fn()
    except Exception:
        pass


# --------------------------------------------------------------------------- wire format


def test_auth_test(client, fake_slack):
    r = client.auth_test()
    assert r["team_id"] == "T0001" and r["user_id"] == "UBOT" and r["bot_id"] == "BBOT"
    assert r["user"] == "escalation-bot" and r["url"].startswith("https://")
    assert "chat:write" in r.headers["x-oauth-scopes"]
    call = fake_slack.last("auth.test")
    assert call.header("authorization") == "Bearer xoxb-test" and call.token == "xoxb-test"


def test_post_message_json_body_recorded_and_stored(client, fake_slack):
    fake_slack.add_channel("C0ENG", "eng-escalations")
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*SEV2* checkout"}}]
    r1 = client.chat_postMessage(channel="C0ENG", text="SEV2 checkout", blocks=blocks, metadata={"event_type": "brief", "event_payload": {"id": "e1"}})
    r2 = client.chat_postMessage(channel="C0ENG", text="reply", thread_ts=r1["ts"])
    assert r1["ok"] and r1["channel"] == "C0ENG"
    assert r1["ts"] == "1700000000.000100" and float(r2["ts"]) > float(r1["ts"])
    m = r1["message"]
    assert m["text"] == "SEV2 checkout" and m["blocks"] == blocks and m["user"] == "UBOT" and m["bot_id"] == "BBOT"
    assert m["metadata"]["event_type"] == "brief"
    assert r2["message"]["thread_ts"] == r1["ts"]

    call = fake_slack.calls("chat.postMessage")[0]
    assert call.content_type.startswith("application/json")
    assert call.args["blocks"] == blocks  # a real list, not a string
    assert call.received_at <= fake_slack.calls("chat.postMessage")[1].received_at
    stored = fake_slack.messages("C0ENG")
    assert [s["text"] for s in stored] == ["SEV2 checkout", "reply"]
    assert stored[0]["reply_count"] == 1

    hist = client.conversations_history(channel="C0ENG")
    assert [h["text"] for h in hist["messages"]] == ["SEV2 checkout"]  # newest first, replies excluded
    replies = client.conversations_replies(channel="C0ENG", ts=r1["ts"])
    assert [h["text"] for h in replies["messages"]] == ["SEV2 checkout", "reply"]


def test_form_encoded_args_and_json_strings_are_decoded(client, fake_slack):
    fake_slack.add_channel("C1", "support")
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]
    # api_call(params=...) sends a form body; blocks then travel as a JSON string
    client.api_call("chat.postMessage", params={"channel": "C1", "text": "hi", "blocks": json.dumps(blocks)})
    call = fake_slack.last("chat.postMessage")
    assert call.content_type == "application/x-www-form-urlencoded"
    assert call.args["blocks"] == blocks
    client.conversations_info(channel="C1")
    assert fake_slack.last("conversations.info").args == {"channel": "C1"}


def test_async_client_query_strings_and_get(fake_slack):
    fake_slack.add_channel("C1", "support")

    async def go():
        ac = AsyncWebClient(base_url=fake_slack.base_url, token="xoxb-test")
        info = await ac.conversations_info(channel="C1")
        dm = await ac.conversations_open(users="U2")
        posted = await ac.chat_postMessage(channel="C1", text="async")
        return info, dm, posted

    info, dm, posted = asyncio.run(go())
    assert info["channel"]["name"] == "support"
    assert dm["channel"]["id"].startswith("D") and posted["ok"]
    get_call = fake_slack.last("conversations.info")
    assert get_call.http_method == "GET" and get_call.query == {"channel": "C1"}
    post_call = fake_slack.last("conversations.open")
    assert post_call.http_method == "POST" and post_call.query == {"users": "U2"} and post_call.raw_body == b""
    assert post_call.args == {"users": "U2"}


# --------------------------------------------------------------------------- auth


@pytest.mark.parametrize(
    "token,error",
    [(None, "not_authed"), ("garbage", "invalid_auth"), ("xapp-1-A-1-x", "not_allowed_token_type")],
)
def test_auth_errors(fake_slack, token, error):
    c = WebClient(base_url=fake_slack.base_url, token=token)
    with pytest.raises(SlackApiError) as e:
        c.auth_test()
    assert e.value.response["error"] == error and e.value.response.status_code == 200


def test_configured_token_must_match():
    with FakeSlack(bot_token="xoxb-right", app_token="xapp-right") as fake:
        fake.client("xoxb-right").auth_test()
        with pytest.raises(SlackApiError, match="invalid_auth"):
            fake.client("xoxb-wrong").auth_test()
        assert fake.client("xapp-right").apps_connections_open(app_token="xapp-right")["url"].startswith("wss://")
        with pytest.raises(SlackApiError, match="not_allowed_token_type"):
            fake.client("xoxb-right").apps_connections_open(app_token="xoxb-right")


# --------------------------------------------------------------------------- channels, users


def test_channel_registry_rules(client, fake_slack):
    fake_slack.add_channel("C0PUB", "public-not-member", is_member=False)
    fake_slack.add_channel("C0PRIV", "private-not-member", is_member=False, is_private=True)
    fake_slack.add_channel("C0ARCH", "archived", is_archived=True)

    def err(**kw):
        with pytest.raises(SlackApiError) as e:
            client.chat_postMessage(text="x", **kw)
        return e.value.response["error"]

    assert err(channel="C0NOPE") == "channel_not_found"
    assert err(channel="C0ARCH") == "is_archived"
    assert err(channel="C0PRIV") == "channel_not_found"  # private + not a member: invisible
    assert client.chat_postMessage(channel="C0PUB", text="x")["ok"]  # chat:write.public
    assert client.chat_postMessage(channel="#archived".replace("archived", "public-not-member"), text="x")["channel"] == "C0PUB"

    info = client.conversations_info(channel="C0PUB")["channel"]
    assert info == {**info, "id": "C0PUB", "name": "public-not-member", "is_channel": True, "is_private": False, "is_archived": False, "is_member": False}
    with pytest.raises(SlackApiError, match="channel_not_found"):
        client.conversations_info(channel="C0NOPE")


def test_conversations_members_default_page_limits_and_errors(client, fake_slack):
    people = [f"U{n:08d}" for n in range(250)]
    fake_slack.add_channel("C0BIG", "big", members=people)
    fake_slack.add_channel("C0PRIV", "private-not-member", is_member=False, is_private=True, members=["U1"])
    first = client.conversations_members(channel="C0BIG")  # Slack's default page: 100
    assert first["members"] == people[:100] and first["response_metadata"]["next_cursor"]
    seen, cursor = list(first["members"]), first["response_metadata"]["next_cursor"]
    while cursor:
        page = client.conversations_members(channel="C0BIG", cursor=cursor, limit=70)
        seen += page["members"]
        cursor = page["response_metadata"]["next_cursor"]
    assert seen == people
    assert client.conversations_members(channel="C0BIG", limit=1000)["response_metadata"]["next_cursor"] == ""
    for channel, error in (("C0NOPE", "channel_not_found"), ("C0PRIV", "channel_not_found")):
        with pytest.raises(SlackApiError, match=error):
            client.conversations_members(channel=channel)
    with pytest.raises(SlackApiError, match="invalid_cursor"):
        client.conversations_members(channel="C0BIG", cursor="not-a-cursor!")


def test_not_in_channel_without_public_posting():
    with FakeSlack(public_posting=False) as fake:
        fake.add_channel("C0PUB", "pub", is_member=False)
        with pytest.raises(SlackApiError) as e:
            fake.client().chat_postMessage(channel="C0PUB", text="x")
        assert e.value.response["error"] == "not_in_channel"
        assert "chat:write.public" not in e.value.response.headers["x-oauth-scopes"]


def test_dms_always_work(client, fake_slack):
    dm = client.conversations_open(users="U123")["channel"]["id"]
    assert dm.startswith("D") and client.conversations_open(users="U123")["channel"]["id"] == dm
    r = client.chat_postMessage(channel="U123", text="hello")  # user id as channel
    assert r["channel"] == dm
    assert client.chat_postMessage(channel=dm, text="again")["ok"]
    assert client.conversations_info(channel=dm)["channel"]["is_im"] is True
    assert fake_slack.dm_channel("U123") == dm


def test_users_info(client, fake_slack):
    fake_slack.add_user("U1", "ana", tz="America/Los_Angeles", tz_offset=-28800, tz_label="Pacific Standard Time")
    u = client.users_info(user="U1")["user"]
    assert u["tz"] == "America/Los_Angeles" and u["tz_offset"] == -28800 and u["tz_label"] == "Pacific Standard Time"
    assert u["real_name"] == "ana" and u["profile"]["display_name"] == "ana"
    d = client.users_info(user="U404")["user"]
    assert d["id"] == "U404" and d["tz"] == "UTC" and d["tz_offset"] == 0
    fake_slack.add_user("U2", "kenji", tz="Asia/Tokyo")
    assert client.users_info(user="U2")["user"]["tz_offset"] == 9 * 3600  # from the zone


# --------------------------------------------------------------------------- messages


def test_update_ephemeral_permalink_reactions(client, fake_slack):
    fake_slack.add_channel("C1", "support")
    ts = client.chat_postMessage(channel="C1", text="v1")["ts"]
    up = client.chat_update(channel="C1", ts=ts, text="v2")
    assert up["ok"] and up["channel"] == "C1" and up["ts"] == ts and up["text"] == "v2"
    assert fake_slack.message("C1", ts)["text"] == "v2"
    with pytest.raises(SlackApiError, match="message_not_found"):
        client.chat_update(channel="C1", ts="1.000000", text="x")
    human = fake_slack.seed_message("C1", "customer is down", user="U999")
    with pytest.raises(SlackApiError, match="cant_update_message"):
        client.chat_update(channel="C1", ts=human["ts"], text="x")

    eph = client.chat_postEphemeral(channel="C1", user="U123", text="only you")
    assert eph["ok"] and eph["message_ts"] and fake_slack.ephemerals[-1]["user"] == "U123"

    link = client.chat_getPermalink(channel="C1", message_ts=ts)
    assert link["ok"] and link["channel"] == "C1"
    assert link["permalink"] == f"https://example.slack.com/archives/C1/p{ts.replace('.', '')}"

    assert client.reactions_add(channel="C1", timestamp=human["ts"], name="eyes")["ok"]
    with pytest.raises(SlackApiError, match="already_reacted"):
        client.reactions_add(channel="C1", timestamp=human["ts"], name="eyes")


def test_unknown_methods_answer_ok_and_are_recorded(client, fake_slack):
    assert client.api_call("bookmarks.add", params={"channel_id": "C1", "title": "x"})["ok"]
    assert fake_slack.last("bookmarks.add").args == {"channel_id": "C1", "title": "x"}


# --------------------------------------------------------------------------- views


def test_views_lifecycle(client, fake_slack):
    opened = client.views_open(trigger_id="1.2.abc", view=MODAL)["view"]
    assert opened["id"].startswith("V") and opened["hash"] and opened["callback_id"] == "escalate"
    assert opened["state"] == {"values": {}} and opened["root_view_id"] == opened["id"]
    assert fake_slack.last("views.open").args["view"] == MODAL

    with pytest.raises(SlackApiError, match="exchanged_trigger_id"):
        client.views_open(trigger_id="1.2.abc", view=MODAL)

    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view={**MODAL, "title": {"type": "plain_text", "text": "Sent"}})["view"]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    with pytest.raises(SlackApiError, match="hash_conflict"):
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL)
    with pytest.raises(SlackApiError, match="not_found"):
        client.views_update(view_id="VNOPE", view=MODAL)

    ext = client.views_push(trigger_id="1.2.def", view={**MODAL, "external_id": "esc-1"})["view"]
    by_ext = client.views_update(external_id="esc-1", view={**MODAL, "external_id": "esc-1"})["view"]
    assert by_ext["id"] == ext["id"]

    home = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Open briefs: 3"}}]}
    p1 = client.views_publish(user_id="U1", view=home)["view"]
    p2 = client.views_publish(user_id="U1", view=home)["view"]
    assert p1["id"] == p2["id"] and fake_slack.home_view("U1")["blocks"] == home["blocks"]


def test_views_open_requires_trigger_id(client):
    with pytest.raises(SlackApiError) as e:
        client.api_call("views.open", json={"view": MODAL})
    assert e.value.response["error"] == "invalid_arguments"


# --------------------------------------------------------------------------- Block Kit enforcement


def test_invalid_blocks_are_rejected_like_slack(client, fake_slack):
    fake_slack.add_channel("C1", "support")
    with pytest.raises(SlackApiError) as e:
        client.chat_postMessage(channel="C1", text="x", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}])
    resp = e.value.response
    assert resp["error"] == "invalid_blocks"
    assert resp["errors"] == ["blocks[0](section): text is 3001 chars, over 3000"]
    assert fake_slack.violations == ["chat.postMessage: blocks[0](section): text is 3001 chars, over 3000"]
    assert fake_slack.messages("C1") == []
    with pytest.raises(AssertionError, match="over 3000"):
        fake_slack.assert_no_violations()


def test_invalid_view_is_rejected_with_invalid_arguments(client, fake_slack):
    bad = {**MODAL, "title": {"type": "plain_text", "text": "A title that is far too long"}}
    with pytest.raises(SlackApiError) as e:
        client.views_open(trigger_id="t", view=bad)
    assert e.value.response["error"] == "invalid_arguments"
    assert e.value.response["response_metadata"]["messages"] == ["[ERROR] view: title is 28 chars, over 24"]
    assert fake_slack.violations == ["views.open: view: title is 28 chars, over 24"]


def test_missing_fallback_text_is_a_violation(client, fake_slack):
    fake_slack.add_channel("C1", "support")
    # slack_sdk itself only warns client-side; the fake turns it into a violation
    with pytest.raises(SlackApiError, match="invalid_blocks"), pytest.warns(UserWarning, match="`text` argument is missing"):
        client.chat_postMessage(channel="C1", blocks=[{"type": "divider"}])
    assert "fallback" in fake_slack.violations[0]


def test_lenient_mode_records_but_answers_ok():
    with FakeSlack(strict=False) as fake:
        fake.add_channel("C1", "support")
        with pytest.warns(UserWarning):
            r = fake.client().chat_postMessage(channel="C1", blocks=[{"type": "divider"}])
        assert r["ok"] and len(fake.violations) == 1
        assert fake.last("chat.postMessage").violations


def test_valid_calls_leave_no_violations(client, fake_slack):
    fake_slack.add_channel("C1", "support")
    client.chat_postMessage(channel="C1", text="ok", blocks=[{"type": "divider"}])
    client.views_open(trigger_id="t", view=MODAL)
    fake_slack.assert_no_violations()


# --------------------------------------------------------------------------- faults


def test_rate_limit_fault_carries_retry_after(client, fake_slack):
    fake_slack.add_channel("C1", "support")
    fake_slack.fail("chat.postMessage", error="ratelimited", status=429, headers={"Retry-After": "7"})
    with pytest.raises(SlackApiError) as e:
        client.chat_postMessage(channel="C1", text="x")
    assert e.value.response.status_code == 429
    assert e.value.response["error"] == "ratelimited"
    assert e.value.response.headers["Retry-After"] == "7"
    assert client.chat_postMessage(channel="C1", text="x")["ok"]  # only the next call failed


def test_429_defaults_retry_after_and_sdk_retry_handler_obeys_it(fake_slack, monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(builtin_handlers, "time", types.SimpleNamespace(sleep=slept.append))
    fake_slack.add_channel("C1", "support")
    fake_slack.fail("chat.postMessage", status=429, headers={"Retry-After": "7"})
    c = WebClient(base_url=fake_slack.base_url, token="xoxb-test", retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    assert c.chat_postMessage(channel="C1", text="x")["ok"]
    assert [x.status for x in fake_slack.calls("chat.postMessage")] == [429, 200]
    assert len(slept) == 1 and 7 <= slept[0] < 8  # Retry-After + up to 1 s of jitter
    fake_slack.fail("chat.postMessage", status=429)
    with pytest.raises(SlackApiError) as e:
        fake_slack.client().chat_postMessage(channel="C1", text="x")
    assert e.value.response.headers["Retry-After"] == "1" and e.value.response["error"] == "ratelimited"


@pytest.mark.parametrize("status,error", [(500, "internal_error"), (503, "service_unavailable")])
def test_server_errors(client, fake_slack, status, error):
    fake_slack.fail("conversations.info", status=status)
    with pytest.raises(SlackApiError) as e:
        client.conversations_info(channel="C1")
    assert e.value.response.status_code == status and e.value.response["error"] == error


def test_error_fault_and_times(client, fake_slack):
    fake_slack.fail("views.open", error="expired_trigger_id", times=2)
    for trig in ("a", "b"):
        with pytest.raises(SlackApiError) as e:
            client.views_open(trigger_id=trig, view=MODAL)
        assert e.value.response["error"] == "expired_trigger_id" and e.value.response.status_code == 200
    assert client.views_open(trigger_id="c", view=MODAL)["ok"]


def test_raw_body_fault(client, fake_slack):
    fake_slack.fail("auth.test", status=502, body="<html>Bad gateway</html>")
    with pytest.raises(SlackApiError) as e:
        client.auth_test()
    assert e.value.response.status_code == 502 and "non-JSON" in e.value.response["error"]


def test_delay_makes_client_time_out(fake_slack):
    fake_slack.fail("auth.test", delay=1.0)
    c = WebClient(base_url=fake_slack.base_url, token="xoxb-test", timeout=0.1)
    t0 = time.perf_counter()
    with pytest.raises(TimeoutError):
        c.auth_test()
    assert time.perf_counter() - t0 < 0.5
    assert fake_slack.calls("auth.test")[0].fault.delay == 1.0


def test_delay_alone_is_a_slow_success(client, fake_slack):
    fake_slack.fail("auth.test", delay=0.05)
    t0 = time.perf_counter()
    assert client.auth_test()["ok"]
    assert time.perf_counter() - t0 >= 0.05


def test_disconnect_is_retried_once_by_the_sdk(fake_slack):
    # WebClient's default handler is ConnectionErrorRetryHandler(max_retry_count=1) with a
    # ~0.5-1 s backoff; same handler here without the wait.
    retry = ConnectionErrorRetryHandler(interval_calculator=FixedValueRetryIntervalCalculator(0.0))
    fake_slack.fail("auth.test", disconnect=True)
    assert fake_slack.client(retry_handlers=[retry]).auth_test()["ok"]
    assert [c.status for c in fake_slack.calls("auth.test")] == [None, 200]
    fake_slack.fail("auth.test", disconnect=True, times=2)
    with pytest.raises(Exception):
        fake_slack.client(retry_handlers=[]).auth_test()


def test_wildcard_fault(client, fake_slack):
    fake_slack.fail("*", error="invalid_auth")
    with pytest.raises(SlackApiError, match="invalid_auth"):
        client.users_info(user="U1")


def test_seeded_failure_rate_is_reproducible():
    def run(seed):
        with FakeSlack(failure_rate=0.5, seed=seed) as fake:
            c = fake.client()
            out = []
            for _ in range(20):
                try:
                    c.users_info(user="U1")
                    out.append(200)
                except SlackApiError as e:
                    out.append(e.response.status_code)
            c.auth_test()  # auth.test is spared by default
            return out

    a, b = run(7), run(7)
    assert a == b and 200 in a and set(a) - {200} and set(a) <= {200, 429, 500, 503}


def test_failure_rate_can_target_methods_and_modes():
    with FakeSlack() as fake:
        fake.set_failure_rate(1.0, seed=1, methods=["chat.postMessage"], modes=[Fault(error="fatal_error", status=500)])
        fake.add_channel("C1", "support")
        c = fake.client()
        assert c.conversations_info(channel="C1")["ok"]
        with pytest.raises(SlackApiError, match="fatal_error"):
            c.chat_postMessage(channel="C1", text="x")


# --------------------------------------------------------------------------- recording helpers


def test_wait_for_and_reset(client, fake_slack):
    def later():
        time.sleep(0.05)
        client.auth_test()

    threading.Thread(target=later).start()
    calls = fake_slack.wait_for("auth.test", timeout=2)
    assert len(calls) == 1 and calls[0].method == "auth.test"
    with pytest.raises(AssertionError) as e:
        fake_slack.wait_for("chat.postMessage", timeout=0.05)
    assert "methods seen: ['auth.test']" in str(e.value)
    with pytest.raises(AssertionError, match="no call to views.open"):
        fake_slack.last("views.open")
    fake_slack.reset()
    assert fake_slack.calls() == [] and fake_slack.violations == []


def test_concurrent_posts_get_unique_increasing_ts(fake_slack):
    fake_slack.add_channel("C1", "support")
    results: list[str] = []
    lock = threading.Lock()

    def post(i):
        ts = fake_slack.client().chat_postMessage(channel="C1", text=str(i))["ts"]
        with lock:
            results.append(ts)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 20
    stored = [m["ts"] for m in fake_slack.messages("C1")]
    assert stored == sorted(stored, key=float) and len(stored) == 20


def test_async_client_sees_faults_like_sync(fake_slack):
    fake_slack.add_channel("C1", "support")
    fake_slack.fail("chat.postMessage", status=429, headers={"Retry-After": "3"})

    async def go():
        ac = AsyncWebClient(base_url=fake_slack.base_url, token="xoxb-test")
        with pytest.raises(SlackApiError) as e:
            await ac.chat_postMessage(channel="C1", text="x")
        return e.value.response

    resp = asyncio.run(go())
    assert resp.status_code == 429 and resp["error"] == "ratelimited" and resp.headers["Retry-After"] == "3"


def test_form_encoded_view_and_malformed_blocks(client, fake_slack):
    fake_slack.add_channel("C1", "support")
    r = client.api_call("views.open", params={"trigger_id": "t9", "view": json.dumps(MODAL)})
    assert r["view"]["callback_id"] == "escalate"
    assert fake_slack.last("views.open").args["view"] == MODAL
    with pytest.raises(SlackApiError) as e:
        client.api_call("chat.postMessage", params={"channel": "C1", "text": "x", "blocks": "[{not json"})
    assert e.value.response["error"] == "invalid_blocks_format"
    with pytest.raises(SlackApiError, match="no_text"), pytest.warns(UserWarning):
        client.chat_postMessage(channel="C1", text="")


# --------------------------------------------------------------------------- conversations.members, file uploads


def test_conversations_members_pages_with_a_cursor(fake_slack: FakeSlack, client: WebClient):
    fake_slack.add_channel("C0TEAM", "team")
    fake_slack.set_members("C0TEAM", [f"U{i:04d}" for i in range(250)])
    seen, cursor, pages = [], None, 0
    while True:
        response = client.conversations_members(channel="C0TEAM", limit=100, **({"cursor": cursor} if cursor else {}))
        seen += response["members"]
        pages += 1
        cursor = response["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert pages == 3 and seen == [f"U{i:04d}" for i in range(250)]
    fake_slack.add_channel("G0SECRET", "secret", is_member=False, is_private=True)
    with pytest.raises(SlackApiError) as exc:
        client.conversations_members(channel="G0SECRET")
    assert exc.value.response["error"] == "channel_not_found"


def test_file_upload_v2_flow_delivers_the_bytes_and_shares_the_file(fake_slack: FakeSlack, client: WebClient):
    fake_slack.add_channel("C0LEAD", "leadership")
    data = bytes(range(256)) * 10
    response = client.files_upload_v2(channel="C0LEAD", content=data, filename="chart.png", title="Volume", initial_comment="Weekly chart")
    file_id = response["file"]["id"]
    assert [c.method for c in fake_slack.calls()] == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    assert fake_slack.last("files.getUploadURLExternal").args["length"] == str(len(data))
    stored = fake_slack.files[file_id]
    assert stored["content"] == data and stored["channel"] == "C0LEAD" and stored["title"] == "Volume"
    assert fake_slack.messages("C0LEAD")[-1]["files"][0]["id"] == file_id


def test_completing_an_upload_whose_bytes_never_arrived_fails(fake_slack: FakeSlack, client: WebClient):
    url = client.files_getUploadURLExternal(filename="a.png", length=10)
    with pytest.raises(SlackApiError) as exc:
        client.files_completeUploadExternal(files=[{"id": url["file_id"], "title": "a"}])
    assert exc.value.response["error"] == "file_upload_not_completed"


def test_history_returns_metadata_only_when_asked(client, fake_slack):
    fake_slack.add_channel("C0ENG", "eng-escalations")
    client.chat_postMessage(channel="C0ENG", text="brief", metadata={"event_type": "brief", "event_payload": {"id": 7}})
    assert "metadata" not in client.conversations_history(channel="C0ENG")["messages"][0]
    assert client.conversations_history(channel="C0ENG", include_all_metadata=True)["messages"][0]["metadata"]["event_payload"] == {"id": 7}


def test_accept_first_does_the_call_then_answers_too_late(fake_slack):
    fake_slack.add_channel("C0ENG", "eng-escalations")
    slow = WebClient(base_url=fake_slack.base_url, token="xoxb-test", timeout=0.2, retry_handlers=[])
    fake_slack.fail("chat.postMessage", delay=0.6, accept_first=True)
    with pytest.raises((TimeoutError, socket.timeout, OSError)):
        slow.chat_postMessage(channel="C0ENG", text="landed anyway")
    assert [m["text"] for m in fake_slack.messages("C0ENG")] == ["landed anyway"]  # Slack did it

"""Posts to one channel are paced to about one a second; connection errors are retried; a 429 is
never waited out on a thread: it fails the call at once with its Retry-After, and the channel takes
no more posts from this process until then (issue 17)."""

from __future__ import annotations

import threading

import pytest
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler

from bot.slack_api.gateway import ChannelPacer, SlackCallFailed, SlackGateway, make_web_client


def test_the_pacer_spaces_posts_to_one_channel_and_not_across_channels():
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = ChannelPacer(1.0, sleep=sleep, monotonic=lambda: now[0])
    assert [pacer.wait("C1") for _ in range(3)] == [0.0, 1.0, 1.0]  # a burst into one channel: one a second
    assert pacer.wait("C2") == 0.0  # another channel is not held up
    now[0] += 5
    assert pacer.wait("C1") == 0.0  # after a pause, at once again
    assert ChannelPacer(0).wait("C1") == 0.0


def test_a_burst_of_posts_into_one_channel_reaches_slack_about_a_second_apart(fake_slack):
    gateway = SlackGateway(make_web_client("xoxb-test", fake_slack.base_url), pacer=ChannelPacer(0.4))
    for n in range(3):
        gateway.post_message("C0ENGINEER", text=f"nudge {n}")
    gateway.post_message("C0PRODUCT1", text="elsewhere")
    calls = fake_slack.calls("chat.postMessage")
    gaps = [b.received_at - a.received_at for a, b in zip(calls[:3], calls[1:3])]
    assert all(gap >= 0.35 for gap in gaps), gaps
    assert calls[3].received_at - calls[2].received_at < 0.3


def test_a_channel_held_by_a_429_is_refused_at_once_and_other_channels_are_not(fake_slack):
    """Slack answers 429 with Retry-After 20 to posts in one channel: the post fails at once (one
    call, nothing slept), the next post there is refused without calling Slack, others go out."""
    now = [1000.0]
    gateway = SlackGateway(make_web_client("xoxb-test", fake_slack.base_url), pacer=ChannelPacer(0, now=lambda: now[0]))
    fake_slack.fail("chat.postMessage", status=429, headers={"Retry-After": "20"}, times=100, match=lambda args: args.get("channel") == "C0ENGINEER")
    with pytest.raises(SlackCallFailed) as first:
        gateway.post_message("C0ENGINEER", text="brief")
    assert (first.value.error, first.value.status, first.value.retry_after) == ("ratelimited", 429, 20)
    now[0] += 5
    with pytest.raises(SlackCallFailed) as second:
        gateway.post_message("C0ENGINEER", text="another")  # held: not sent
    assert (second.value.error, second.value.retry_after) == ("ratelimited", 15)
    assert gateway.post_message("C0PRODUCT1", text="elsewhere")[1]
    assert [(c.args["channel"], c.status) for c in fake_slack.calls("chat.postMessage")] == [("C0ENGINEER", 429), ("C0PRODUCT1", 200)]
    now[0] += 15  # Retry-After has passed: Slack is asked again
    with pytest.raises(SlackCallFailed):
        gateway.post_message("C0ENGINEER", text="third")
    assert len(fake_slack.calls("chat.postMessage")) == 3


def test_a_post_whose_slot_is_too_far_away_is_refused_rather_than_slept():
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)

    pacer = ChannelPacer(1.0, max_wait=2.0, sleep=sleep, monotonic=lambda: now[0])
    assert [pacer.wait("C1") for _ in range(3)] == [0.0, 1.0, 2.0]  # three threads at once: queued
    with pytest.raises(SlackCallFailed) as refused:
        pacer.wait("C1")  # a fourth would sleep 3 s: refused, re-queued by its caller
    assert (refused.value.error, refused.value.retry_after) == ("ratelimited", 3)
    assert slept == [1.0, 2.0] and pacer.wait("C2") == 0.0
    pacer.hold("C2", 20)
    with pytest.raises(SlackCallFailed):
        pacer.wait("C2")
    now[0] += 20
    assert pacer.wait("C2") == 0.0
    assert ChannelPacer(10.0, max_wait=2.0).max_wait == 10.0  # a longer configured interval is still honoured


def test_a_post_that_waited_its_turn_is_not_sent_into_a_channel_held_meanwhile():
    now = [0.0]
    pacer = ChannelPacer(1.0, sleep=lambda seconds: pacer.hold("C1", 20), monotonic=lambda: now[0])  # the earlier post got a 429
    assert pacer.wait("C1") == 0.0
    with pytest.raises(SlackCallFailed) as refused:
        pacer.wait("C1")
    assert refused.value.retry_after == 20


def test_posts_waiting_their_turn_in_a_channel_that_becomes_held_are_refused_then_not_at_the_end():
    pacer = ChannelPacer(30.0, max_wait=120)  # the next slot in C1 is 30 s away
    assert pacer.wait("C1") == 0.0
    outcome: list[object] = []
    waiting = threading.Thread(target=lambda: outcome.append(_wait_or_refusal(pacer, "C1")))
    waiting.start()
    pacer.hold("C1", 20)  # the post before it got a 429 (before or while this one waits: refused either way)
    waiting.join(10)
    assert not waiting.is_alive() and isinstance(outcome[0], SlackCallFailed) and outcome[0].error == "ratelimited"


def _wait_or_refusal(pacer: ChannelPacer, channel: str) -> object:
    try:
        return pacer.wait(channel)
    except SlackCallFailed as exc:
        return exc


def test_the_web_client_retries_connection_errors_and_never_rate_limits(fake_slack):
    client = make_web_client("xoxb-test", fake_slack.base_url)
    assert [type(h) for h in client.retry_handlers] == [AsyncConnectionErrorRetryHandler]
    fake_slack.fail("chat.postMessage", disconnect=True)
    assert SlackGateway(client).post_message("C0ENGINEER", text="again")[1]  # a dropped connection is retried
    assert [c.dropped for c in fake_slack.calls("chat.postMessage")] == [True, False]


def test_permalinks_and_time_zones_are_asked_once_and_match_slacks(fake_slack):
    """One chat.getPermalink per channel (later links are built from its prefix, as Slack builds
    them) and one users.info per user: two Web API calls fewer per brief."""
    fake_slack.add_user("U0TZ", "tz-user", tz="Asia/Tokyo")
    client = make_web_client("xoxb-test", fake_slack.base_url)
    gateway = SlackGateway(client)
    posts = [gateway.post_message("C0ENGINEER", text=f"brief {n}") for n in range(3)]
    links = [gateway.permalink(channel, ts) for channel, ts in posts]
    assert links == [client.call("chat.getPermalink", channel=channel, message_ts=ts)["permalink"] for channel, ts in posts]
    assert len(fake_slack.calls("chat.getPermalink")) == 1 + 3  # ours once, the comparison's three

    fake_slack.fail("users.info", error="internal_error", status=500)
    assert gateway.user_timezone("U0TZ") == "UTC"  # a failure is not remembered...
    assert [gateway.user_timezone("U0TZ") for _ in range(3)] == ["Asia/Tokyo"] * 3  # ...an answer is, for a while
    assert len(fake_slack.calls("users.info")) == 2

"""slack_sdk's retry handlers are on, and posts to one channel are paced to about one a second."""

from __future__ import annotations

from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from bot.slack_api.gateway import ChannelPacer, SlackGateway, make_web_client


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


def test_the_web_client_retries_rate_limits_and_connection_errors(fake_slack):
    client = make_web_client("xoxb-test", fake_slack.base_url)
    kinds = {type(h) for h in client.retry_handlers}
    assert {ConnectionErrorRetryHandler, RateLimitErrorRetryHandler} <= kinds
    fake_slack.fail("chat.postMessage", status=429, headers={"Retry-After": "1"})
    channel, ts = SlackGateway(client).post_message("C0ENGINEER", text="hello")
    assert ts and [c.status for c in fake_slack.calls("chat.postMessage")] == [429, 200]  # waited Retry-After, then posted
    fake_slack.fail("chat.postMessage", disconnect=True)
    SlackGateway(client).post_message("C0ENGINEER", text="again")  # a dropped connection is retried too
    assert len(fake_slack.calls("chat.postMessage")) == 4


def test_permalinks_and_time_zones_are_asked_once_and_match_slacks(fake_slack):
    """One chat.getPermalink per channel (later links are built from its prefix, as Slack builds
    them) and one users.info per user: two Web API calls fewer per brief."""
    fake_slack.add_user("U0TZ", "tz-user", tz="Asia/Tokyo")
    client = make_web_client("xoxb-test", fake_slack.base_url)
    gateway = SlackGateway(client)
    posts = [gateway.post_message("C0ENGINEER", text=f"brief {n}") for n in range(3)]
    links = [gateway.permalink(channel, ts) for channel, ts in posts]
    assert links == [client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"] for channel, ts in posts]
    assert len(fake_slack.calls("chat.getPermalink")) == 1 + 3  # ours once, the comparison's three

    fake_slack.fail("users.info", error="internal_error", status=500)
    assert gateway.user_timezone("U0TZ") == "UTC"  # a failure is not remembered...
    assert [gateway.user_timezone("U0TZ") for _ in range(3)] == ["Asia/Tokyo"] * 3  # ...an answer is, for a while
    assert len(fake_slack.calls("users.info")) == 2

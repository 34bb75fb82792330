"""Nothing lost, nothing doubled: a brief that could not be posted is retried by the tick with
backoff until it is, the agent is told once, and a post whose answer never came is found in the
channel by its metadata instead of being posted twice."""

from __future__ import annotations

import json
import random
from datetime import timedelta

from bot.domain.brief import Destination
from bot.domain.status import EscalationStatus
from bot.domain.validation import validate_draft
from bot.slack_api.backoff import CAP, FIRST, maybe_posted, retry_delay, worth_telling
from bot.storage import escalations
from tests.conftest import AGENT, CHANNELS, TEAM
from tests.factories import draft

PRODUCT = CHANNELS[Destination.PRODUCT][0]


def store_and_post(bot, destination: Destination = Destination.PRODUCT):
    brief = validate_draft(draft(destination, now=bot.clock.now()), now=bot.clock.now())
    return bot.services.escalations.escalate(team_id=TEAM, agent_user_id=AGENT, brief=brief)


def row(bot, escalation_id):
    with bot.db.session() as s:
        return escalations.get_escalation(s, escalation_id)


def briefs_in(bot, channel: str) -> list[dict]:
    """Messages in the channel that are briefs (by their metadata), as the stand-in holds them."""
    return [m for m in bot.slack.messages(channel) if (m.get("metadata") or {}).get("event_type") == "escalation_brief"]


def dms_to_agent(bot) -> list[str]:
    return [c.args["text"] for c in bot.slack.calls("chat.postMessage") if c.args["channel"] == AGENT and c.ok]


def test_backoff_doubles_from_30_s_to_15_min_with_jitter_and_honours_retry_after():
    rng = random.Random(1)
    delays = [retry_delay(n, rng=rng) for n in range(1, 12)]
    assert FIRST * 0.8 <= delays[0] <= FIRST * 1.2
    assert all(d <= CAP for d in delays) and delays[-1] >= CAP * 0.8
    assert delays[2] > delays[0]  # grows
    assert retry_delay(1, retry_after=600, rng=rng) == timedelta(seconds=600)  # never before Slack says


def test_which_errors_may_have_posted_and_which_are_worth_telling():
    assert maybe_posted("connection_error") and maybe_posted("internal_error") and maybe_posted("http_502")
    assert not maybe_posted("not_in_channel") and not maybe_posted("ratelimited") and not maybe_posted(None)
    assert worth_telling("internal_error", None)  # the first failure
    assert not worth_telling("ratelimited", "internal_error")  # a passing problem, on a retry
    assert worth_telling("not_in_channel", "internal_error")  # a new problem a person must fix
    assert not worth_telling("not_in_channel", "not_in_channel")


def test_a_brief_the_bot_cannot_post_is_retried_until_posted_and_the_agent_told_once(bot):
    bot.slack.add_channel(PRODUCT, "product-escalations", is_member=False, is_private=True)
    delivery = store_and_post(bot)
    assert not delivery.posted and delivery.error == "channel_not_found"
    pending = row(bot, delivery.escalation_id)
    assert pending.status == EscalationStatus.PENDING_DELIVERY.value and pending.delivery_attempts == 1
    assert timedelta(seconds=24) <= pending.next_delivery_at - bot.clock.now() <= timedelta(seconds=36)
    [notice] = dms_to_agent(bot)
    assert "is saved" in notice and "does not exist or the bot cannot see it" in notice

    for minutes in (1, 2, 4, 8):  # still broken: retried with growing gaps, the agent not told again
        bot.clock.advance(timedelta(minutes=minutes))
        report = bot.services.ticker.tick()
        assert report.delivered == 0
    assert row(bot, delivery.escalation_id).delivery_attempts == 5
    assert len(dms_to_agent(bot)) == 1

    bot.slack.add_channel(PRODUCT, "product-escalations", is_member=True, is_private=True)  # the admin invites the bot
    bot.clock.advance(timedelta(minutes=16))
    assert bot.services.ticker.tick().delivered == 1
    assert len(briefs_in(bot, PRODUCT)) == 1
    posted = row(bot, delivery.escalation_id)
    assert posted.status == EscalationStatus.OPEN.value and posted.next_delivery_at is None
    assert "is posted" in dms_to_agent(bot)[-1]  # told again when it finally posts
    bot.clock.advance(timedelta(hours=1))
    bot.services.ticker.tick()
    assert len(briefs_in(bot, PRODUCT)) == 1


def test_a_post_that_timed_out_after_slack_accepted_it_is_adopted_not_doubled(bot):
    gateway = bot.services.escalations.gateway
    gateway.client.timeout = 0.5
    bot.slack.fail("chat.postMessage", delay=1.5, accept_first=True)  # Slack posts it; the answer comes too late
    delivery = store_and_post(bot)
    assert not delivery.posted and delivery.error == "connection_error"
    assert len(briefs_in(bot, PRODUCT)) == 1  # it is in the channel all the same

    bot.clock.advance(timedelta(minutes=1))
    assert bot.services.ticker.tick().delivered == 1
    history = bot.slack.last("conversations.history")
    assert history.args["include_all_metadata"] in (True, "1", "true")
    [message] = briefs_in(bot, PRODUCT)
    assert row(bot, delivery.escalation_id).message_ts == message["ts"]  # the first post, adopted
    assert len([c for c in bot.slack.calls("chat.postMessage") if c.args["channel"] == PRODUCT and not c.args.get("thread_ts")]) == 1


def test_a_poster_that_died_mid_post_leaves_a_brief_the_next_attempt_checks_first(bot):
    """The process stopped after claiming (and maybe posting): the lease runs out, the tick looks, then posts."""
    bot.slack.fail("chat.postMessage", error="internal_error")
    delivery = store_and_post(bot)
    with bot.db.session() as s:  # as if a later attempt claimed it and the process died holding the claim
        assert escalations.claim_delivery(s, delivery.escalation_id, now=bot.clock.now() + timedelta(minutes=1))
    bot.clock.advance(timedelta(minutes=1))
    assert bot.services.ticker.tick().delivered == 0  # the lease still holds
    bot.clock.advance(timedelta(minutes=3))
    assert bot.services.ticker.tick().delivered == 1
    assert len(bot.slack.calls("conversations.history")) == 1 and len(briefs_in(bot, PRODUCT)) == 1


def test_a_retry_after_a_restart_posts_the_pending_brief(bot, fake_slack):
    from bot.services import build_services
    from tests.conftest import make_settings

    bot.slack.fail("chat.postMessage", status=500)  # the retry handlers leave 500s to the bot
    delivery = store_and_post(bot)
    assert not delivery.posted
    fresh = build_services(make_settings(fake_slack, bot.db.url), clock=bot.clock, db=bot.db)  # a new process, same database
    bot.clock.advance(timedelta(minutes=1))
    assert fresh.ticker.tick().delivered == 1
    assert len(briefs_in(bot, PRODUCT)) == 1


def test_try_again_that_fails_again_says_so(bot):
    from blocks import ids

    bot.slack.add_channel(PRODUCT, "product-escalations", is_member=False, is_private=True)
    store_and_post(bot)
    dm = [c for c in bot.slack.calls("chat.postMessage") if c.args["channel"] == AGENT and c.ok][-1]
    response = bot.sender.action(ids.ACTION_RETRY_DELIVERY, message=dm.response["message"], channel_id=dm.response["channel"], user_id=AGENT, team_id=TEAM)
    assert response.status_code == 200
    from tests.e2e import wait_until

    said = wait_until(lambda: bot.slack.calls("response_url"), what="an answer to Try again")[-1]
    assert "still not" in said.args["text"].lower() and "keep trying" in said.args["text"]
    assert json.dumps(said.args).count("ERR-") == 0


def test_a_nudge_whose_answer_never_came_is_found_not_sent_twice(bot):
    from tests.test_follow_through import post_brief, posts

    eng = CHANNELS[Destination.ENGINEERING][0]
    post_brief(bot, "high")
    bot.services.ticker.gateway.client.timeout = 0.5
    bot.slack.fail("chat.postMessage", delay=1.5, accept_first=True)  # the check-in nudge lands, its answer does not
    bot.clock.advance(timedelta(hours=4))
    report = bot.services.ticker.tick()
    assert report.failed >= 1
    bot.clock.advance(timedelta(seconds=30))
    bot.services.ticker.tick()  # looks in the thread, finds it, moves on
    checkins = [m for m in bot.slack.messages(eng) if "check in" in (m.get("text") or "")]
    assert len(checkins) == 1 and checkins[0]["metadata"]["event_type"] == "escalation_nudge"
    assert bot.slack.calls("conversations.replies")
    bot.clock.advance(timedelta(hours=4))
    bot.services.ticker.tick()
    assert len([m for m in bot.slack.messages(eng) if "check in" in (m.get("text") or "")]) == 2  # the next period, once
    assert len([c for c in posts(bot, channel=eng, thread=True) if "check in" in c.args["text"]]) == 2


def test_replicas_ticking_at_once_post_a_pending_brief_once(bot_any_db, fake_slack):
    """Four processes' ticks race for the same due briefs (SQLite and PostgreSQL): each is posted once."""
    import threading

    from bot.services import build_services
    from tests.conftest import make_settings

    bot = bot_any_db
    bot.slack.add_channel(PRODUCT, "product-escalations", is_member=False, is_private=True)
    pending = [store_and_post(bot).escalation_id for _ in range(5)]
    bot.slack.add_channel(PRODUCT, "product-escalations", is_member=True, is_private=True)
    replicas = [build_services(make_settings(fake_slack, bot.db.url), clock=bot.clock, db=bot.db) for _ in range(4)]
    bot.clock.advance(timedelta(minutes=2))
    barrier = threading.Barrier(len(replicas))
    posted = []

    def tick(services):
        barrier.wait()
        posted.append(services.escalations.retry_due())

    threads = [threading.Thread(target=tick, args=(s,)) for s in replicas]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sum(posted) == len(pending)
    assert sorted(m["metadata"]["event_payload"]["escalation_id"] for m in briefs_in(bot, PRODUCT)) == sorted(pending)


def test_a_double_clicked_try_again_posts_once(bot):
    from blocks import ids
    from tests.e2e import wait_until

    bot.slack.add_channel(PRODUCT, "product-escalations", is_member=False, is_private=True)
    store_and_post(bot)
    dm = [c for c in bot.slack.calls("chat.postMessage") if c.args["channel"] == AGENT and c.ok][-1]
    bot.slack.add_channel(PRODUCT, "product-escalations", is_member=True, is_private=True)
    for _ in range(2):
        bot.sender.action(ids.ACTION_RETRY_DELIVERY, message=dm.response["message"], channel_id=dm.response["channel"], user_id=AGENT, team_id=TEAM)
    wait_until(lambda: briefs_in(bot, PRODUCT), what="the brief")
    import time

    time.sleep(0.5)
    assert len(briefs_in(bot, PRODUCT)) == 1


def test_the_next_attempt_waits_for_slacks_retry_after(bot):
    """A 429 is not waited out on the thread (issue 17): the tick tries again, not before Retry-After."""
    bot.slack.fail("chat.postMessage", status=429, headers={"Retry-After": "600"})
    delivery = store_and_post(bot)
    assert len(bot.slack.calls("chat.postMessage")) == 2  # the post, once, and the agent's DM: nothing slept 600 s to try again
    assert delivery.error == "ratelimited"
    assert row(bot, delivery.escalation_id).next_delivery_at - bot.clock.now() == timedelta(seconds=600)
    bot.clock.advance(timedelta(seconds=590))
    assert bot.services.ticker.tick().delivered == 0 and len(briefs_in(bot, PRODUCT)) == 0
    bot.clock.advance(timedelta(seconds=20))
    assert bot.services.ticker.tick().delivered == 1

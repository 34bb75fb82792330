"""Issue 17: one rate-limited channel stalls nobody else. Slack answers 429 with `Retry-After: 20` to
every post in one channel; no thread waits that out (slack_sdk's rate-limit handler used to sleep it
on a worker thread, and seven briefs held every one). Each throttled post fails at once, its work
is re-queued for after Retry-After (a brief by its delivery retry, a nudge by the next tick), and
meanwhile other commands and posts to other channels go on. Asserted by order, never by a stopwatch."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.domain.brief import Destination
from bot.domain.status import EscalationStatus
from bot.storage.models import Escalation
from tests.conftest import AGENT, CHANNELS, TEAM
from tests.e2e import choose, open_modal, posts_to, submit, wait_until
from tests.factories import draft
from tests.test_follow_through import post_brief

ENG, PRODUCT = CHANNELS[Destination.ENGINEERING][0], CHANNELS[Destination.PRODUCT][0]
THROTTLED = 8  # more than the worker threads of a 2-core machine's default pool (6): each used to hold one for 20 s
RETRY_AFTER = 20


def throttle(slack, channel: str) -> None:
    """Every chat.postMessage into `channel` answered 429, Retry-After 20 (until the test lifts it)."""
    slack.fail("chat.postMessage", status=429, headers={"Retry-After": str(RETRY_AFTER)}, times=10_000, match=lambda args: args.get("channel") == channel)


def filled_in(bot, destination: Destination, **overrides) -> tuple[dict, dict]:
    """An open brief form with its destination chosen, and the values to submit in it."""
    values = draft(destination, now=bot.clock.now(), **overrides)
    view = choose(bot, open_modal(bot), "destination", destination.value)
    if values.get("eng_kind"):
        view = choose(bot, view, "eng_kind", values["eng_kind"], {"destination": {"destination": destination.value}})
    return view, values


def stored(bot, channel: str) -> list[Escalation]:
    with bot.db.session() as s:
        return list(s.exec(select(Escalation).where(Escalation.channel_id == channel)))


def not_delivered(bot, view_id: str) -> bool:
    view = bot.slack.view(view_id) or {}
    return "is saved, but it is not in" in str(view.get("blocks"))


def test_a_rate_limited_channel_holds_up_no_command_and_no_other_channel(bot):
    slack = bot.slack
    forms = [filled_in(bot, Destination.ENGINEERING, summary=f"Throttled brief number {n}") for n in range(THROTTLED)]
    product_form = filled_in(bot, Destination.PRODUCT, summary="Unrelated product brief")
    throttle(slack, ENG)
    for view, values in forms:  # agents submit briefs to the throttled channel
        assert submit(bot, view, values).status_code == 200
    throttled = [view["id"] for view, _values in forms]
    # While those wait out Retry-After: an unrelated command, and a brief to another channel.
    assert bot.sender.command(command="/escalate", text="list", user_id=AGENT, team_id=TEAM, channel_id="C0SUPPORT").status_code == 200
    assert submit(bot, *product_form).status_code == 200

    wait_until(lambda: slack.calls("response_url"), timeout=30, what="the answer to /escalate list")
    wait_until(lambda: posts_to(bot, PRODUCT), timeout=30, what="the product brief in its channel")
    wait_until(lambda: all(not_delivered(bot, v) for v in throttled), timeout=30, what="each throttled agent's result")

    # Now: the list is answered and the product brief posted, while every throttled brief is still
    # waiting out Retry-After (tried at most once each, not in its channel, its retry not yet due).
    calls = slack.calls()
    assert any(c.method == "response_url" for c in calls)
    assert any(c.method == "chat.postMessage" and c.args.get("channel") == PRODUCT and c.ok for c in calls)
    to_eng = [c for c in calls if c.method == "chat.postMessage" and c.args.get("channel") == ENG]
    assert to_eng and all(c.status == 429 for c in to_eng)
    briefs_tried = [c.args["metadata"]["event_payload"]["escalation_id"] for c in to_eng]
    assert len(briefs_tried) == len(set(briefs_tried))  # none waited out Retry-After and was sent again
    rows = stored(bot, ENG)
    assert len(rows) == THROTTLED
    for r in rows:  # re-queued, and not before Retry-After
        assert r.status == EscalationStatus.PENDING_DELIVERY.value and r.delivery_error == "ratelimited"
        assert r.next_delivery_at - bot.clock.now() >= timedelta(seconds=RETRY_AFTER)

    bot.clock.advance(timedelta(seconds=RETRY_AFTER - 5))  # still inside Retry-After: nothing is tried
    assert bot.services.ticker.tick().delivered == 0
    assert len([c for c in slack.calls("chat.postMessage") if c.args.get("channel") == ENG]) == len(to_eng)

    slack.reset()  # Slack takes posts in that channel again
    bot.clock.advance(timedelta(minutes=1))
    assert bot.services.ticker.tick().delivered == THROTTLED  # each posted by its retry, after Retry-After
    assert len([m for m in slack.messages(ENG) if (m.get("metadata") or {}).get("event_type") == "escalation_brief"]) == THROTTLED
    assert all(r.status == EscalationStatus.OPEN.value for r in stored(bot, ENG))


def test_nudges_into_a_rate_limited_channel_are_refused_at_once_and_sent_at_a_later_tick(bot):
    for _ in range(3):
        post_brief(bot, "high")
    slack = bot.slack
    before = len(slack.calls("chat.postMessage"))
    throttle(slack, ENG)
    bot.clock.advance(timedelta(hours=4))  # check-ins and acknowledgement reminders due in the briefs' threads
    report = bot.services.ticker.tick()
    tried = [c for c in slack.calls("chat.postMessage")[before:] if c.args.get("channel") == ENG]
    assert [c.status for c in tried] == [429]  # the first was answered 429; the others were not even sent
    assert report.failed >= 3
    assert report.sent >= 1  # the agent's own reminders (by DM) went out on the same tick

    slack.reset()
    bot.clock.advance(timedelta(minutes=1))  # past Retry-After: the next tick sends what was refused
    again = bot.services.ticker.tick()
    assert again.failed == 0 and again.sent >= report.failed
    assert all(c.ok for c in slack.calls("chat.postMessage") if c.args.get("channel") == ENG)


def test_a_listener_call_answered_429_is_not_waited_out(bot):
    """Bolt's client has no rate-limit retry either: a 429 on views.open is told to the person at once."""
    bot.slack.fail("views.open", status=429, headers={"Retry-After": str(RETRY_AFTER)})
    assert bot.sender.command(command="/escalate", text="", user_id=AGENT, team_id=TEAM, channel_id="C0SUPPORT").status_code == 200
    said = wait_until(lambda: bot.slack.calls("response_url"), timeout=30, what="the answer to /escalate")[-1]
    assert "ratelimited" in said.args["text"] and "try again" in said.args["text"].lower()
    assert [c.status for c in bot.slack.calls("views.open")] == [429]  # once: not sent again after Retry-After

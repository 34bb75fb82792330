"""The tick does its bookkeeping per batch: what that must not change.

A worker that dies between writing a batch's periods and sending them leaves periods marked
"unconfirmed": the next tick looks for each nudge in Slack before sending, so every period is
nudged exactly once. The posted brief is re-rendered once per tick, and only when what it shows
moved (the next check-in time, the deadline state).
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.clock import FrozenClock
from bot.slack_api.gateway import SlackGateway, make_web_client
from bot.storage import follow_ups
from bot.storage.models import Escalation, EscalationLog, FollowUp
from bot.usecases import nudges as tick_module
from bot.usecases.escalate import Escalations
from bot.usecases.nudges import LEASE, Ticker
from tests.conftest import CHANNELS
from tests.factories import NOW
from tests.test_scheduler_concurrency import CADENCES
from tests.test_scheduler_concurrency import seed as seed_rows

BRIEFS = 6


class Crash(BaseException):
    """The process dies (not an error the tick handles)."""


class DiesAfter(SlackGateway):
    """Posts `posts` nudges (not counting the ack notice's DM), then the process dies on the next one."""

    def __init__(self, client, posts: int) -> None:
        super().__init__(client)
        self.left = posts

    def post_message(self, channel, **kwargs):
        if kwargs.get("metadata"):
            if self.left == 0:
                raise Crash()
            self.left -= 1
        return super().post_message(channel, **kwargs)


def seed(db, count: int, fake_slack) -> None:
    """Posted briefs with their timers, and their messages in Slack (the threads their nudges go to)."""
    seed_rows(db, count)
    with db.session() as s:
        for e in s.exec(select(Escalation)):
            fake_slack.seed_message(e.channel_id, "brief", user="UBOT", ts=e.message_ts)


def ticker(db, fake_slack, clock, gateway=None) -> Ticker:
    gateway = gateway or SlackGateway(make_web_client("xoxb-test-token", fake_slack.base_url))
    escalations = Escalations(db, gateway, clock, {d: c for d, (c, _) in CHANNELS.items()}, CADENCES)
    return Ticker(db, gateway, clock, escalations, CADENCES, owner=f"w-{id(gateway)}")


def periods(db) -> Counter:
    with db.session() as s:
        return Counter((e.follow_up_id, e.due_at) for e in s.exec(select(EscalationLog).where(EscalationLog.follow_up_id.is_not(None))))


def nudges(fake_slack) -> Counter:
    return Counter(
        (c.args["metadata"]["event_payload"]["follow_up_id"], c.args["metadata"]["event_payload"]["due_at"])
        for c in fake_slack.calls("chat.postMessage")
        if c.ok and c.args.get("metadata")
    )


@pytest.mark.parametrize("posts", [0, 7])
def test_a_worker_dying_mid_batch_leaves_periods_the_next_tick_checks_in_slack(db, fake_slack, posts):
    seed(db, BRIEFS, fake_slack)
    clock = FrozenClock(NOW + timedelta(hours=2, minutes=1))  # check-in, customer update and ack: 3 periods per brief
    dying = ticker(db, fake_slack, clock, DiesAfter(make_web_client("xoxb-test-token", fake_slack.base_url), posts))
    with pytest.raises(Crash):
        dying.tick()
    assert len(periods(db)) == BRIEFS * 3  # written before the sends, as one batch
    with db.session() as s:
        assert all((e.data or {}).get(follow_ups.UNCONFIRMED) for e in s.exec(select(EscalationLog).where(EscalationLog.follow_up_id.is_not(None))))
    assert sum(nudges(fake_slack).values()) == posts

    clock.set(clock.now() + LEASE + timedelta(seconds=1))  # the dead worker's leases run out
    report = ticker(db, fake_slack, clock).tick()
    assert report.failed == 0 and report.sent == BRIEFS * 3
    sent = nudges(fake_slack)
    assert len(sent) == BRIEFS * 3 and set(sent.values()) == {1}  # none lost, none doubled
    assert len(fake_slack.calls("conversations.replies")) + len(fake_slack.calls("conversations.history")) >= BRIEFS * 3  # each one looked for first
    with db.session() as s:
        entries = list(s.exec(select(EscalationLog).where(EscalationLog.follow_up_id.is_not(None))))
        assert not any((e.data or {}).get(follow_ups.UNCONFIRMED) for e in entries)
        assert all(f.lease_owner is None and f.next_due_at > clock.now() for f in s.exec(select(FollowUp).where(FollowUp.active.is_(True))))


def test_a_period_already_written_is_not_sent_again_and_the_timer_moves_on(db, fake_slack):
    """Another worker recorded and confirmed this period (its answer came): the batch INSERT skips it."""
    seed(db, 1, fake_slack)
    clock = FrozenClock(NOW + timedelta(hours=2, minutes=1))
    with db.session() as s:
        claimed = follow_ups.claim_due(s, now=clock.now(), owner="other", lease=LEASE)
        checkin = next(c for c in claimed if c.kind == "checkin")
        assert follow_ups.record_period(s, checkin, text="Time to check in", at=clock.now(), data={"kind": "checkin"})
        follow_ups.release_all(s, claimed, owner="other")
    report = ticker(db, fake_slack, clock).tick()
    assert (report.sent, report.skipped, report.failed) == (2, 1, 0)
    assert checkin.id not in {fid for fid, _ in nudges(fake_slack)}
    with db.session() as s:
        assert s.get(FollowUp, checkin.id).next_due_at > clock.now()


def test_the_brief_is_re_rendered_once_per_tick_and_only_when_it_shows_a_change(db, fake_slack):
    seed(db, BRIEFS, fake_slack)
    clock = FrozenClock(NOW + timedelta(hours=2, minutes=1))  # three timers per brief, one of them the check-in
    assert ticker(db, fake_slack, clock).tick().sent == BRIEFS * 3
    updates = fake_slack.calls("chat.update")
    assert len(updates) == BRIEFS and len({c.args["ts"] for c in updates}) == BRIEFS
    assert all("Next check-in due" in str(c.args["blocks"]) for c in updates)

    with db.session() as s:  # only the customer update is due next: nothing on the brief moves
        for f in s.exec(select(FollowUp).where(FollowUp.active.is_(True))):
            f.next_due_at = clock.now() + (timedelta(minutes=1) if f.kind == "customer_update" else timedelta(days=1))
            s.add(f)
    clock.set(clock.now() + timedelta(minutes=2))
    fake_slack.reset()
    assert ticker(db, fake_slack, clock).tick().sent == BRIEFS
    assert fake_slack.calls("chat.update") == []


def test_a_worker_still_sending_keeps_its_rows_past_the_lease(db, fake_slack, monkeypatch):
    """Slack paces posts, so a batch may take longer than the lease: the sending worker renews it, and
    a second worker ticking meanwhile finds nothing to take (its unconfirmed periods are not stale)."""
    monkeypatch.setattr(tick_module, "LEASE_RENEW", timedelta(0))  # renew before every send
    seed(db, BRIEFS, fake_slack)
    clock = FrozenClock(NOW + timedelta(hours=2, minutes=1))
    other = ticker(db, fake_slack, clock)
    taken = []

    class Slow(SlackGateway):  # each nudge takes a minute; halfway through, another worker ticks
        def post_message(self, channel, **kwargs):
            if kwargs.get("metadata"):
                clock.set(clock.now() + timedelta(minutes=1))
                if len(taken) == 0 and sum(nudges(fake_slack).values()) == BRIEFS:
                    taken.append(other.tick().claimed)
            return super().post_message(channel, **kwargs)

    report = ticker(db, fake_slack, clock, Slow(make_web_client("xoxb-test-token", fake_slack.base_url))).tick()
    assert taken == [0] and report.sent == BRIEFS * 3
    sent = nudges(fake_slack)
    assert len(sent) == BRIEFS * 3 and set(sent.values()) == {1}

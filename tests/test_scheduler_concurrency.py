"""Several workers tick at the same moment: each due period is nudged exactly once.

On PostgreSQL the claim's SKIP LOCKED is what makes this true (without it, READ COMMITTED hands a
row to several workers); on SQLite, BEGIN IMMEDIATE serialises the claims.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from sqlmodel import select

from bot.clock import FrozenClock
from bot.domain.brief import Destination, Severity
from bot.domain.cadence import DEFAULT_CADENCES
from bot.domain.follow_through import initial_plans
from bot.domain.validation import validate_draft
from bot.slack_api.gateway import SlackGateway, make_web_client
from bot.storage import escalations, follow_ups
from bot.storage.db import Database
from bot.storage.models import EscalationLog
from bot.usecases.escalate import Escalations
from bot.usecases.nudges import Ticker
from tests.conftest import CHANNELS
from tests.factories import NOW, draft

WORKERS = 4
BRIEFS = 25
CADENCES = {s: DEFAULT_CADENCES[s.value] for s in Severity}


def seed(db: Database, count: int) -> None:
    brief = validate_draft(draft(Destination.ENGINEERING, severity="critical"), now=NOW)
    with db.session() as s:
        for i in range(count):
            e = escalations.create_escalation(
                s, team_id="T0001", brief=brief, agent_user_id="U0AGENT", channel_id=CHANNELS[Destination.ENGINEERING][0], now=NOW
            ).escalation
            escalations.mark_posted(s, e.id, channel_id=e.channel_id, ts=f"1700000000.{i:06d}", now=NOW)
            for p in initial_plans(posted_at=NOW, deadline=brief.request.deadline, cadence=CADENCES[Severity.CRITICAL], tz="UTC"):
                follow_ups.upsert_follow_up(s, e.id, p.kind.value, next_due_at=p.next_due_at, anchor_at=p.anchor_at, stage=p.stage)


def test_concurrent_ticks_send_each_period_once(db, fake_slack):
    seed(db, BRIEFS)
    clock = FrozenClock(NOW + timedelta(hours=2, minutes=1))  # check-in, customer update and ack are all due
    workers = []
    for n in range(WORKERS):
        own_db = Database(db.url)  # a separate engine and pool, as in another process
        gateway = SlackGateway(make_web_client("xoxb-test-token", fake_slack.base_url))
        escalations = Escalations(own_db, gateway, clock, {d: c for d, (c, _) in CHANNELS.items()}, CADENCES)
        workers.append(Ticker(own_db, gateway, clock, escalations, CADENCES, owner=f"worker-{n}"))
    start = threading.Barrier(WORKERS)
    reports, errors = [], []

    def run(ticker: Ticker) -> None:
        try:
            start.wait()
            reports.append(ticker.tick())
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    [t.start() for t in threads]
    [t.join(timeout=120) for t in threads]
    assert errors == []
    assert sum(r.failed for r in reports) == 0, [r.errors for r in reports]
    assert sum(r.sent for r in reports) == BRIEFS * 3

    nudges = fake_slack.calls("chat.postMessage")
    in_threads = Counter(c.args["thread_ts"] for c in nudges if c.args.get("thread_ts"))
    assert len(in_threads) == BRIEFS and set(in_threads.values()) == {2}  # one check-in nudge and one ack ping each
    assert len(nudges) == BRIEFS * 4  # plus, by DM, the customer-update reminder and the ack notice
    with db.session() as s:
        periods = Counter((e.follow_up_id, e.due_at) for e in s.exec(select(EscalationLog).where(EscalationLog.follow_up_id.is_not(None))))
    assert len(periods) == BRIEFS * 3 and set(periods.values()) == {1}

    # A second round at the same moment finds nothing due.
    assert sum(w.tick().claimed for w in workers) == 0
    for w in workers:
        w.db.dispose()

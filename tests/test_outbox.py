"""The outbox on SQLite and PostgreSQL: rows written with their log entry, which kinds go where,
claim-once leases across workers, and earlier escalations by ticket."""

from __future__ import annotations

import threading
from datetime import timedelta

from bot.domain.brief import Destination
from bot.domain.status import LogKind
from bot.domain.tickets import TicketRef, TicketSystem
from bot.domain.validation import validate_draft
from bot.storage import escalations, follow_ups, running_log
from bot.storage import outbox as store
from tests.factories import NOW, draft

JIRA = TicketRef(TicketSystem.JIRA, "SUP-123")
ZD = TicketRef(TicketSystem.ZENDESK, "77")


def _escalation(s, refs=(JIRA,), team="T1"):
    brief = validate_draft(draft(Destination.ENGINEERING, now=NOW), now=NOW)
    row = escalations.create_escalation(s, team_id=team, brief=brief, agent_user_id="U1", channel_id="C1", now=NOW).escalation
    store.link_tickets(s, row, list(refs), now=NOW)
    return row


def test_key_events_go_to_linked_tickets_and_every_entry_to_the_webhook(db):
    db.outbox_sinks = frozenset({"jira", "webhook"})  # Zendesk is off: its ticket gets no notes
    with db.session() as s:
        row = _escalation(s, refs=(JIRA, ZD))
        running_log.add_log(s, row.id, actor="U2", kind=LogKind.ACKNOWLEDGED, text="Acknowledged", at=NOW)
        running_log.add_log(s, row.id, actor="U2", kind=LogKind.THREAD_REPLY, text="looking", at=NOW)
        running_log.add_log(s, row.id, actor="bot", kind=LogKind.SYNC_FAILED, text="x", at=NOW)
    with db.session() as s:
        rows = [(r.sink, r.target, r.payload["entry"]["kind"]) for r in store.outbox_rows(s, row.id)]
    assert rows == [("webhook", "", "created"), ("jira", "SUP-123", "acknowledged"), ("webhook", "", "acknowledged"), ("webhook", "", "thread_reply")]


def test_the_outbox_row_rolls_back_with_its_log_entry(db):
    db.outbox_sinks = frozenset({"webhook"})
    with db.session() as s:
        row = _escalation(s)
    try:
        with db.session() as s:
            running_log.add_log(s, row.id, actor="U2", kind=LogKind.ACKNOWLEDGED, text="Acknowledged", at=NOW)
            raise RuntimeError("the use case failed after logging")
    except RuntimeError:
        pass
    with db.session() as s:
        assert [r.payload["entry"]["kind"] for r in store.outbox_rows(s, row.id)] == ["created"]


def test_no_sinks_no_rows(db):
    with db.session() as s:
        row = _escalation(s)
        running_log.add_log(s, row.id, actor="U2", kind=LogKind.ACKNOWLEDGED, text="Acknowledged", at=NOW)
    with db.session() as s:
        assert store.outbox_rows(s) == []


def test_two_workers_never_claim_the_same_row(db):
    db.outbox_sinks = frozenset({"webhook"})
    with db.session() as s:
        row = _escalation(s)
        for i in range(40):
            running_log.add_log(s, row.id, actor="U2", kind=LogKind.THREAD_REPLY, text=str(i), at=NOW)
    claimed: dict[str, list[int]] = {}
    barrier = threading.Barrier(2)

    def worker(name: str) -> None:
        barrier.wait()
        with db.session() as s:
            claimed[name] = [w.id for w in store.claim_outbox(s, now=NOW, owner=name, lease=timedelta(minutes=2), limit=30)]

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not set(claimed["a"]) & set(claimed["b"])
    assert len(claimed["a"]) + len(claimed["b"]) == 41  # 40 replies and the brief's "created" entry
    with db.session() as s:  # leased: nobody else takes them until the lease runs out
        assert store.claim_outbox(s, now=NOW + timedelta(minutes=1), owner="c", lease=timedelta(minutes=2)) == []
        assert len(store.claim_outbox(s, now=NOW + timedelta(minutes=3), owner="c", lease=timedelta(minutes=2))) == 41


def test_delivered_and_failed_rows_are_never_claimed_again(db):
    db.outbox_sinks = frozenset({"webhook"})
    with db.session() as s:
        row = _escalation(s)
        running_log.add_log(s, row.id, actor="U2", kind=LogKind.THREAD_REPLY, text="x", at=NOW)
    with db.session() as s:
        first, second = store.claim_outbox(s, now=NOW, owner="a", lease=timedelta(minutes=2))
        store.mark_delivered(s, first.id, owner="a", now=NOW)
        store.mark_attempt_failed(s, second.id, owner="a", error="HTTP 500", retry_at=None)
    with db.session() as s:
        assert store.claim_outbox(s, now=NOW + timedelta(days=1), owner="b", lease=timedelta(minutes=2)) == []
        assert [(r.state, r.attempts) for r in store.outbox_rows(s, row.id)] == [("delivered", 1), ("failed", 1)]


def test_earlier_escalations_are_found_by_ticket_within_the_workspace(db):
    with db.session() as s:
        a = _escalation(s, refs=(JIRA,))
        _escalation(s, refs=(JIRA,), team="T2")  # another workspace's brief citing the same ticket
        _escalation(s, refs=(ZD,))  # no ticket in common with a
        b = _escalation(s, refs=(ZD, JIRA))
    with db.session() as s:
        earlier = store.earlier_escalations(s, b.id)
        assert [(e.ref, e.ticket) for e in earlier] == [(f"ESC-{a.number}", JIRA), ("ESC-2", ZD)]
        assert store.earlier_escalations(s, a.id) == []


def test_ticket_notes_are_plain_text():
    from bot.ticketing.service import note_text, plain

    payload = {
        "escalation": {"ref": "ESC-4", "severity": "high", "destination": "support_l2", "summary": "Exports fail"},
        "entry": {
            "kind": "resolved",
            "text": "Closed by <@U1>: fixed in <https://x.example/pr/1|PR 1> &amp; shipped",
            "at": "2026-11-27T10:00:00+00:00",
            "data": {"lessons": "Add an export alert"},
        },
    }
    assert note_text(payload) == (
        "ESC-4 resolved\nClosed by @U1: fixed in PR 1 (https://x.example/pr/1) & shipped\n"
        "Lessons: Add an export alert\n(escalation-brief running log, 2026-11-27 10:00 UTC)"
    )
    payload["entry"].update(kind="posted", text="Posted to <#C1>", data=None)
    assert note_text(payload).startswith("Escalated in Slack as ESC-4 (High) to Support L2: Exports fail\n(")
    assert plain("<#C1|eng> <https://a.example>") == "#eng https://a.example"


def test_a_nudge_period_is_queued_once_and_forgotten_with_its_entry(db):
    """record_period writes through add_log: the outbox row comes with the entry, a duplicate period
    adds neither, and a send that failed takes its undelivered row away with the entry."""
    db.outbox_sinks = frozenset({"webhook"})
    with db.session() as s:
        row = _escalation(s)
        timer = follow_ups.upsert_follow_up(s, row.id, "checkin", next_due_at=NOW, anchor_at=NOW)
    claimed = follow_ups.Claimed(timer.id, row.id, "checkin", NOW, None)
    with db.session() as s:
        assert follow_ups.record_period(s, claimed, text="Time to check in", at=NOW, data={"kind": "checkin"})
        assert not follow_ups.record_period(s, claimed, text="Time to check in", at=NOW, data={"kind": "checkin"})
    with db.session() as s:
        assert [r.payload["entry"]["kind"] for r in store.outbox_rows(s, row.id)] == ["created", "nudge"]
        follow_ups.forget_period(s, claimed)
    with db.session() as s:
        assert [r.payload["entry"]["kind"] for r in store.outbox_rows(s, row.id)] == ["created"]
        assert follow_ups.period_entry(s, claimed) is None


def test_the_ticks_batch_of_periods_is_queued_in_one_go_without_the_sending_mark(db):
    """record_periods (the tick's one INSERT for a batch) takes the same outbox path as add_log: a row
    per new entry, none for a period already written; the webhook never sees the "unconfirmed" mark."""
    db.outbox_sinks = frozenset({"webhook"})
    with db.session() as s:
        rows = [_escalation(s) for _ in range(3)]
        timers = [follow_ups.upsert_follow_up(s, row.id, "checkin", next_due_at=NOW, anchor_at=NOW) for row in rows]
    claimed = [follow_ups.Claimed(t.id, t.escalation_id, "checkin", NOW, None) for t in timers]
    with db.session() as s:
        assert follow_ups.record_period(s, claimed[0], text="Time to check in", at=NOW, data={"kind": "checkin"})
    with db.session() as s:
        periods = [follow_ups.Period(c, "Time to check in", {"kind": "checkin", "stage": None}) for c in claimed]
        assert follow_ups.record_periods(s, periods, at=NOW) == {claimed[1].id, claimed[2].id}
    with db.session() as s:
        for row in rows:
            assert [r.payload["entry"]["kind"] for r in store.outbox_rows(s, row.id)] == ["created", "nudge"]
        queued = store.outbox_rows(s, rows[2].id)[-1].payload["entry"]
        assert queued["data"] == {"kind": "checkin", "stage": None}
        entries = follow_ups.period_entries(s, claimed)
        assert entries[claimed[0].id].data == {"kind": "checkin"}
        assert entries[claimed[2].id].data == {"kind": "checkin", "stage": None, follow_ups.UNCONFIRMED: True}
        follow_ups.confirm_periods(s, periods[1:])
    with db.session() as s:
        assert follow_ups.period_entries(s, claimed[2:])[claimed[2].id].data == {"kind": "checkin", "stage": None}

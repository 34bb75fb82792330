"""Ticketing end to end: the bot served over HTTP, the stand-in Slack, and stand-in Zendesk, Jira
and webhook receivers that check every request. Ticks are called by hand on a frozen clock."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from blocks import ids
from bot.domain.brief import Destination
from bot.domain.status import LogKind
from bot.storage import escalations, running_log
from bot.storage import outbox as store
from tests.conftest import CHANNELS, _run_bot
from tests.e2e import current_view, escalate, open_modal, posts_to, wait_until
from tests.factories import NOW
from tests.support.fake_ticketing import FakeJira, FakeWebhook, FakeZendesk
from tests.test_follow_through import brief_message, click, log_kinds, post_brief, tick_at

ENG = CHANNELS[Destination.ENGINEERING][0]


@pytest.fixture
def stand_ins():
    with FakeZendesk() as zendesk, FakeJira() as jira, FakeWebhook() as webhook:
        # SLA due today at 16:00 and 12:00 UTC: after the frozen clock's 10:00 (tests/factories.NOW)
        jira.add_issue("SUP-123", status="In Progress", priority="High", organization="Globex Corp", sla_breach_at=f"{NOW:%Y-%m-%d}T16:00:00.000+0000")
        zendesk.add_ticket(12345, status="open", priority="urgent", organization="Acme Corp", sla_breach_at=f"{NOW:%Y-%m-%d}T12:00:00Z")
        yield zendesk, jira, webhook
        for fake in (zendesk, jira, webhook):
            fake.assert_no_violations()


@pytest.fixture
def tbot(fake_slack, database_url, clock, stand_ins):
    zendesk, jira, webhook = stand_ins
    settings = {
        "ZENDESK_URL": zendesk.base_url,
        "ZENDESK_EMAIL": zendesk.EMAIL,
        "ZENDESK_API_TOKEN": zendesk.TOKEN,
        "JIRA_BASE_URL": jira.base_url,
        "JIRA_EMAIL": jira.EMAIL,
        "JIRA_API_TOKEN": jira.TOKEN,
        "JIRA_ORGANIZATION_FIELD": jira.ORG_FIELD,
        "ESCALATION_WEBHOOK_URL": webhook.url,
        "ESCALATION_WEBHOOK_SECRET": webhook.SECRET,
    }
    yield from _run_bot(fake_slack, database_url, clock, **settings)


def brief_text(message: dict) -> str:
    return "\n".join(str(b) for b in message["blocks"])


def jira_comments(jira: FakeJira, key: str = "SUP-123") -> list[str]:
    return ["\n".join(p["content"][0]["text"] for p in body["body"]["content"]) for k, body in jira.comments if k == key]


def test_a_brief_citing_sup_123_shows_the_tickets_facts_and_notes_the_ticket(tbot, stand_ins):
    _zendesk, jira, webhook = stand_ins
    _view, response = escalate(tbot, Destination.ENGINEERING, references="SUP-123\nhttps://example.com/logs.txt", severity="critical")
    assert response.status_code == 200
    post = wait_until(lambda: posts_to(tbot, ENG), what="the brief")[0]
    text = brief_text({"blocks": post.args["blocks"]})
    assert "Status: In Progress" in text and "Priority: High" in text and "Organisation: Globex Corp" in text
    assert "Time to resolution due <!date^" in text
    assert f"<{jira.base_url}/browse/SUP-123|SUP-123>" in text  # the reference became a link
    # Nothing was sent to the ticket during the Slack request: the tick sends it.
    assert jira.comments == []
    with tbot.db.session() as s:
        escalation_id = escalations.get_by_number(s, "T0001", 1).id
    wait_until(lambda: LogKind.POSTED.value in log_kinds(tbot, escalation_id), what="the posted entry")  # stored just after the post
    report = tbot.services.ticker.tick()
    assert report.outbox.delivered >= 2
    (note,) = jira_comments(jira)
    assert note.startswith("Escalated in Slack as ESC-1 (Critical) to Engineering:")
    kinds = [e["entry"]["kind"] for e in webhook.entries()]
    assert kinds == ["created", "posted"]
    assert webhook.entries()[1]["escalation"]["ref"] == "ESC-1"


def test_acknowledging_adds_an_internal_comment_to_the_jira_issue(tbot, stand_ins):
    _zendesk, jira, _webhook = stand_ins
    escalation_id = post_brief(tbot, references="SUP-123")
    tbot.services.ticker.tick()
    click(tbot, ids.ACTION_ACKNOWLEDGE, escalation_id)
    wait_until(lambda: LogKind.ACKNOWLEDGED.value in log_kinds(tbot, escalation_id), what="the ack")
    tbot.services.ticker.tick()
    notes = jira_comments(jira)
    assert len(notes) == 2 and notes[1].startswith("ESC-1 acknowledged by the receiving team\nAcknowledged by @U0ENGINEER via button")
    assert all(body["properties"] == [{"key": "sd.public.comment", "value": {"internal": True}}] for _k, body in jira.comments)


def test_zendesk_ticket_gets_internal_notes_and_its_facts_show(tbot, stand_ins):
    zendesk, _jira, _webhook = stand_ins
    escalation_id = post_brief(tbot, references=f"{zendesk.base_url}/agent/tickets/12345")
    text = brief_text(brief_message(tbot, escalation_id))
    assert "Zendesk" in text and "Status: open" in text and "Priority: urgent" in text and "Organisation: Acme Corp" in text
    assert ":red_circle: next reply time breached" not in text  # due 12:00, now 10:00
    tbot.services.ticker.tick()
    ((ticket_id, note),) = zendesk.notes
    assert ticket_id == 12345 and note["public"] is False and note["body"].startswith("Escalated in Slack as ESC-1")


def test_a_failing_jira_is_retried_with_backoff_and_delivered(tbot, stand_ins):
    _zendesk, jira, _webhook = stand_ins
    escalation_id = post_brief(tbot, references="SUP-123")
    jira.fail_next(2, 500)
    first = tbot.services.ticker.tick().outbox
    assert first.retrying == 1 and jira_comments(jira) == []
    assert tbot.services.ticker.tick().outbox.claimed == 0  # not before its backoff
    assert tick_at(tbot, timedelta(seconds=30)).outbox.retrying == 1  # second failure
    assert tick_at(tbot, timedelta(seconds=90)).outbox.claimed == 0
    assert tick_at(tbot, timedelta(seconds=30)).outbox.delivered == 1
    assert len(jira_comments(jira)) == 1
    assert LogKind.SYNC_FAILED.value not in log_kinds(tbot, escalation_id)
    with tbot.db.session() as s:
        (row,) = [r for r in store.outbox_rows(s, escalation_id) if r.sink == "jira"]
        assert (row.state, row.attempts, row.last_error) == ("delivered", 3, None)


def test_a_jira_that_always_fails_is_given_up_in_the_log_and_slack_goes_on(tbot, stand_ins):
    _zendesk, jira, _webhook = stand_ins
    jira.fail_always(500)
    escalation_id = post_brief(tbot, references="SUP-123")  # the brief still posts, without facts
    text = brief_text(brief_message(tbot, escalation_id))
    assert "SUP-123" in text and "did not answer in time" in text
    click(tbot, ids.ACTION_ACKNOWLEDGE, escalation_id)  # the Slack flow is unaffected
    wait_until(lambda: "Acknowledged" in brief_text(brief_message(tbot, escalation_id)), what="the brief updated")
    for delta in (0, 30, 120, 600, 1800, 7200):
        tick_at(tbot, timedelta(seconds=delta))
    with tbot.db.session() as s:
        failures = [e for e in running_log.log_entries(s, escalation_id) if e.kind == LogKind.SYNC_FAILED.value]
    assert [f.text.split(":")[0] for f in failures] == [
        "Ticket update failed for Jira SUP-123 (posted), after 6 attempts",
        "Ticket update failed for Jira SUP-123 (acknowledged), after 6 attempts",
    ]
    assert "HTTP 500" in failures[0].text
    assert tbot.services.ticker.tick().outbox.claimed == 0  # given up: no more attempts


def test_a_slow_ticketing_system_delays_the_post_by_at_most_the_budget(tbot, stand_ins):
    _zendesk, jira, _webhook = stand_ins
    jira.delay(4)
    started = time.monotonic()
    escalation_id = post_brief(tbot, references="SUP-123")
    elapsed = time.monotonic() - started
    assert elapsed < 3.5, elapsed  # 2 s budget, plus the post itself
    assert "did not answer in time" in brief_text(brief_message(tbot, escalation_id))


def test_earlier_escalations_of_the_same_ticket_are_shown(tbot, stand_ins):
    first = post_brief(tbot, references="#12345")
    tbot.clock.advance(timedelta(days=1))
    second = post_brief(tbot, summary="Acme exports fail again (#12345)")
    text = brief_text(brief_message(tbot, second))
    assert "Escalated before for this ticket:* ESC-1 (#12345" in text
    assert "Escalated before" not in brief_text(brief_message(tbot, first))


def test_a_permanent_refusal_is_given_up_at_once(tbot, stand_ins):
    escalation_id = post_brief(tbot, references="SUP-999")  # no such issue: 404
    report = tbot.services.ticker.tick().outbox
    assert report.gave_up == 1
    assert LogKind.SYNC_FAILED.value in log_kinds(tbot, escalation_id)


def _input(view: dict, block_id: str) -> dict:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)["element"]


def test_escalate_with_a_ticket_prefills_the_sla_position_and_deadline(tbot, stand_ins):
    view = open_modal(tbot, text="SUP-123")
    call = wait_until(lambda: tbot.slack.calls("views.update"), what="the SLA pre-fill")[-1]
    assert call.ok and call.args["view_id"] == view["id"] and call.args["hash"] == view["hash"]
    updated = current_view(tbot, view["id"])
    assert _input(updated, "sla_position")["initial_option"]["value"] == "compliant"  # due 16:00, now 10:00
    due = NOW.replace(hour=16)
    assert _input(updated, "deadline")["initial_date_time"] == int(due.timestamp())
    assert "pre-filled from SUP-123: Time to resolution due" in str(updated["blocks"])
    assert _input(updated, "summary")["initial_value"] == "SUP-123"


def test_a_breached_zendesk_sla_prefills_breached_only(tbot, stand_ins, clock):
    clock.advance(timedelta(hours=3))  # the ticket's SLA was due at 12:00
    view = open_modal(tbot, text="Acme exports fail #12345")
    wait_until(lambda: tbot.slack.calls("views.update"), what="the SLA pre-fill")
    updated = current_view(tbot, view["id"])
    assert _input(updated, "sla_position")["initial_option"]["value"] == "breached"
    assert "initial_date_time" not in _input(updated, "deadline")


def test_no_prefill_when_the_ticketing_system_fails(tbot, stand_ins):
    _zendesk, jira, _webhook = stand_ins
    jira.fail_always(503)
    open_modal(tbot, text="SUP-123")
    wait_until(lambda: jira.calls("GET"), what="the lookup")
    time.sleep(0.3)
    assert tbot.slack.calls("views.update") == []


def test_a_failing_webhook_is_logged_once_and_never_feeds_itself(tbot, stand_ins):
    _zendesk, _jira, webhook = stand_ins
    webhook.fail_always(502)
    escalation_id = post_brief(tbot, references="https://example.com/logs.txt")  # no ticket: only the webhook is involved
    for delta in (0, 30, 120, 600, 1800, 7200, 7200):
        tick_at(tbot, timedelta(seconds=delta))
    with tbot.db.session() as s:
        failures = [e.text for e in running_log.log_entries(s, escalation_id) if e.kind == LogKind.SYNC_FAILED.value]
        rows = store.outbox_rows(s, escalation_id)
    assert {r.payload["entry"]["kind"] for r in rows} == {"created", "posted", "nudge"}  # its own failures were not queued
    given_up = [r for r in rows if r.state == "failed"]
    assert {r.payload["entry"]["kind"] for r in given_up} >= {"created", "posted"} and all(r.attempts == 6 for r in given_up)
    assert len(failures) == len(given_up) and all(f.startswith("Webhook call failed (") and "HTTP 502" in f for f in failures)  # once each


def test_nudges_reach_the_webhook_signed(tbot, stand_ins):
    """Scheduled entries are written by the tick (one per period); they go out like every other entry."""
    _zendesk, _jira, webhook = stand_ins
    escalation_id = post_brief(tbot, "high", references="https://example.com/logs.txt")
    tick_at(tbot, timedelta(hours=4))  # nobody acknowledged, and the agent's first check-in is due
    sent = {e["entry"]["id"]: e["entry"] for e in webhook.entries() if e["entry"]["kind"] == LogKind.NUDGE.value}
    with tbot.db.session() as s:
        nudges = [e for e in running_log.log_entries(s, escalation_id) if e.kind == LogKind.NUDGE.value]
    assert {n.data["kind"] for n in nudges} >= {"ack", "checkin"}
    assert {n.id: (n.actor, n.text, n.data) for n in nudges} == {i: (e["actor"], e["text"], e["data"]) for i, e in sent.items()}

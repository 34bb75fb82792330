"""The adapters against stand-ins that check paths, auth headers and body shapes."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from bot.ticketing.http import TicketingError
from bot.ticketing.jira import JiraClient, adf
from bot.ticketing.webhook import WebhookSender, signature
from bot.ticketing.zendesk import ZendeskClient
from tests.support.fake_ticketing import FakeJira, FakeWebhook, FakeZendesk


@pytest.fixture
def zendesk():
    with FakeZendesk() as fake:
        yield fake
        fake.assert_no_violations()


@pytest.fixture
def jira():
    with FakeJira() as fake:
        yield fake
        fake.assert_no_violations()


def zd_client(fake: FakeZendesk, token: str | None = None) -> ZendeskClient:
    return ZendeskClient(fake.base_url, fake.EMAIL, token or fake.TOKEN)


def jira_client(fake: FakeJira) -> JiraClient:
    return JiraClient(fake.base_url, fake.EMAIL, fake.TOKEN, organization_field=fake.ORG_FIELD)


def test_zendesk_fetch_reads_status_priority_organisation_and_the_first_active_sla(zendesk):
    zendesk.add_ticket(12345, status="open", priority="urgent", organization="Acme Corp", sla_breach_at="2026-11-27T14:00:00Z")
    facts = zd_client(zendesk).fetch("12345", timeout=2)
    assert (facts.status, facts.priority, facts.organization) == ("open", "urgent", "Acme Corp")
    assert facts.sla_due_at == datetime(2026, 11, 27, 14, tzinfo=UTC) and facts.sla_name == "next reply time"
    (call,) = zendesk.calls("GET")
    assert call.path == "/api/v2/tickets/12345.json" and set(call.query["include"][0].split(",")) == {"organizations", "slas"}


def test_zendesk_note_is_an_internal_comment_through_the_tickets_api(zendesk):
    zendesk.add_ticket(7)
    zd_client(zendesk).add_note("7", "ESC-1 acknowledged", timeout=2)
    (call,) = zendesk.calls("PUT", r"/api/v2/tickets/7\.json")
    assert call.body == {"ticket": {"comment": {"body": "ESC-1 acknowledged", "public": False}}}
    assert zendesk.notes == [(7, {"body": "ESC-1 acknowledged", "public": False})]


def test_zendesk_errors_say_what_failed_and_whether_a_retry_can_help(zendesk):
    with pytest.raises(TicketingError) as missing:
        zd_client(zendesk).fetch("404", timeout=2)
    assert missing.value.permanent and "HTTP 404" in str(missing.value)
    zendesk.add_ticket(8)
    zendesk.fail_next(1, 503)
    with pytest.raises(TicketingError) as busy:
        zd_client(zendesk).add_note("8", "x", timeout=2)
    assert not busy.value.permanent and busy.value.status == 503


def test_zendesk_wrong_token_is_refused_like_the_real_api():
    with FakeZendesk() as fake:
        fake.add_ticket(1)
        with pytest.raises(TicketingError) as exc:
            zd_client(fake, token="wrong").fetch("1", timeout=2)
        assert exc.value.status == 401 and exc.value.permanent
        assert fake.violations  # the stand-in noticed


def test_jira_fetch_reads_fields_organisation_and_the_jsm_sla(jira):
    jira.add_issue("SUP-123", status="Waiting for support", priority="Highest", organization="Globex", sla_breach_at="2026-11-27T16:30:00.000+0000")
    facts = jira_client(jira).fetch("SUP-123", timeout=2)
    assert (facts.status, facts.priority, facts.organization) == ("Waiting for support", "Highest", "Globex")
    assert facts.sla_name == "Time to resolution" and facts.sla_due_at == datetime(2026, 11, 27, 16, 30, tzinfo=UTC)
    issue_call, sla_call = jira.calls("GET")
    assert issue_call.path == "/rest/api/3/issue/SUP-123" and issue_call.query["fields"] == [f"status,priority,{jira.ORG_FIELD}"]
    assert sla_call.path == "/rest/servicedeskapi/request/SUP-123/sla"


def test_jira_issue_outside_a_service_project_has_no_sla(jira):
    jira.add_issue("ENG-5", service_desk=False)
    facts = jira_client(jira).fetch("ENG-5", timeout=2)
    assert facts.status == "In Progress" and facts.sla_due_at is None
    # The SLA endpoint answered 404 as the real one does: expected, not a violation.
    assert [c.status for c in jira.calls("GET")] == [200, 404]


def test_jira_comment_is_adf_and_internal(jira):
    jira.add_issue("SUP-123")
    jira_client(jira).add_note("SUP-123", "ESC-1 escalated to Engineering\n\nSeverity: Critical", timeout=2)
    (call,) = jira.calls("POST", r"/rest/api/3/issue/SUP-123/comment")
    assert call.body["body"] == adf("ESC-1 escalated to Engineering\nSeverity: Critical")
    assert call.body["body"]["content"][1]["content"][0]["text"] == "Severity: Critical"
    assert call.body["properties"] == [{"key": "sd.public.comment", "value": {"internal": True}}]


def test_a_slow_system_times_out_quickly(jira):
    jira.add_issue("SUP-1")
    jira.delay(1.5)
    with pytest.raises(TicketingError, match="no answer within 0.3 s"):
        jira_client(jira).fetch("SUP-1", timeout=0.3)


def test_webhook_posts_signed_json():
    with FakeWebhook() as hook:
        WebhookSender(hook.url, hook.SECRET).send(
            {"event": "escalation.log_entry", "entry": {"kind": "posted"}}, delivery_id="42", timestamp=1_800_000_000, timeout=2
        )
        hook.assert_no_violations()
        (call,) = hook.calls("POST")
        assert call.body == {"event": "escalation.log_entry", "entry": {"kind": "posted"}}
        assert call.headers["x-escalation-delivery"] == "42" and call.headers["x-escalation-timestamp"] == "1800000000"
        expected = hmac.new(hook.SECRET.encode(), b"1800000000." + call.raw, hashlib.sha256).hexdigest()
        assert call.headers["x-escalation-signature"] == f"sha256={expected}"


def test_signature_matches_the_documented_recipe():
    body = json.dumps({"a": 1}).encode()
    assert signature("s3cret", "1", body) == "sha256=" + hmac.new(b"s3cret", b"1." + body, hashlib.sha256).hexdigest()

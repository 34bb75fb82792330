"""Ticket references: which system, which key, which link (pure)."""

from __future__ import annotations

from datetime import UTC

import pytest

from bot.domain.tickets import (
    TemplateError,
    TicketHosts,
    TicketRef,
    TicketSystem,
    default_templates,
    find_refs,
    linkify,
    parse_ref,
    parse_templates,
    ticket_url,
)

Z, J = TicketSystem.ZENDESK, TicketSystem.JIRA
HOSTS = TicketHosts.from_urls("https://acme.zendesk.com", "https://support.acme.example")
TEMPLATES = {Z: "https://acme.zendesk.com/agent/tickets/{id}", J: "https://acme.atlassian.net/browse/{key}"}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("#12345", [TicketRef(Z, "12345")]),
        ("see SUP-123 and #77", [TicketRef(J, "SUP-123"), TicketRef(Z, "77")]),
        ("https://acme.zendesk.com/agent/tickets/4242", [TicketRef(Z, "4242")]),
        ("https://other.zendesk.com/agent/tickets/9.", [TicketRef(Z, "9")]),
        ("https://acme.atlassian.net/browse/sup-9", [TicketRef(J, "SUP-9")]),
        ("https://support.acme.example/servicedesk/customer/portal/2/SUP-10", [TicketRef(J, "SUP-10")]),
        ("ESC-42 UTF-8 ISO-8601 SHA-256 CVE-2024-1234", []),  # our own refs and standards are not tickets
        ("https://example.com/browse/SUP-1", []),  # unknown host: not a ticket, and its path is no bare ref
        ("issue#5 a/SUP-3 x-SUP-4", []),
        ("SUP-123, SUP-123 and #5 #5", [TicketRef(J, "SUP-123"), TicketRef(Z, "5")]),
        ("ZD-48213\nhttps://acme.zendesk.com/agent/tickets/48213", [TicketRef(Z, "48213")]),  # shorthand and URL: one ticket
    ],
)
def test_find_refs(text, expected):
    assert find_refs(text, HOSTS) == expected


def test_parse_ref_takes_exactly_one():
    assert parse_ref(" SUP-123 ") == TicketRef(J, "SUP-123")
    assert parse_ref("#1 #2") is None
    assert parse_ref("12345") is None


def test_labels_and_normalised_keys():
    assert TicketRef(Z, "5").label == "#5" and TicketRef(Z, "5").normalised == "zendesk:5"
    assert TicketRef(J, "SUP-1").label == "SUP-1" and TicketRef(J, "SUP-1").normalised == "jira:SUP-1"


def test_templates_per_system_and_bare():
    spec = "zendesk=https://acme.zendesk.com/agent/tickets/{id}, jira=https://acme.atlassian.net/browse/{key}"
    assert parse_templates(spec) == TEMPLATES
    assert parse_templates("https://tickets.example/{id}") == {Z: "https://tickets.example/{id}", J: "https://tickets.example/{id}"}
    assert parse_templates("") == {}
    with pytest.raises(TemplateError):
        parse_templates("freshdesk=https://x/{id}")
    with pytest.raises(TemplateError):
        parse_templates("zendesk=https://x/no-placeholder")


def test_defaults_come_from_the_adapter_urls():
    assert default_templates("https://acme.zendesk.com/", "https://acme.atlassian.net") == TEMPLATES
    assert ticket_url(TicketRef(J, "SUP-1"), TEMPLATES) == "https://acme.atlassian.net/browse/SUP-1"
    assert ticket_url(TicketRef(J, "SUP-1"), {}) is None


def test_linkify_rewrites_bare_refs_only():
    text = "Ticket #12 and SUP-3; see https://acme.atlassian.net/browse/SUP-3 and <https://x.example|SUP-4>; ESC-1"
    assert linkify(text, TEMPLATES) == (
        "Ticket <https://acme.zendesk.com/agent/tickets/12|#12> and <https://acme.atlassian.net/browse/SUP-3|SUP-3>; "
        "see https://acme.atlassian.net/browse/SUP-3 and <https://x.example|SUP-4>; ESC-1"
    )
    assert linkify("SUP-3", {Z: TEMPLATES[Z]}) == "SUP-3"  # no Jira template: left as typed
    assert linkify("SUP-3", {}) == "SUP-3"


def test_sla_prefill_from_the_tickets_due_time():
    from datetime import datetime, timedelta

    from bot.domain.tickets import sla_prefill

    now = datetime(2026, 11, 27, 10, tzinfo=UTC)
    later = now + timedelta(hours=6)
    assert sla_prefill(later, now=now) == {"sla_position": "compliant", "deadline": str(int(later.timestamp()))}
    assert sla_prefill(now + timedelta(hours=2), now=now)["sla_position"] == "at_risk"
    assert sla_prefill(now + timedelta(minutes=2), now=now) == {"sla_position": "at_risk"}  # too close to be a deadline
    assert sla_prefill(now - timedelta(minutes=1), now=now) == {"sla_position": "breached"}
    assert sla_prefill(later, now=now, breached=True) == {"sla_position": "breached"}

"""Ticketing settings: all-or-nothing adapters, readable template errors, derived link templates."""

from __future__ import annotations

import pytest

from bot.domain.tickets import TicketSystem
from bot.settings import SettingsError, load_settings

BASE = {"SLACK_BOT_TOKEN": "xoxb-1", **{f"ESCALATION_CHANNEL_{d}": "C0123456" for d in ("SUPPORT_L2", "ENGINEERING", "PRODUCT", "SECURITY", "LEADERSHIP")}}


def settings(**env):
    return load_settings(None, **BASE, **env)


def test_ticketing_is_off_by_default():
    s = settings()
    assert not s.zendesk_enabled and not s.jira_enabled and s.webhook_url is None and s.ticket_templates == {}


@pytest.mark.parametrize(
    "env, message",
    [
        ({"ZENDESK_URL": "https://acme.zendesk.com"}, "ZENDESK_EMAIL is not set: set all of ZENDESK_URL, ZENDESK_EMAIL, ZENDESK_API_TOKEN (or none)."),
        ({"JIRA_EMAIL": "a@b.c", "JIRA_API_TOKEN": "t"}, "JIRA_BASE_URL is not set: set all of JIRA_BASE_URL, JIRA_EMAIL, JIRA_API_TOKEN (or none)."),
        ({"ESCALATION_WEBHOOK_URL": "https://hooks.example/x"}, "ESCALATION_WEBHOOK_SECRET is not set"),
        ({"ESCALATION_WEBHOOK_URL": "https://hooks.example/x", "ESCALATION_WEBHOOK_SECRET": "short"}, "too short"),
        ({"JIRA_BASE_URL": "acme.atlassian.net", "JIRA_EMAIL": "a@b.c", "JIRA_API_TOKEN": "t"}, "JIRA_BASE_URL must be an http(s) URL"),
        ({"ESCALATION_TICKET_URL_TEMPLATE": "freshdesk=https://x/{id}"}, "ESCALATION_TICKET_URL_TEMPLATE 'freshdesk' is not a ticket system"),
    ],
)
def test_half_a_configuration_is_one_clear_line(env, message):
    with pytest.raises(SettingsError) as exc:
        settings(**env)
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_templates_default_from_the_adapters_and_explicit_ones_win():
    s = settings(
        JIRA_BASE_URL="https://acme.atlassian.net/",
        JIRA_EMAIL="a@b.c",
        JIRA_API_TOKEN="t",
        ESCALATION_TICKET_URL_TEMPLATE="zendesk=https://acme.zendesk.com/agent/tickets/{id}",
    )
    assert s.jira_enabled and s.jira_base_url == "https://acme.atlassian.net"
    assert s.ticket_templates == {
        TicketSystem.JIRA: "https://acme.atlassian.net/browse/{key}",
        TicketSystem.ZENDESK: "https://acme.zendesk.com/agent/tickets/{id}",
    }

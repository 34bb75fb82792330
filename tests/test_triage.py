"""The triage rules, one test per rule in the table, plus the combinations that matter."""

import pytest

from bot.domain.brief import Destination, Severity
from bot.domain.triage import BY_ID, CRITERIA, Side, decide

KEEP = [c for c in CRITERIA if c.side is Side.KEEP]
ESCALATE = [c for c in CRITERIA if c.side is Side.ESCALATE]


def test_criteria_fit_slack_checkboxes():
    assert all(len(c.text) <= 75 for c in CRITERIA)
    assert len(BY_ID) == len(CRITERIA)
    from bot.domain.triage import GROUPS

    for group in GROUPS:
        assert 1 <= len([c for c in CRITERIA if c.group == group]) <= 10  # Slack: ≤ 10 options per checkbox group


@pytest.mark.parametrize("criterion", KEEP, ids=lambda c: c.id)
def test_each_keep_condition_alone_keeps_it_in_support(criterion):
    decision = decide({criterion.id})
    assert not decision.escalate and decision.reasons == (criterion,)


@pytest.mark.parametrize("criterion", ESCALATE, ids=lambda c: c.id)
def test_each_escalate_condition_alone_escalates_with_its_reason(criterion):
    decision = decide({criterion.id})
    assert decision.escalate and decision.reasons == (criterion,)
    expected = criterion.destination or Destination.SUPPORT_L2
    assert decision.destination is expected
    assert decision.severity is (criterion.severity or Severity.MEDIUM)


@pytest.mark.parametrize(
    ("checked", "destination"),
    [
        ({"confirmed_defect", "security_threat"}, Destination.SECURITY),  # security skips tiers and wins
        ({"confirmed_defect", "leadership_requested"}, Destination.LEADERSHIP),
        ({"not_advancing", "capability_gap"}, Destination.PRODUCT),
        ({"not_advancing", "design_decision"}, Destination.PRODUCT),
        ({"high_value_account", "policy_exception"}, Destination.LEADERSHIP),
        ({"exceeds_tooling", "db_inspection"}, Destination.ENGINEERING),
        ({"long_wait"}, Destination.SUPPORT_L2),
    ],
)
def test_destination_follows_the_most_specific_criterion(checked, destination):
    assert decide(checked).destination is destination


@pytest.mark.parametrize(
    ("checked", "severity"),
    [
        ({"production_down"}, Severity.CRITICAL),
        ({"data_loss"}, Severity.CRITICAL),
        ({"security_threat"}, Severity.CRITICAL),
        ({"multiple_customers", "high_value_account"}, Severity.CRITICAL),
        ({"confirmed_defect", "core_blocked"}, Severity.HIGH),
        ({"sla_breach"}, Severity.HIGH),
        ({"confirmed_defect", "workaround"}, Severity.MEDIUM),
        ({"confirmed_defect"}, Severity.MEDIUM),
    ],
)
def test_severity_follows_the_methods_definitions(checked, severity):
    assert decide(checked).severity is severity


def test_escalation_outweighs_a_workaround_but_says_so():
    decision = decide({"documented_fix", "data_loss"})
    assert decision.escalate and decision.cautions == (BY_ID["documented_fix"],)


def test_nothing_checked_keeps_it_in_support():
    decision = decide(set())
    assert not decision.escalate and decision.reasons == ()


def test_context_alone_does_not_escalate():
    assert not decide({"capability_gap", "core_blocked"}).escalate


def test_unknown_ids_are_ignored():
    assert decide({"made_up", "production_down"}).reasons == (BY_ID["production_down"],)

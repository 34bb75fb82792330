"""Brief validation: required fields per destination, numbers not adjectives, dates and deadlines."""

from datetime import timedelta

import pytest

from bot.domain.brief import Destination, RequestKind, Severity
from bot.domain.validation import BriefInvalid, validate_draft
from tests.factories import NOW, draft


def errors_of(d) -> dict[str, str]:
    with pytest.raises(BriefInvalid) as err:
        validate_draft(d, now=NOW)
    return err.value.errors


@pytest.mark.parametrize("destination", list(Destination))
def test_a_complete_draft_is_a_valid_brief_for_every_destination(destination):
    brief = validate_draft(draft(destination), now=NOW)
    assert brief.destination is destination
    assert brief.severity is Severity.HIGH
    assert brief.impact.affected_customers == 12
    assert brief.impact.arr_exposed is not None and brief.impact.arr_exposed.currency == "USD"
    assert [a.outcome for a in brief.actions_taken][0] == "same timeout"
    assert brief.request.kind is RequestKind.FIX
    assert brief.request.deadline.tzinfo is not None
    package = {
        Destination.SUPPORT_L2: brief.support_l2,
        Destination.ENGINEERING: brief.engineering,
        Destination.PRODUCT: brief.product,
        Destination.SECURITY: brief.security,
        Destination.LEADERSHIP: brief.leadership,
    }
    assert package[destination] is not None
    assert sum(p is not None for p in package.values()) == 1


def test_empty_draft_names_every_common_required_field():
    errs = errors_of({})
    for field in (
        "destination",
        "severity",
        "summary",
        "affected_customers",
        "depth",
        "operational_effect",
        "since",
        "sla_position",
        "narrative",
        "actions_taken",
        "last_update_on",
        "last_update",
        "expectation",
        "request_kind",
        "ask",
        "deadline",
    ):
        assert field in errs, field
    assert "references" not in errs and "affected_names" not in errs  # optional stays optional


@pytest.mark.parametrize(
    ("destination", "missing"),
    [
        (Destination.SUPPORT_L2, "customer_context"),
        (Destination.ENGINEERING, "eng_kind"),
        (Destination.PRODUCT, "use_case"),
        (Destination.PRODUCT, "request_frequency"),
        (Destination.SECURITY, "observations"),
        (Destination.SECURITY, "affected_parties"),
        (Destination.SECURITY, "containment"),
        (Destination.SECURITY, "urgency"),
        (Destination.LEADERSHIP, "business_context"),
        (Destination.LEADERSHIP, "decision_needed"),
        (Destination.LEADERSHIP, "arr_exposed"),
    ],
)
def test_each_destination_requires_its_package(destination, missing):
    assert list(errors_of(draft(destination, **{missing: None}))) == [missing]


@pytest.mark.parametrize("field", ["repro_steps", "repro_expected", "repro_observed"])
def test_an_engineering_defect_needs_reproduction(field):
    assert field in errors_of(draft(Destination.ENGINEERING, **{field: "  "}))


def test_engineering_inspection_does_not_need_reproduction_steps():
    brief = validate_draft(draft(Destination.ENGINEERING, eng_kind="inspection", repro_steps=None, repro_expected=None, repro_observed=None), now=NOW)
    assert brief.engineering.reproduction.steps == []


@pytest.mark.parametrize("value", ["lots", "many", "huge"])
def test_counts_must_be_numbers(value):
    assert "Numbers, not adjectives" in errors_of(draft(affected_customers=value))["affected_customers"]


@pytest.mark.parametrize("field", ["arr_exposed", "pipeline_at_risk"])
def test_money_must_be_numbers(field):
    assert "not words" in errors_of(draft(**{field: "huge"}))[field]


@pytest.mark.parametrize("value", ["12", "1,200", "$48k", "48000 EUR"])
def test_numbers_are_accepted_in_money_fields(value):
    assert validate_draft(draft(arr_exposed=value), now=NOW).impact.arr_exposed.amount > 0


def test_deadline_must_be_in_the_future():
    past = int((NOW - timedelta(hours=1)).timestamp())
    assert "future" in errors_of(draft(deadline=past))["deadline"]
    soon = int((NOW + timedelta(minutes=1)).timestamp())
    assert "deadline" in errors_of(draft(deadline=soon))


def test_dates_in_the_future_are_refused_for_history():
    future = (NOW + timedelta(days=10)).date().isoformat()
    errs = errors_of(draft(since=future, last_update_on=future))
    assert set(errs) == {"since", "last_update_on"}


def test_actions_need_an_outcome_each():
    errs = errors_of(draft(actions_taken="Cleared cache -> same error\nRestarted the browser"))
    assert "Line 2" in errs["actions_taken"]


def test_actions_accept_numbering_and_arrows_agents_type():
    brief = validate_draft(draft(actions_taken="1. Cleared cache → same error\n2) Reset password => could log in\n- Tried API -> 500"), now=NOW)
    assert [(a.what, a.outcome) for a in brief.actions_taken] == [
        ("Cleared cache", "same error"),
        ("Reset password", "could log in"),
        ("Tried API", "500"),
    ]


def test_product_request_frequency_must_be_quantified():
    assert "numbers" in errors_of(draft(Destination.PRODUCT, request_frequency="lots of people want this"))["request_frequency"].lower()


def test_unknown_choices_are_field_errors_not_crashes():
    errs = errors_of({**draft(Destination.PRODUCT), "destination": "marketing", "severity": "apocalyptic", "depth": "very"})
    assert set(errs) >= {"destination", "severity", "depth"}


def test_text_longer_than_slack_allows_is_refused_not_cut():
    assert "3000" in errors_of(draft(narrative="x" * 3001))["narrative"]


def test_summary_is_one_line():
    assert "summary" in errors_of(draft(summary="x" * 151))


def test_reproduction_steps_drop_the_agents_own_numbering():
    brief = validate_draft(draft(Destination.ENGINEERING), now=NOW)
    assert brief.engineering.reproduction.steps[0] == "Open Reports > Monthly revenue"


def test_references_are_one_per_line():
    brief = validate_draft(draft(references="ZD-1\n\n  https://x.example/2  \n"), now=NOW)
    assert brief.references == ["ZD-1", "https://x.example/2"]

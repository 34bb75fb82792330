"""The brief as Block Kit and as text: structure, limits, escaping, and long text never cut."""

import json
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from blocks.brief_message import MESSAGE_BLOCKS_MAX, brief_message
from blocks.brief_modal import ModalContext, brief_modal, draft_from_state
from blocks.notices import delivery_failed_notice, export_view, posted_confirmation
from blocks.plaintext import brief_text
from bot.domain.brief import Destination
from bot.domain.validation import PACKAGE_FIELDS, validate_draft
from tests.factories import NOW, draft
from tests.support.blockkit_limits import check_call


def render(brief, ref="ESC-42"):
    return brief_message(ref=ref, brief=brief, agent_user_id="U0AGENT", escalation_id=7, today=NOW.date())


def all_text(blocks) -> str:
    return json.dumps(blocks, ensure_ascii=False)


@pytest.mark.parametrize("destination", list(Destination))
def test_posted_brief_follows_the_method_and_fits_slack(destination):
    brief = validate_draft(draft(destination), now=NOW)
    r = render(brief)
    assert check_call("chat.postMessage", {"channel": "C1", "text": r.text, "blocks": r.blocks}) == []
    assert r.continuations == []
    header = r.blocks[0]
    assert header["type"] == "header" and "ESC-42" in header["text"]["text"] and "High" in header["text"]["text"]
    assert destination.label in header["text"]["text"]
    body = all_text(r.blocks)
    order = ["ESCALATION:", "BUSINESS IMPACT", "REQUEST", "PROBLEM NARRATIVE", "CUSTOMER COMMUNICATION STATUS", "ATTACHMENTS AND REFERENCES"]
    positions = [body.index(h) for h in order]
    assert positions == sorted(positions)
    assert "ESC-42" in r.text and brief.summary in r.text  # fallback text for notifications
    assert "<!date^" in body  # the deadline shows in each reader's time zone


def test_business_impact_is_shown_as_fields_with_numbers():
    r = render(validate_draft(draft(), now=NOW))
    fields = [f["text"] for b in r.blocks if b["type"] == "section" for f in b.get("fields", [])]
    joined = "\n".join(fields)
    assert "12 customers (growing): Acme Corp, Globex" in joined
    assert "48,000 USD ARR exposed" in joined
    assert "At risk" in joined
    assert f"since {(NOW - timedelta(days=3)).date().isoformat()} (3 days)" in joined


def test_reproduction_steps_are_numbered_for_engineering():
    body = all_text(render(validate_draft(draft(Destination.ENGINEERING), now=NOW)).blocks)
    assert "1. Open Reports &gt; Monthly revenue" in body
    assert "3. Wait 60 seconds" in body
    assert "Expected outcome" in body and "Observed outcome" in body
    assert "```2026-11-26T10:02:11Z ERROR" in body


def test_typed_mentions_and_links_are_inert():
    brief = validate_draft(draft(summary="<!channel> help <@U999>", narrative="See <https://evil.example|our docs> & <!here>"), now=NOW)
    body = all_text(render(brief).blocks)
    assert "<!channel>" not in body and "<!here>" not in body and "<@U999>" not in body and "<https://evil" not in body
    assert "&lt;!channel&gt;" in body and "&amp;" in body


def test_long_text_is_split_and_continued_in_the_thread_never_cut():
    words = " ".join(f"word{i}" for i in range(520))  # about 3,000 characters per field
    long = dict.fromkeys(
        (
            "operational_effect",
            "narrative",
            "last_update",
            "expectation",
            "ask",
            "repro_baseline",
            "repro_expected",
            "repro_observed",
            "repro_ruled_out",
            "logs",
        ),
        words[:2990],
    )
    long["actions_taken"] = "\n".join(f"step {i} " + "x" * 60 + f" -> outcome {i}" for i in range(35))[:3000]
    long["repro_steps"] = "\n".join(f"Click button {i} " + "y" * 70 for i in range(35))[:3000]
    brief = validate_draft(draft(Destination.ENGINEERING, **long), now=NOW)
    r = render(brief)
    messages = [r.blocks, *r.continuations]
    assert len(r.continuations) >= 1
    for blocks in messages:
        assert len(blocks) <= MESSAGE_BLOCKS_MAX
        assert check_call("chat.postMessage", {"channel": "C1", "text": "x", "blocks": blocks}) == []
        assert sum(len(json.dumps(b)) for b in blocks) < 15_000
    # Every word the agent wrote reaches Slack somewhere.
    everything = all_text(messages)
    for token in long["narrative"].split():
        assert token in everything
    assert "Click button 34" in everything and "outcome 34" in everything
    # The first message keeps what the receiving team acts on.
    first = all_text(r.blocks)
    assert "REQUEST" in first and "BUSINESS IMPACT" in first and "Continued in the thread" in first


@pytest.mark.parametrize("destination", [None, *Destination])
def test_modal_fits_slack_for_every_destination(destination):
    view = brief_modal(destination=destination, context=ModalContext(source_channel_id="C1"))
    assert check_call("views.open", {"trigger_id": "1.2.3", "view": view}) == []
    assert len(view["blocks"]) <= 100
    input_ids = {b["block_id"] for b in view["blocks"] if b["type"] == "input"}
    if destination is not None:
        assert set(PACKAGE_FIELDS[destination]) <= input_ids
        others = set().union(*(PACKAGE_FIELDS[d] for d in Destination if d is not destination)) - set(PACKAGE_FIELDS[destination])
        assert not (others & input_ids)


def test_modal_marks_required_fields_by_destination():
    view = brief_modal(destination=Destination.LEADERSHIP)
    optional = {b["block_id"]: b["optional"] for b in view["blocks"] if b["type"] == "input"}
    assert optional["arr_exposed"] is False  # leadership needs revenue exposure
    assert optional["summary"] is False and optional["references"] is True
    assert (
        brief_modal(destination=Destination.PRODUCT)["blocks"]
        and {b["block_id"]: b["optional"] for b in brief_modal(destination=Destination.PRODUCT)["blocks"] if b["type"] == "input"}["arr_exposed"] is True
    )


def test_modal_prefill_and_metadata_fit_limits():
    huge = "z" * 5000
    ctx = ModalContext(source_channel_id="C1", origin="shortcut", prefill={"narrative": huge, "references": "https://x.slack.com/archives/C1/p1"})
    view = brief_modal(context=ctx)
    assert check_call("views.open", {"trigger_id": "1.2.3", "view": view}) == []
    assert len(view["private_metadata"]) <= 3000
    narrative = next(b for b in view["blocks"] if b.get("block_id") == "narrative")
    assert narrative["element"]["initial_value"] == huge[:3000]


def test_modal_state_reads_back_into_a_draft():
    values = {
        "destination": {"destination": {"type": "static_select", "selected_option": {"value": "security"}}},
        "summary": {"summary": {"type": "plain_text_input", "value": "Leak"}},
        "since": {"since": {"type": "datepicker", "selected_date": "2026-11-20"}},
        "deadline": {"deadline": {"type": "datetimepicker", "selected_date_time": 1764300000}},
        "reference_account": {"reference_account": {"type": "checkboxes", "selected_options": [{"value": "yes"}]}},
        "growth": {"growth": {"type": "static_select", "selected_option": None}},
        "junk": "not a dict",
    }
    assert draft_from_state(values) == {
        "destination": "security",
        "summary": "Leak",
        "since": "2026-11-20",
        "deadline": 1764300000,
        "reference_account": True,
        "growth": None,
    }


def test_text_export_is_the_method_structure_exactly():
    text = brief_text(validate_draft(draft(Destination.ENGINEERING), now=NOW), ref="ESC-42", tz="Europe/Paris")
    headings = [l for l in text.splitlines() if re.fullmatch(r"[A-Z][A-Z ]+( \(for defects\))?", l)]
    assert headings == [
        "BUSINESS IMPACT",
        "PROBLEM NARRATIVE",
        "REPRODUCTION PROCEDURE (for defects)",
        "ACTIONS ALREADY TAKEN",
        "CUSTOMER COMMUNICATION STATUS",
        "REQUEST",
        "ATTACHMENTS AND REFERENCES",
    ]
    lines = text.splitlines()
    assert lines[0].startswith("ESCALATION: CSV export times out")
    assert lines[1] == "Severity: High" and lines[2] == "Routed to: Engineering"
    assert "- Affected customers: 12 customers (growing): Acme Corp, Globex" in lines
    assert "- Revenue exposure: 48,000 USD ARR exposed; 120,000 EUR pipeline at risk" in lines
    assert "- SLA position: At risk; penalties: 10% service credit after 24 h" in lines
    assert "1. Open Reports > Monthly revenue" in lines
    assert "1. Cleared cache and retried -> same timeout" in lines
    paris = (NOW + timedelta(days=2)).astimezone(ZoneInfo("Europe/Paris"))  # the draft's deadline, 10:00 UTC
    assert f"- Hard deadline: {paris:%Y-%m-%d %H:%M} (Europe/Paris)" in lines
    assert "- ZD-48213" in lines


@pytest.mark.parametrize("destination", [d for d in Destination if d is not Destination.ENGINEERING])
def test_text_export_has_no_reproduction_section_outside_engineering(destination):
    text = brief_text(validate_draft(draft(destination), now=NOW))
    assert "REPRODUCTION PROCEDURE" not in text
    assert "REQUEST" in text


def test_notices_fit_slack():
    text, blocks = posted_confirmation(ref="ESC-1", summary="<!here> s", channel_id="C1", permalink="https://x.slack.com/archives/C1/p1")
    assert check_call("chat.postMessage", {"channel": "U1", "text": text, "blocks": blocks}) == []
    assert "<!here>" not in json.dumps(blocks)
    text, blocks = delivery_failed_notice(ref="ESC-1", error="not_in_channel", channel_id="C1", escalation_id=1)
    assert "/invite" in text
    assert check_call("chat.postMessage", {"channel": "U1", "text": text, "blocks": blocks}) == []
    view = export_view(ref="ESC-1000", text="a & b <c>\n" * 2000)
    assert check_call("views.open", {"trigger_id": "1.2.3", "view": view}) == []


def test_the_blank_form_is_built_once_and_reads_as_if_built_each_time():
    from blocks.brief_modal import ModalContext, _blocks, brief_modal

    first = brief_modal(context=ModalContext(source_channel_id="C1"))
    second = brief_modal(context=ModalContext(source_channel_id="C2", origin="command"))
    assert first["blocks"] == second["blocks"] == _blocks(None, None, {}, None)
    assert first["private_metadata"] != second["private_metadata"]
    first["blocks"].pop()  # a caller's list is its own
    assert second["blocks"] == _blocks(None, None, {}, None)
    # A prefill or a notice is never served from the cache.
    prefilled = brief_modal(context=ModalContext(prefill={"summary": "Acme SSO down"}))
    assert "Acme SSO down" in json.dumps(prefilled["blocks"])
    assert "Heads up" in json.dumps(brief_modal(notice="Heads up")["blocks"])


def test_a_re_rendered_form_keeps_the_chosen_deadline():
    """Picking a destination re-renders the form from its state: the hard deadline (epoch seconds from
    the datetimepicker) must survive it like the text fields do."""
    from blocks.brief_modal import initial_from_state

    deadline = int((NOW + timedelta(hours=4)).timestamp())
    values = {
        "deadline": {"deadline": {"type": "datetimepicker", "selected_date_time": deadline}},
        "summary": {"summary": {"type": "plain_text_input", "value": "Exports fail"}},
    }
    initial = initial_from_state(values)
    assert initial == {"deadline": deadline, "summary": "Exports fail"}
    view = brief_modal(destination=Destination.ENGINEERING, initial=initial)
    picker = next(b["element"] for b in view["blocks"] if b.get("block_id") == "deadline")
    assert picker["initial_date_time"] == deadline

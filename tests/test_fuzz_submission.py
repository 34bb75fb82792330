"""The submission parser, fuzzed: missing keys, wrong types, absurd values, hostile text. Never a
crash (a 500 to Slack), always field errors on fields the modal shows or a valid, stored brief whose
message stays within Block Kit's limits. Example counts are modest: the suite runs on 2 cores."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blocks.brief_message import brief_message
from blocks.brief_modal import draft_from_state
from bot.domain.brief import Destination
from bot.domain.validation import FIELDS, BriefInvalid, validate_draft
from tests.conftest import AGENT, TEAM
from tests.e2e import choose, open_modal, response_json, state_for
from tests.factories import NOW, draft
from tests.support import blockkit_limits
from tests.support.slack_requests import view_submission

# Text people type: emoji, right-to-left, zero-width joiners, mrkdwn and mention syntax, long runs.
HOSTILE = st.sampled_from(
    [
        "<!channel>",
        "<!here>",
        "<@U0BOSS>",
        "<https://evil.example|https://bank.example>",
        "&amp;",
        "*bold* _it_ ~x~ `c`",
        "\u202eevil\u202c",
        "a\u200db\u200b",
        "👩‍👩‍👧‍👦🏳️‍🌈",
        "مرحبا بالعالم",
        "\n\n",
        " ",
    ]
)
TEXT = st.one_of(st.text(max_size=60), HOSTILE, st.builds(lambda s, n: (s * n)[:3100], st.sampled_from(["x", "é", "👍", "<!here> "]), st.integers(1, 3100)))
JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
KINDS = st.sampled_from(["plain_text_input", "static_select", "radio_buttons", "checkboxes", "datepicker", "datetimepicker", "bogus"])


@st.composite
def element_state(draw):
    kind = draw(KINDS)
    state = {"type": kind}
    if draw(st.booleans()):
        key = {
            "plain_text_input": "value",
            "static_select": "selected_option",
            "radio_buttons": "selected_option",
            "checkboxes": "selected_options",
            "datepicker": "selected_date",
            "datetimepicker": "selected_date_time",
        }.get(kind, "value")
        if key == "selected_option" and draw(st.booleans()):
            state[key] = {"value": draw(st.one_of(TEXT, JUNK, st.sampled_from([d.value for d in Destination] + ["critical", "high", "defect"])))}
        elif key == "selected_date_time" and draw(st.booleans()):
            state[key] = draw(st.integers(-(2**63), 2**63))
        else:
            state[key] = draw(st.one_of(TEXT, JUNK))
    return state


STATE = st.dictionaries(st.one_of(st.sampled_from(sorted(FIELDS)), st.text(max_size=10)), st.one_of(st.builds(lambda b: b, element_state()), JUNK), max_size=12)


def _shaped(values: dict) -> dict:
    """view.state.values nests each element under its block id; keep what is already a dict."""
    return {k: ({k: v} if isinstance(v, dict) and "type" in v else v) for k, v in values.items()}


@settings(max_examples=300, deadline=None)
@given(values=STATE)
def test_the_parser_gives_field_errors_or_a_brief_never_a_crash(values):
    raw = draft_from_state(_shaped(values))
    try:
        brief = validate_draft(raw, now=NOW)
    except BriefInvalid as invalid:
        assert invalid.errors and set(invalid.errors) <= set(FIELDS)
        assert all(isinstance(m, str) and 0 < len(m) <= 150 for m in invalid.errors.values())  # Slack shows errors under the field
        return
    rendered = brief_message(ref="ESC-1", brief=brief, agent_user_id=AGENT, escalation_id=1, today=NOW.date())
    assert blockkit_limits.check_message({"text": rendered.text, "blocks": rendered.blocks}) == []


@settings(max_examples=60, deadline=None)
@given(overrides=st.dictionaries(st.sampled_from(sorted(set(FIELDS) - {"destination", "reference_account", "deadline"})), TEXT, max_size=8))
def test_hostile_text_in_a_valid_brief_renders_within_limits_and_pings_nobody(overrides):
    values = draft(Destination.ENGINEERING, now=NOW)
    values.update(overrides)
    try:
        brief = validate_draft(values, now=NOW)
    except BriefInvalid:
        return
    rendered = brief_message(ref="ESC-1", brief=brief, agent_user_id=AGENT, escalation_id=1, today=NOW.date())
    blocks = [rendered.blocks, *rendered.continuations]
    for part in blocks:
        assert blockkit_limits.check_message({"text": rendered.text, "blocks": part}) == []
    body = json.dumps([blocks, rendered.text], ensure_ascii=False)
    for ping in ("<!channel>", "<!here>", "<@U0BOSS>", "<https://evil.example|"):
        assert ping not in body  # typed text is escaped: no mention, no disguised link


@pytest.fixture
def brief_view(bot):
    return choose(bot, open_modal(bot), "destination", Destination.SECURITY.value)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=STATE, keep=st.booleans())
def test_fuzzed_submissions_over_signed_http_never_fail(bot, brief_view, values, keep):
    """Through the real bot: the answer is always 200 with field errors on fields the modal has, an
    updated view, or a stored brief."""
    base = state_for(brief_view, draft(Destination.SECURITY, now=bot.clock.now())) if keep else {}
    body, ctype = view_submission(brief_view, base, user_id=AGENT, team_id=TEAM)
    payload = json.loads(parse_qs(body)["payload"][0])
    payload["view"]["state"]["values"].update(_shaped(values))  # raw: whatever a client could send
    response = bot.sender.post(urlencode({"payload": json.dumps(payload)}), ctype)
    assert response.status_code == 200, response.text
    body = response_json(response)
    assert body.get("response_action") in ("errors", "update"), body
    if body["response_action"] == "errors":
        shown = {b.get("block_id") for b in brief_view["blocks"] if b.get("type") == "input"}
        assert set(body["errors"]) <= shown
    else:
        assert blockkit_limits.check_view(body["view"]) == []


def test_mentions_and_disguised_links_typed_into_a_brief_reach_the_channel_inert(bot):
    """Through the whole path: what was typed is shown, escaped; nobody is pinged, no link disguised."""
    from tests.conftest import CHANNELS
    from tests.e2e import escalate, wait_until

    hostile = "<!channel> <!here> <@U0BOSS> <https://evil.example|https://bank.example> & \u202eRTL\u202c a\u200db 👩‍👩‍👧‍👦"
    escalate(bot, Destination.ENGINEERING, summary="Export broken <!here>", narrative=hostile + " " + "x" * 2800, logs=hostile)
    channel = CHANNELS[Destination.ENGINEERING][0]
    post = wait_until(lambda: [c for c in bot.slack.calls("chat.postMessage") if c.args["channel"] == channel], what="the brief")[0]
    text = json.dumps([post.args["blocks"], post.args["text"]], ensure_ascii=False)
    for ping in ("<!channel>", "<!here>", "<@U0BOSS>", "<https://evil.example|"):
        assert ping not in text
    assert "&lt;!channel&gt;" in text and "👩‍👩‍👧‍👦" in text and "\u202eRTL" in text
    assert post.ok and post.violations == []

"""The fast form decoder gives exactly what urllib (and so Bolt) gives, and the bot serves with it."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote_plus, unquote_plus

from hypothesis import given
from hypothesis import strategies as st
from slack_bolt.request.internals import parse_body as bolt_parse_body

from bot.domain.brief import Destination
from bot.slack.requests import parse_body, parse_form, unquote_form
from tests.conftest import AGENT, TEAM
from tests.e2e import escalate, open_modal, state_for
from tests.factories import draft
from tests.support.slack_requests import slash_command, view_submission

# Raw characters a form body may hold, escapes broken on purpose included.
_RAW = st.text(alphabet=st.sampled_from(list("ab=&+%;_ \t\r\n0123456789ABCDEFabcdefé☃")), max_size=40)


@given(st.text(max_size=60))
def test_decoding_what_was_encoded_matches_urllib(text):
    encoded = quote_plus(text)
    assert unquote_form(encoded) == unquote_plus(encoded) == text


@given(_RAW)
def test_any_string_decodes_as_urllib_decodes_it(raw):
    assert unquote_form(raw) == unquote_plus(raw)


@given(_RAW)
def test_any_body_splits_as_parse_qsl_splits_it(raw):
    assert parse_form(raw) == dict(parse_qsl(raw, keep_blank_values=True))


@given(st.dictionaries(st.sampled_from(["payload", "text", "command", "x"]), st.text(max_size=30), max_size=4))
def test_form_bodies_parse_as_bolt_parses_them(fields):
    import json

    if "payload" in fields:
        fields["payload"] = json.dumps({"type": "view_submission", "note": fields["payload"]})
    body = "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in fields.items())
    assert parse_body(body, "application/x-www-form-urlencoded") == bolt_parse_body(body, "application/x-www-form-urlencoded")


def test_a_whole_brief_submission_parses_as_bolt_parses_it(bot):
    view = open_modal(bot)
    body, ctype = view_submission(view, state_for(view, draft(summary="Exports fail: 50% of runs = “timeouts” & retries ☃")), user_id=AGENT, team_id=TEAM)
    assert body.count("%") > 1000  # a real modal: thousands of escapes
    assert parse_body(body, ctype) == bolt_parse_body(body, ctype)
    command, ctype = slash_command(text="Acme SSO 100% down", user_id=AGENT, team_id=TEAM)
    assert parse_body(command, ctype) == bolt_parse_body(command, ctype)
    assert parse_body('{"type": "url_verification"}', "application/json") == {"type": "url_verification"}


def test_the_endpoint_serves_a_submission_parsed_by_the_fast_path(bot):
    """Through signed HTTP: the brief typed with escapes everywhere is stored exactly as typed."""
    from sqlmodel import select

    from bot.storage.models import Escalation

    summary = "Billing 100% down = “lost” revenue & retries; ☃"
    _view, response = escalate(bot, Destination.ENGINEERING, summary=summary)
    assert response.status_code == 200
    bot.slack.wait_for("chat.postMessage")
    with bot.db.session() as s:
        (row,) = list(s.exec(select(Escalation)))
    assert row.summary == summary


def test_payloads_json_reads_cannot_read_are_still_read():
    """orjson refuses a lone surrogate escape and NaN; such a payload is read as json reads it."""
    body = "payload=" + quote_plus('{"type": "block_actions", "value": "\\ud800", "n": NaN}')
    assert parse_body(body, "application/x-www-form-urlencoded") == bolt_parse_body(body, "application/x-www-form-urlencoded")

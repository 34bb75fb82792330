"""The brief form accepts its own examples (issue 19, item 1).

Every modal the bot renders (each destination, each Engineering kind) is read back from the
stand-in Slack; every example it shows in a text input's placeholder or hint ("e.g. $250k in open
deals") is typed into that input and submitted through signed HTTP, the real parsing and
validation path. The examples are parsed from the rendered views, never listed here, so a future
placeholder that the validator refuses fails this test. So does a validator message whose own
example ("… (e.g. $48k, 48000 EUR, €1.2m)") it would refuse.

Each submission carries one deliberate error (a hard deadline in the past), so nothing is filed:
the answer is the field errors, and the example's field must not be among them.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlmodel import select

from bot.domain.brief import Destination, EngineeringKind
from bot.storage.models import Escalation
from tests.conftest import CHANNELS
from tests.e2e import choose, open_modal, posts_to, response_json, submit, wait_until
from tests.factories import draft

# How a form introduces an example; what follows it (to the end of the text) is the example.
MARKER = re.compile(r"(?:\be\.g\.|\beg\.|\bfor example\b|\bsuch as\b)[:,]?\s*", re.I)
# Alternatives inside one example: "12 or 1,200", "$48k, 48000 EUR, €1.2m", "…; or “none yet”".
# A comma only with a space after it: "1,200" is one number.
ALTERNATIVES = re.compile(r"\s*(?:[,;]\s+(?:or\s+)?|\s+or\s+)\s*")
QUOTES = "“”\"'‘’"


def candidates(example: str) -> list[str]:
    """What an agent may copy from one example: all of it, and each alternative it lists."""
    example = example.strip().rstrip(".").strip().strip(QUOTES)
    if not example:
        return []
    found = [example]
    if "\n" not in example:
        found += [p.strip().strip(QUOTES) for p in ALTERNATIVES.split(example) if p.strip().strip(QUOTES)]
    return list(dict.fromkeys(found))


def examples_of(text: str | None, *, whole_if_unmarked: bool) -> list[str]:
    """A placeholder with no marker is itself what to type (a sample); a hint only when it has one."""
    if not text:
        return []
    marker = MARKER.search(text)
    if marker:
        return candidates(text[marker.end() :])
    return candidates(text) if whole_if_unmarked else []


def message_examples(message: str) -> list[str]:
    """The examples an error message gives: "(e.g. $48k, 48000 EUR, €1.2m)", "e.g. “14 customers…”."."""
    found: list[str] = []
    for match in re.finditer(r"(?:\be\.g\.|\bfor example\b)[:,]?\s*(.+?)(?:\)|\.(?=\s|$)|$)", message):
        found += candidates(match.group(1))
    return found


def text_inputs(view: dict) -> dict[str, list[str]]:
    """{field: examples} for every plain-text input of a rendered view."""
    found: dict[str, list[str]] = {}
    for block in view["blocks"]:
        element = block.get("element") or {}
        if block.get("type") != "input" or element.get("type") != "plain_text_input":
            continue
        texts = examples_of((element.get("placeholder") or {}).get("text"), whole_if_unmarked=True)
        texts += examples_of((block.get("hint") or {}).get("text"), whole_if_unmarked=False)
        found[block["block_id"]] = list(dict.fromkeys(texts))
    return found


def every_form(bot) -> list[tuple[str, dict, dict]]:
    """(name, rendered view, valid values for it) for each destination and each Engineering kind."""
    forms = []
    for destination in Destination:
        view = open_modal(bot)
        view = choose(bot, view, "destination", destination.value)
        kinds = list(EngineeringKind) if destination is Destination.ENGINEERING else [None]
        for kind in kinds:
            if kind is not None:  # the same form, re-rendered per kind (each from the latest view: its hash)
                view = choose(bot, view, "eng_kind", kind.value, {"destination": {"destination": destination.value}})
            shown = view
            values = draft(destination, now=bot.clock.now(), **({"eng_kind": kind.value} if kind else {}))
            forms.append((destination.value + (f"/{kind.value}" if kind else ""), shown, values))
    return forms


def errors_when_typed(bot, view: dict, values: dict, field: str, typed: str) -> dict[str, str]:
    """Submit `values` with `typed` in `field` and a hard deadline in the past: the field errors."""
    past = int((bot.clock.now() - timedelta(hours=1)).timestamp())
    response = submit(bot, view, {**values, field: typed, "deadline": past})
    assert response.status_code == 200, response.text
    body = response_json(response)
    assert body.get("response_action") == "errors", body  # never filed: the deadline is refused
    return body["errors"]


def test_every_example_the_form_shows_is_accepted_as_typed(bot):
    tried: list[tuple[str, str, str]] = []
    refused: list[tuple[str, str, str, str]] = []
    for name, view, values in every_form(bot):
        for field, examples in text_inputs(view).items():
            for example in examples:
                errors = errors_when_typed(bot, view, values, field, example)
                assert "deadline" in errors  # the submission went through the real validation
                tried.append((name, field, example))
                if field in errors:
                    refused.append((name, field, example, errors[field]))
    assert not refused, "the form refuses its own examples:\n" + "\n".join(map(str, refused))
    # The parse found what the form shows (this list is a floor, not where the examples come from).
    shown = {(field, example) for _name, field, example in tried}
    assert {("pipeline_at_risk", "$250k in open deals"), ("arr_exposed", "€1.2m"), ("affected_customers", "1,200")} <= shown
    assert {name for name, _f, _e in tried} == {d.value for d in Destination if d is not Destination.ENGINEERING} | {
        f"engineering/{k.value}" for k in EngineeringKind
    }
    assert len(tried) > 100
    with bot.db.session() as session:
        assert list(session.exec(select(Escalation))) == []


def test_every_example_in_the_validators_own_messages_is_accepted(bot):
    """Words where a number belongs are refused with a message that gives examples: those pass."""
    checked = []
    for _name, view, values in every_form(bot):
        for field in text_inputs(view):
            message = errors_when_typed(bot, view, values, field, "lots").get(field)
            if not message:
                continue
            for example in message_examples(message):
                checked.append((field, example))
                assert field not in errors_when_typed(bot, view, values, field, example), (field, example)
    assert {"affected_customers", "arr_exposed", "pipeline_at_risk", "request_frequency"} <= {f for f, _ in checked}


def test_words_alone_are_still_refused_with_the_same_message(bot):
    _name, view, values = every_form(bot)[0]
    for field, word in (("affected_customers", "lots"), ("pipeline_at_risk", "huge"), ("arr_exposed", "a lot")):
        message = errors_when_typed(bot, view, values, field, word)[field]
        assert "not words" in message and "Numbers, not adjectives" in message


def test_a_number_with_words_is_stored_and_shown_with_its_note(bot):
    view = open_modal(bot)
    view = choose(bot, view, "destination", Destination.SUPPORT_L2.value)
    values = draft(
        Destination.SUPPORT_L2,
        now=bot.clock.now(),
        affected_customers="about 300 users",
        arr_exposed="$120k across two renewals",
        pipeline_at_risk="$250k in open deals",
    )
    assert response_json(submit(bot, view, values))["response_action"] == "update"
    channel = CHANNELS[Destination.SUPPORT_L2][0]
    post = wait_until(lambda: posts_to(bot, channel), what="the brief posted")[0]
    text = json.dumps(post.args["blocks"], ensure_ascii=False)
    assert "300 customers — about 300 users" in text
    assert "120,000 USD ARR exposed — across two renewals" in text
    assert "250,000 USD pipeline at risk — in open deals" in text

    with bot.db.session() as session:
        row = session.exec(select(Escalation)).one()
    impact = row.brief["impact"]
    assert (impact["affected_customers"], impact["affected_customers_note"]) == (300, "about 300 users")
    assert (impact["pipeline_at_risk"], impact["pipeline_at_risk_note"]) == ({"amount": "250000", "currency": "USD"}, "in open deals")
    _ref, exported = bot.services.escalations.export_text(row.id)
    assert "- Revenue exposure: 120,000 USD ARR exposed — across two renewals; 250,000 USD pipeline at risk — in open deals" in exported
    assert "- Affected customers: 300 customers — about 300 users" in exported

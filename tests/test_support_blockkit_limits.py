"""The Block Kit limits checker catches each documented limit with a clear message."""

from __future__ import annotations

import copy
import json

import pytest

from tests.support.blockkit_limits import check_blocks, check_call, check_message, check_view


def pt(text: str, **kw) -> dict:
    return {"type": "plain_text", "text": text, **kw}


def md(text: str) -> dict:
    return {"type": "mrkdwn", "text": text}


def opt(text: str, value: str, **kw) -> dict:
    return {"text": pt(text), "value": value, **kw}


def escalation_modal() -> dict:
    """A realistic escalation modal: every kind of input the bot is likely to use."""
    sev = [opt("SEV1 – outage", "sev1"), opt("SEV2 – degraded", "sev2"), opt("SEV3 – minor", "sev3")]
    return {
        "type": "modal",
        "callback_id": "escalation_submit",
        "private_metadata": json.dumps({"channel": "C0SUPPORT", "ts": "1700000000.000100"}),
        "title": pt("Escalate to engineering"),
        "submit": pt("Send brief"),
        "close": pt("Cancel"),
        "blocks": [
            {"type": "header", "block_id": "hdr", "text": pt("New escalation :rotating_light:", emoji=True)},
            {
                "type": "section",
                "block_id": "intro",
                "text": md("*Customer impact first.* Quantify it: how many accounts, since when."),
                "accessory": {
                    "type": "overflow",
                    "action_id": "help_menu",
                    "options": [opt("Escalation guide", "guide", url="https://example.com/guide"), opt("Runbooks", "runbooks")],
                },
            },
            {"type": "divider"},
            {
                "type": "input",
                "block_id": "summary",
                "label": pt("Summary"),
                "hint": pt("One line engineers will read in a page."),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "summary_input",
                    "max_length": 150,
                    "min_length": 10,
                    "placeholder": pt("Checkout fails for EU customers on Safari"),
                },
            },
            {
                "type": "input",
                "block_id": "severity",
                "label": pt("Severity"),
                "element": {"type": "static_select", "action_id": "severity_select", "options": sev, "initial_option": sev[1]},
            },
            {
                "type": "input",
                "block_id": "accounts",
                "label": pt("Affected accounts"),
                "element": {"type": "number_input", "action_id": "accounts_input", "is_decimal_allowed": False, "min_value": "1"},
            },
            {
                "type": "input",
                "block_id": "started",
                "label": pt("Started at"),
                "element": {"type": "datetimepicker", "action_id": "started_at", "initial_date_time": 1700000000},
            },
            {
                "type": "input",
                "block_id": "due",
                "optional": True,
                "label": pt("Customer deadline"),
                "element": {"type": "datepicker", "action_id": "due_date", "initial_date": "2024-02-29"},
            },
            {
                "type": "input",
                "block_id": "followup",
                "optional": True,
                "label": pt("Follow-up time"),
                "element": {"type": "timepicker", "action_id": "followup_time", "initial_time": "09:30", "timezone": "Europe/Paris"},
            },
            {
                "type": "input",
                "block_id": "team",
                "label": pt("Route to"),
                "element": {
                    "type": "radio_buttons",
                    "action_id": "team_radio",
                    "options": [{"text": md("*Payments*"), "value": "payments"}, {"text": md("*Identity*"), "value": "identity"}],
                },
            },
            {
                "type": "input",
                "block_id": "flags",
                "optional": True,
                "label": pt("Flags"),
                "element": {
                    "type": "checkboxes",
                    "action_id": "flags_cb",
                    "options": [opt("VIP customer", "vip", description=pt("Contract tier A")), opt("Data loss", "data_loss")],
                },
            },
            {
                "type": "input",
                "block_id": "owner",
                "label": pt("Support owner"),
                "element": {"type": "users_select", "action_id": "owner_select", "placeholder": pt("Pick a person")},
            },
            {
                "type": "input",
                "block_id": "details",
                "label": pt("Details"),
                "element": {"type": "plain_text_input", "action_id": "details_input", "multiline": True, "max_length": 3000},
            },
            {"type": "context", "elements": [md("Briefs are posted to *#eng-escalations*."), pt("v1")]},
        ],
    }


def brief_message() -> dict:
    """A realistic chat.postMessage brief with buttons and fields."""
    return {
        "channel": "C0ENG",
        "text": "SEV2 escalation: Checkout fails for EU customers on Safari (42 accounts)",
        "blocks": [
            {"type": "header", "text": pt("SEV2 · Checkout fails for EU customers")},
            {
                "type": "section",
                "block_id": "facts",
                "fields": [md("*Accounts*\n42"), md("*Since*\n<!date^1700000000^{date_short_pretty} {time}|2023-11-14>"), md("*Owner*\n<@U123>")],
            },
            {"type": "section", "text": md("Payment step returns 500 for Safari 17 users in the EU region.")},
            {
                "type": "actions",
                "block_id": "brief_actions",
                "elements": [
                    {"type": "button", "action_id": "ack", "text": pt("Acknowledge"), "style": "primary", "value": "esc-17"},
                    {
                        "type": "button",
                        "action_id": "resolve",
                        "text": pt("Resolve"),
                        "value": "esc-17",
                        "confirm": {"title": pt("Resolve?"), "text": md("This closes the brief."), "confirm": pt("Resolve"), "deny": pt("Keep open")},
                    },
                    {"type": "static_select", "action_id": "snooze", "placeholder": pt("Snooze"), "options": [opt("1 hour", "1h"), opt("4 hours", "4h")]},
                ],
            },
            {"type": "context", "elements": [md("Escalated from <#C0SUPPORT>")]},
        ],
        "metadata": {"event_type": "escalation_brief", "event_payload": {"id": "esc-17"}},
    }


def test_realistic_modal_and_message_pass():
    assert check_view(escalation_modal(), method="views.open") == []
    assert check_message(brief_message()) == []
    assert check_call("views.open", {"trigger_id": "x", "view": escalation_modal()}) == []
    assert check_call("chat.postMessage", brief_message()) == []


def test_form_encoded_json_strings_are_decoded():
    msg = brief_message()
    msg["blocks"] = json.dumps(msg["blocks"])
    assert check_call("chat.postMessage", msg) == []
    assert check_call("views.open", {"view": json.dumps(escalation_modal())}) == []


def _modal_with(mutate) -> list[str]:
    v = escalation_modal()
    mutate(v)
    return check_view(v, method="views.open")


def _message_with(mutate) -> list[str]:
    m = brief_message()
    mutate(m)
    return check_message(m)


def _set(path, value):
    def f(obj):
        cur = obj
        for k in path[:-1]:
            cur = cur[k]
        cur[path[-1]] = value

    return f


def _del(path):
    def f(obj):
        cur = obj
        for k in path[:-1]:
            cur = cur[k]
        del cur[path[-1]]

    return f


MODAL_CASES = [
    # (id, mutation, expected message, exact?)
    ("section text 3001", _set(["blocks", 1, "text", "text"], "x" * 3001), "view.blocks[1](section): text is 3001 chars, over 3000"),
    ("section empty text", _set(["blocks", 1, "text", "text"], ""), "view.blocks[1](section): text is empty"),
    ("title 25", _set(["title", "text"], "x" * 25), "view: title is 25 chars, over 24"),
    ("title missing", _del(["title"]), "view: title is required"),
    ("title mrkdwn", _set(["title"], md("Escalate")), "view: title must be plain_text, got mrkdwn"),
    ("submit 25", _set(["submit", "text"], "x" * 25), "view: submit is 25 chars, over 24"),
    ("close 25", _set(["close", "text"], "x" * 25), "view: close is 25 chars, over 24"),
    ("submit missing with inputs", _del(["submit"]), "view: submit is required because blocks[3] is an input block"),
    ("private_metadata 3001", _set(["private_metadata"], "m" * 3001), "view: private_metadata is 3001 chars, over 3000"),
    ("callback_id 256", _set(["callback_id"], "c" * 256), "view: callback_id is 256 chars, over 255"),
    ("block_id 256", _set(["blocks", 1, "block_id"], "b" * 256), "view.blocks[1](section): block_id is 256 chars, over 255"),
    ("block_id duplicate", _set(["blocks", 4, "block_id"], "summary"), "view.blocks[4](input): block_id 'summary' duplicates view.blocks[3]"),
    (
        "action_id 256",
        _set(["blocks", 3, "element", "action_id"], "a" * 256),
        "view.blocks[3](input).element(plain_text_input): action_id is 256 chars, over 255",
    ),
    ("header mrkdwn", _set(["blocks", 0, "text"], md("*hi*")), "view.blocks[0](header): text must be plain_text, got mrkdwn"),
    ("header 151", _set(["blocks", 0, "text", "text"], "h" * 151), "view.blocks[0](header): text is 151 chars, over 150"),
    ("label 2001", _set(["blocks", 3, "label", "text"], "l" * 2001), "view.blocks[3](input): label is 2001 chars, over 2000"),
    ("label missing", _del(["blocks", 3, "label"]), "view.blocks[3](input): label is required"),
    ("hint 2001", _set(["blocks", 3, "hint", "text"], "h" * 2001), "view.blocks[3](input): hint is 2001 chars, over 2000"),
    (
        "input with button",
        _set(["blocks", 3, "element"], {"type": "button", "action_id": "b", "text": pt("Go")}),
        "view.blocks[3](input).element(button): element type 'button' is not allowed in an input block",
    ),
    ("input without element", _del(["blocks", 3, "element"]), "view.blocks[3](input): element is required"),
    ("max_length 3001", _set(["blocks", 3, "element", "max_length"], 3001), "view.blocks[3](input).element(plain_text_input): max_length 3001 is over 3000"),
    (
        "min > max",
        _set(["blocks", 3, "element", "min_length"], 200),
        "view.blocks[3](input).element(plain_text_input): min_length 200 is greater than max_length 150",
    ),
    (
        "initial_value 3001",
        _set(["blocks", 12, "element", "initial_value"], "v" * 3001),
        "view.blocks[12](input).element(plain_text_input): initial_value is 3001 chars, over 3000",
    ),
    (
        "placeholder 151",
        _set(["blocks", 3, "element", "placeholder", "text"], "p" * 151),
        "view.blocks[3](input).element(plain_text_input): placeholder is 151 chars, over 150",
    ),
    (
        "select 101 options",
        _set(["blocks", 4, "element", "options"], [opt(f"o{i}", f"v{i}") for i in range(101)]),
        "view.blocks[4](input).element(static_select): 101 options, over 100",
    ),
    ("select 0 options", _set(["blocks", 4, "element", "options"], []), "view.blocks[4](input).element(static_select): 0 options, need at least 1"),
    (
        "option text 76",
        _set(["blocks", 4, "element", "options", 0, "text", "text"], "o" * 76),
        "view.blocks[4](input).element(static_select).options[0]: text is 76 chars, over 75",
    ),
    (
        "option value 76",
        _set(["blocks", 4, "element", "options", 2, "value"], "v" * 76),
        "view.blocks[4](input).element(static_select).options[2]: value is 76 chars, over 75",
    ),
    (
        "option description 76",
        _set(["blocks", 10, "element", "options", 0, "description", "text"], "d" * 76),
        "view.blocks[10](input).element(checkboxes).options[0]: description is 76 chars, over 75",
    ),
    (
        "initial_option not an option",
        _set(["blocks", 4, "element", "initial_option"], opt("SEV9", "sev9")),
        "view.blocks[4](input).element(static_select): initial_option value 'sev9' is not one of the options",
    ),
    (
        "radio 11",
        _set(["blocks", 9, "element", "options"], [opt(f"o{i}", f"v{i}") for i in range(11)]),
        "view.blocks[9](input).element(radio_buttons): 11 options, over 10",
    ),
    (
        "checkboxes 11",
        _set(["blocks", 10, "element", "options"], [opt(f"o{i}", f"v{i}") for i in range(11)]),
        "view.blocks[10](input).element(checkboxes): 11 options, over 10",
    ),
    (
        "overflow 6",
        _set(["blocks", 1, "accessory", "options"], [opt(f"o{i}", f"v{i}") for i in range(6)]),
        "view.blocks[1](section).accessory(overflow): 6 options, over 5",
    ),
    ("overflow 0", _set(["blocks", 1, "accessory", "options"], []), "view.blocks[1](section).accessory(overflow): 0 options, need at least 1"),
    (
        "datepicker not a date",
        _set(["blocks", 7, "element", "initial_date"], "2023-02-29"),
        "view.blocks[7](input).element(datepicker): initial_date '2023-02-29' is not a real date",
    ),
    (
        "datepicker bad format",
        _set(["blocks", 7, "element", "initial_date"], "2024-2-1"),
        "view.blocks[7](input).element(datepicker): initial_date '2024-2-1' is not YYYY-MM-DD",
    ),
    (
        "datepicker trailing junk",
        _set(["blocks", 7, "element", "initial_date"], "2024-02-01T00:00"),
        "view.blocks[7](input).element(datepicker): initial_date '2024-02-01T00:00' is not YYYY-MM-DD",
    ),
    (
        "timepicker 24:00",
        _set(["blocks", 8, "element", "initial_time"], "24:00"),
        "view.blocks[8](input).element(timepicker): initial_time '24:00' is not HH:mm (00:00-23:59)",
    ),
    (
        "timepicker seconds",
        _set(["blocks", 8, "element", "initial_time"], "09:30:00"),
        "view.blocks[8](input).element(timepicker): initial_time '09:30:00' is not HH:mm (00:00-23:59)",
    ),
    (
        "datetimepicker str",
        _set(["blocks", 6, "element", "initial_date_time"], "1700000000"),
        "view.blocks[6](input).element(datetimepicker): initial_date_time '1700000000' must be an integer UNIX timestamp",
    ),
    (
        "datetimepicker ms",
        _set(["blocks", 6, "element", "initial_date_time"], 1700000000000),
        "view.blocks[6](input).element(datetimepicker): initial_date_time 1700000000000 is outside 0..9999999999",
    ),
    (
        "datetimepicker negative",
        _set(["blocks", 6, "element", "initial_date_time"], -1),
        "view.blocks[6](input).element(datetimepicker): initial_date_time -1 is outside 0..9999999999",
    ),
    (
        "number input without is_decimal_allowed",
        _del(["blocks", 5, "element", "is_decimal_allowed"]),
        "view.blocks[5](input).element(number_input): is_decimal_allowed (true/false) is required",
    ),
    ("context 11", _set(["blocks", 13, "elements"], [md(str(i)) for i in range(11)]), "view.blocks[13](context): 11 elements, over 10"),
    (
        "emoji on mrkdwn",
        _set(["blocks", 1, "text"], {"type": "mrkdwn", "text": "x", "emoji": True}),
        "view.blocks[1](section): text sets emoji, which is allowed only on plain_text",
    ),
    (
        "text object bad type",
        _set(["blocks", 1, "text"], {"type": "markdown", "text": "x"}),
        "view.blocks[1](section): text has type 'markdown', must be 'plain_text' or 'mrkdwn'",
    ),
    ("unknown block", _set(["blocks", 2], {"type": "spacer"}), "view.blocks[2](spacer): unknown block type 'spacer'"),
    ("bad view type", _set(["type"], "dialog"), "view: type is 'dialog', must be 'modal' or 'home'"),
]


@pytest.mark.parametrize("mutate,expected", [c[1:] for c in MODAL_CASES], ids=[c[0] for c in MODAL_CASES])
def test_modal_violation_is_caught_with_clear_message(mutate, expected):
    problems = _modal_with(mutate)
    assert expected in problems, problems


MESSAGE_CASES = [
    ("text 40001", _set(["text"], "t" * 40001), "text: is 40001 chars, over 40000"),
    ("no fallback text", _del(["text"]), "blocks: given without a fallback `text`: notifications and screen readers will show nothing"),
    ("blank fallback text", _set(["text"], "  "), "blocks: given without a fallback `text`: notifications and screen readers will show nothing"),
    ("51 blocks", _set(["blocks"], [{"type": "divider"}] * 51), "blocks: 51 blocks, over 50 for a message"),
    ("fields 11", _set(["blocks", 1, "fields"], [md(str(i)) for i in range(11)]), "blocks[1](section): 11 fields, over 10"),
    ("field 2001", _set(["blocks", 1, "fields", 0, "text"], "f" * 2001), "blocks[1](section): fields[0] is 2001 chars, over 2000"),
    ("section without text or fields", _set(["blocks", 1], {"type": "section"}), "blocks[1](section): a section needs text or fields"),
    (
        "actions 26",
        _set(["blocks", 3, "elements"], [{"type": "button", "action_id": f"b{i}", "text": pt("b")} for i in range(26)]),
        "blocks[3](actions): 26 elements, over 25",
    ),
    ("button text 76", _set(["blocks", 3, "elements", 0, "text", "text"], "b" * 76), "blocks[3](actions).elements[0](button): text is 76 chars, over 75"),
    (
        "button text mrkdwn",
        _set(["blocks", 3, "elements", 0, "text"], md("*Ack*")),
        "blocks[3](actions).elements[0](button): text must be plain_text, got mrkdwn",
    ),
    ("button value 2001", _set(["blocks", 3, "elements", 0, "value"], "v" * 2001), "blocks[3](actions).elements[0](button): value is 2001 chars, over 2000"),
    (
        "button url 3001",
        _set(["blocks", 3, "elements", 0, "url"], "https://x/" + "u" * 2991),
        "blocks[3](actions).elements[0](button): url is 3001 chars, over 3000",
    ),
    (
        "button style",
        _set(["blocks", 3, "elements", 0, "style"], "secondary"),
        "blocks[3](actions).elements[0](button): style is 'secondary', must be 'primary' or 'danger' (or absent)",
    ),
    (
        "duplicate action_id in block",
        _set(["blocks", 3, "elements", 1, "action_id"], "ack"),
        "blocks[3](actions): action_id 'ack' appears twice in this block (elements[0] and elements[1])",
    ),
    ("duplicate block_id", _set(["blocks", 4, "block_id"], "facts"), "blocks[4](context): block_id 'facts' duplicates blocks[1]"),
    (
        "confirm title 101",
        _set(["blocks", 3, "elements", 1, "confirm", "title", "text"], "c" * 101),
        "blocks[3](actions).elements[1](button).confirm: title is 101 chars, over 100",
    ),
    (
        "confirm text 301",
        _set(["blocks", 3, "elements", 1, "confirm", "text", "text"], "c" * 301),
        "blocks[3](actions).elements[1](button).confirm: text is 301 chars, over 300",
    ),
    (
        "confirm confirm 31",
        _set(["blocks", 3, "elements", 1, "confirm", "confirm", "text"], "c" * 31),
        "blocks[3](actions).elements[1](button).confirm: confirm is 31 chars, over 30",
    ),
    (
        "confirm deny 31",
        _set(["blocks", 3, "elements", 1, "confirm", "deny", "text"], "c" * 31),
        "blocks[3](actions).elements[1](button).confirm: deny is 31 chars, over 30",
    ),
    ("context empty text", _set(["blocks", 4, "elements", 0, "text"], ""), "blocks[4](context).elements[0](mrkdwn): text is empty"),
    (
        "input element in actions",
        _set(["blocks", 3, "elements", 2], {"type": "plain_text_input", "action_id": "x"}),
        "blocks[3](actions).elements[2](plain_text_input): element type 'plain_text_input' is not allowed in an actions block",
    ),
    ("metadata without event_type", _set(["metadata"], {"event_payload": {}}), "metadata: event_type is required"),
]


@pytest.mark.parametrize("mutate,expected", [c[1:] for c in MESSAGE_CASES], ids=[c[0] for c in MESSAGE_CASES])
def test_message_violation_is_caught_with_clear_message(mutate, expected):
    problems = _message_with(mutate)
    assert expected in problems, problems


def test_exact_message_for_the_documented_example():
    v = escalation_modal()
    v["blocks"][3] = {"type": "section", "text": md("x" * 3001)}
    assert check_view(v) == ["view.blocks[3](section): text is 3001 chars, over 3000"]


def test_view_block_counts():
    v = escalation_modal()
    v["blocks"] = [{"type": "divider"}] * 101
    assert "view.blocks: 101 blocks, over 100 for a modal" in check_view(v)
    v["blocks"] = [{"type": "divider"}] * 100
    assert check_view(v) == []
    v["blocks"] = []
    assert "view.blocks: a modal needs at least 1 block" in check_view(v)
    home = {"type": "home", "blocks": [{"type": "divider"}] * 101}
    assert "view.blocks: 101 blocks, over 100 for a home" in check_view(home, method="views.publish")


def test_view_payload_size_limit():
    v = escalation_modal()
    # 99 sections of 2,600 chars stay within every per-block limit but total > 250 kB
    v["blocks"] = [{"type": "section", "text": md("é" * 2600)} for _ in range(99)]
    problems = check_view(v)
    assert len(problems) == 1 and problems[0].startswith("view: payload is ") and problems[0].endswith("bytes of JSON, over 250000")


def test_view_surface_must_match_method():
    home = {"type": "home", "blocks": [{"type": "divider"}]}
    assert check_call("views.publish", {"user_id": "U1", "view": home}) == []
    assert "view: type 'home' cannot be opened with views.open; use views.publish" in check_call("views.open", {"view": home})
    assert "view: type 'modal' cannot be published; views.publish takes type 'home'" in check_call("views.publish", {"view": escalation_modal()})


def test_home_needs_no_title_and_limits_are_not_off_by_one():
    assert check_view({"type": "home", "blocks": [{"type": "section", "text": md("x" * 3000)}]}) == []
    v = escalation_modal()
    v["title"]["text"] = "x" * 24
    v["private_metadata"] = "m" * 3000
    v["blocks"][3]["element"]["max_length"] = 3000
    v["blocks"][3]["element"]["initial_value"] = "v" * 3000
    v["blocks"][4]["element"]["options"][0]["value"] = "v" * 75
    v["blocks"][4]["element"]["initial_option"] = v["blocks"][4]["element"]["options"][1]
    v["blocks"][6]["element"]["initial_date_time"] = 9_999_999_999
    v["blocks"][1]["accessory"]["options"] = [opt(str(i), str(i)) for i in range(5)]
    assert check_view(v) == []
    m = brief_message()
    m["text"] = "t" * 40000
    m["blocks"] = [{"type": "divider"}] * 50
    assert check_message(m) == []


def test_message_without_blocks_needs_no_fallback():
    assert check_message({"channel": "C1", "text": "plain"}) == []
    assert check_message({"channel": "C1", "text": "x", "blocks": []}) == []


def test_check_blocks_standalone_and_garbage():
    assert check_blocks([{"type": "divider"}]) == []
    assert check_blocks("not json") == ["blocks: must be an array of blocks, got str"]
    assert check_view("nope") == ["view: must be an object, got str"]
    assert check_blocks([{"text": md("x")}]) == ["blocks[0](?): block has no type"]


def test_check_call_ignores_methods_without_blocks():
    assert check_call("conversations.info", {"channel": "C1"}) == []
    assert check_call("views.open", {"trigger_id": "t"}) == ["view: required"]


def test_inputs_are_not_mutated():
    v = escalation_modal()
    before = copy.deepcopy(v)
    check_view(v)
    assert v == before

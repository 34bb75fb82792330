"""Triage and tier rules over Slack's protocol: the decision helper, "Write the brief", L1/L2 routing."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from blocks import ids
from bot.domain.brief import Destination
from bot.domain.triage import CRITERIA, GROUPS
from bot.storage.models import Escalation
from tests.conftest import AGENT, CHANNELS, TEAM, _run_bot
from tests.e2e import choose, open_modal, response_json, submit, wait_until
from tests.factories import draft
from tests.support.slack_requests import view_submission

L2_GROUP = "S0L2GROUP1"
L2_AGENT = "U0L2AGENT"


def triage_values(view: dict, checked: set[str], symptom: str = "") -> dict:
    values = {ids.BLOCK_TRIAGE_SYMPTOM: {ids.BLOCK_TRIAGE_SYMPTOM: symptom}} if symptom else {}
    for index, group in enumerate(GROUPS):
        chosen = [c.id for c in CRITERIA if c.group == group and c.id in checked]
        if chosen:
            block = f"{ids.BLOCK_TRIAGE_GROUP_PREFIX}{index}"
            values[block] = {block: chosen}
    return values


def open_triage(bot) -> dict:
    assert bot.sender.command(command="/escalate", text="triage", user_id=AGENT, team_id=TEAM, channel_id="C0SUPPORT").status_code == 200
    return wait_until(lambda: [c for c in bot.slack.calls("views.open") if c.args["view"]["callback_id"] == ids.VIEW_TRIAGE], what="triage modal")[-1].response[
        "view"
    ]


def test_triage_says_escalate_with_reasons_destination_and_severity_then_prefills_the_brief(bot):
    view = open_triage(bot)
    groups = [b for b in view["blocks"] if b.get("block_id", "").startswith(ids.BLOCK_TRIAGE_GROUP_PREFIX)]
    assert [b["label"]["text"] for b in groups] == list(GROUPS)
    body, ctype = view_submission(
        view, triage_values(view, {"confirmed_defect", "core_blocked", "documented_fix"}, "CSV export times out over 10k rows"), user_id=AGENT, team_id=TEAM
    )
    result = response_json(bot.sender.post(body, ctype))
    assert result["response_action"] == "update"
    text = json.dumps(result["view"])
    assert "*Escalate* to *Engineering* as *High*" in text
    assert "Technical barrier:* A confirmed defect needs a code-level fix" in text
    assert "outweighed" in text and "documented fix" in text

    result_view = {**result["view"], "id": view["id"]}
    bot.sender.action(ids.ACTION_TRIAGE_WRITE, view=result_view, user_id=AGENT, team_id=TEAM)
    update = wait_until(lambda: [c for c in bot.slack.calls("views.update") if c.args["view"]["callback_id"] == ids.VIEW_BRIEF], what="brief modal")[-1]
    blocks = {b.get("block_id"): b for b in update.args["view"]["blocks"]}
    assert blocks["destination"]["element"]["initial_option"]["value"] == "engineering"
    assert blocks["severity"]["element"]["initial_option"]["value"] == "high"
    assert blocks["summary"]["element"]["initial_value"] == "CSV export times out over 10k rows"
    assert "repro_steps" in blocks  # the Engineering package is there from the start


def test_triage_says_keep_when_nothing_calls_for_escalation(bot):
    view = open_triage(bot)
    body, ctype = view_submission(view, triage_values(view, {"config_error"}), user_id=AGENT, team_id=TEAM)
    text = json.dumps(response_json(bot.sender.post(body, ctype))["view"])
    assert "Keep it in support" in text and "configuration or setup error" in text and "Escalate anyway" in text


def test_the_brief_modal_offers_triage_first(bot):
    view = open_modal(bot)
    assert any(e.get("action_id") == ids.ACTION_TRIAGE_FIRST for b in view["blocks"] if b["type"] == "actions" for e in b["elements"])
    bot.sender.action(ids.ACTION_TRIAGE_FIRST, view=view, user_id=AGENT, team_id=TEAM)
    update = wait_until(lambda: [c for c in bot.slack.calls("views.update") if c.args["view"]["callback_id"] == ids.VIEW_TRIAGE], what="triage view")[-1]
    assert json.loads(update.args["view"]["private_metadata"])["source_channel_id"] == "C0SUPPORT"


def test_help_lists_every_sub_command(bot):
    response = bot.sender.command(command="/escalate", text="help", user_id=AGENT, team_id=TEAM, channel_id="C0SUPPORT")
    body = response.json()
    assert body["response_type"] == "ephemeral"
    for sub in ("triage", "log ESC-42", "search", "Escalate this message"):
        assert sub in body["text"]


# --- tier rules ----------------------------------------------------------------------------------


@pytest.fixture
def tiered_bot(fake_slack, tmp_path, clock, request):
    fake_slack.usergroups = {L2_GROUP: [L2_AGENT]}
    fake_slack.add_user(L2_AGENT, "l2.lee", tz="UTC")
    enforce = getattr(request, "param", True)
    yield from _run_bot(fake_slack, f"sqlite:///{tmp_path / 'bot.db'}", clock, ESCALATION_L2_USERGROUP=L2_GROUP, ESCALATION_ENFORCE_TIERS=str(enforce).lower())


def escalate_as(bot, user: str, destination: Destination):
    view = open_modal(bot, user_id=user)
    wait_until(lambda: bot.slack.calls("usergroups.users.list"), what="tier lookup")
    view = choose(bot, view, "destination", destination.value)
    values = draft(destination, now=bot.clock.now(), eng_kind="inspection")
    return view, submit(bot, view, values, user_id=user)


def stored(bot) -> list[Escalation]:
    with bot.db.session() as s:
        return list(s.exec(select(Escalation)))


def test_an_l1_agent_asking_for_engineering_goes_to_l2_first_and_is_told_why(tiered_bot):
    bot = tiered_bot
    _, response = escalate_as(bot, AGENT, Destination.ENGINEERING)
    assert response_json(response)["response_action"] == "update"
    post = wait_until(lambda: [c for c in bot.slack.calls("chat.postMessage") if c.args["channel"] == CHANNELS[Destination.SUPPORT_L2][0]], what="post to L2")[
        -1
    ]
    assert "Engineering (via Support L2)" in post.args["blocks"][0]["text"]["text"]
    assert not [c for c in bot.slack.calls("chat.postMessage") if c.args["channel"] == CHANNELS[Destination.ENGINEERING][0]]
    [row] = stored(bot)
    assert row.destination == "support_l2"
    result = wait_until(lambda: [c for c in bot.slack.calls("views.update") if "posted" in c.args["view"]["title"]["text"]], what="result")[-1]
    assert "through Support L2" in json.dumps(result.args["view"])


def test_an_l2_agent_reaches_engineering_directly(tiered_bot):
    bot = tiered_bot
    escalate_as(bot, L2_AGENT, Destination.ENGINEERING)
    wait_until(
        lambda: [c for c in bot.slack.calls("chat.postMessage") if c.args["channel"] == CHANNELS[Destination.ENGINEERING][0]], what="post to engineering"
    )
    assert stored(bot)[0].destination == "engineering"


@pytest.mark.parametrize("destination", [Destination.SECURITY, Destination.LEADERSHIP])
def test_security_and_leadership_accept_any_tier(tiered_bot, destination):
    bot = tiered_bot
    view = open_modal(bot)
    wait_until(lambda: bot.slack.calls("usergroups.users.list"), what="tier lookup")
    view = choose(bot, view, "destination", destination.value)
    submit(bot, view, draft(destination, now=bot.clock.now()))
    posted = wait_until(lambda: [c for c in bot.slack.calls("chat.postMessage") if c.args["channel"] == CHANNELS[destination][0]], what="direct post")
    assert len(posted) == 1 and stored(bot)[0].destination == destination.value


@pytest.mark.parametrize("tiered_bot", [False], indirect=True)
def test_without_enforcement_an_l1_agent_is_warned_and_may_go_on(tiered_bot):
    bot = tiered_bot
    view, response = escalate_as(bot, AGENT, Destination.ENGINEERING)
    body = response_json(response)
    assert body["response_action"] == "update" and "Press *Escalate* again" in json.dumps(body["view"])
    assert stored(bot) == []
    warned = {**body["view"], "id": view["id"]}
    again = submit(bot, warned, draft(Destination.ENGINEERING, now=bot.clock.now(), eng_kind="inspection"))
    assert response_json(again)["response_action"] == "update"
    wait_until(
        lambda: [c for c in bot.slack.calls("chat.postMessage") if c.args["channel"] == CHANNELS[Destination.ENGINEERING][0]], what="post to engineering"
    )

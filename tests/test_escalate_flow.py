"""/escalate → modal → submission → stored → posted, over signed HTTP against the stand-in Slack."""

from __future__ import annotations

import json
import time

import pytest
from sqlmodel import select

from blocks import ids
from bot.domain.brief import Destination
from bot.domain.status import EscalationStatus
from bot.storage import escalations, running_log
from bot.storage.models import Escalation
from tests.conftest import AGENT, CHANNELS, TEAM
from tests.e2e import choose, escalate, open_modal, posts_to, response_json, submit, wait_until
from tests.factories import draft


def stored(bot) -> list[Escalation]:
    with bot.db.session() as session:
        return list(session.exec(select(Escalation).order_by(Escalation.id)))


@pytest.mark.parametrize("destination", list(Destination))
def test_every_destination_end_to_end(bot, destination):
    view, response = escalate(bot, destination)
    assert response.status_code == 200
    assert response_json(response)["response_action"] == "update"  # the "saving" view, at once

    post = bot.slack.wait_for("chat.postMessage", count=2)  # the brief, then the agent's DM
    brief_post = next(c for c in post if c.args["channel"] == CHANNELS[destination][0])
    assert brief_post.ok
    text = json.dumps(brief_post.args["blocks"])
    assert "ESC-1" in text and destination.label in text and "BUSINESS IMPACT" in text
    assert brief_post.args["text"].startswith("ESC-1 [High] to " + destination.label)
    assert brief_post.args["metadata"]["event_payload"] == {"escalation_id": 1, "ref": "ESC-1"}

    [row] = stored(bot)
    assert row.status == EscalationStatus.OPEN.value
    assert row.channel_id == CHANNELS[destination][0] and row.message_ts == brief_post.response["ts"]
    assert row.team_id == TEAM and row.agent_user_id == AGENT and row.destination == destination.value
    with bot.db.session() as session:
        assert [e.kind for e in running_log.log_entries(session, row.id)] == ["created", "posted"]

    dm = next(c for c in post if c.args["channel"] == AGENT)
    assert "ESC-1 is posted" in dm.args["text"] and "https://" in json.dumps(dm.args["blocks"])  # permalink
    result = bot.slack.wait_for("views.update", count=2 if destination is not Destination.ENGINEERING else 3)[-1]
    assert "posted" in result.args["view"]["title"]["text"]
    bot.slack.assert_no_violations()


def test_security_goes_to_the_security_channel(bot):
    escalate(bot, Destination.SECURITY)
    posts = bot.slack.wait_for("chat.postMessage", count=2)
    channels = {c.args["channel"] for c in posts}
    assert CHANNELS[Destination.SECURITY][0] in channels
    assert not channels & {CHANNELS[d][0] for d in Destination if d is not Destination.SECURITY}


def test_slash_command_text_prefills_the_summary(bot):
    view = open_modal(bot, text="Acme cannot log in via SSO")
    summary = next(b for b in view["blocks"] if b.get("block_id") == "summary")
    assert summary["element"]["initial_value"] == "Acme cannot log in via SSO"
    assert json.loads(view["private_metadata"])["source_channel_id"] == "C0SUPPORT"


def test_choosing_a_destination_shows_its_package(bot):
    view = open_modal(bot)
    ids_before = {b.get("block_id") for b in view["blocks"]}
    assert "repro_steps" not in ids_before and "observations" not in ids_before
    view = choose(bot, view, "destination", "engineering")
    assert {"eng_kind", "repro_steps", "repro_expected", "repro_observed", "logs"} <= {b.get("block_id") for b in view["blocks"]}
    view = choose(bot, view, "destination", "security", {"destination": {"destination": "security"}})
    blocks = {b.get("block_id") for b in view["blocks"]}
    assert {"observations", "affected_parties", "containment", "urgency"} <= blocks and "repro_steps" not in blocks


def test_validation_errors_land_on_the_fields_and_nothing_is_stored(bot):
    view = open_modal(bot)
    view = choose(bot, view, "destination", "engineering")
    view = choose(bot, view, "eng_kind", "defect", {"destination": {"destination": "engineering"}})
    values = draft(
        Destination.ENGINEERING,
        now=bot.clock.now(),
        affected_customers="lots",
        arr_exposed="huge",
        deadline=int(bot.clock.now().timestamp()) - 3600,
        repro_steps=None,
        repro_expected=None,
    )
    response = submit(bot, view, values)
    body = response_json(response)
    assert response.status_code == 200 and body["response_action"] == "errors"
    assert set(body["errors"]) == {"affected_customers", "arr_exposed", "deadline", "repro_steps", "repro_expected"}
    assert "Numbers, not adjectives" in body["errors"]["affected_customers"]
    assert stored(bot) == []
    assert bot.slack.calls("chat.postMessage") == []


def test_submitting_before_the_package_fields_appear_shows_them(bot):
    """The agent picked Security but submitted before the view re-rendered: show the missing fields."""
    view = open_modal(bot)  # no package fields yet
    values = draft(Destination.SECURITY, now=bot.clock.now())
    response = submit(bot, view, values)
    body = response_json(response)
    assert body["response_action"] == "update"
    blocks = {b.get("block_id") for b in body["view"]["blocks"]}
    assert {"observations", "containment"} <= blocks
    assert "Security needs a few more details" in json.dumps(body["view"])
    assert stored(bot) == []


def test_message_shortcut_prefills_narrative_and_permalink(bot):
    bot.slack.seed_message("C0SUPPORT", "Customer says invoices show another tenant's data", user="U0CUSTOMER", ts="1700000000.000200")
    response = bot.sender.shortcut(
        ids.SHORTCUT_ESCALATE_MESSAGE, "Customer says invoices show another tenant's data", "1700000000.000200", "C0SUPPORT", user_id=AGENT, team_id=TEAM
    )
    assert response.status_code == 200
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    narrative = next(b for b in view["blocks"] if b.get("block_id") == "narrative")
    references = next(b for b in view["blocks"] if b.get("block_id") == "references")
    assert narrative["element"]["initial_value"] == "Customer says invoices show another tenant's data"
    assert references["element"]["initial_value"].startswith("https://") and "p1700000000000200" in references["element"]["initial_value"]


def test_a_failed_post_keeps_the_brief_and_tells_the_agent_what_to_do(bot):
    bot.slack.add_channel(CHANNELS[Destination.ENGINEERING][0], "eng-escalations", is_member=False, is_private=True)
    escalate(bot, Destination.ENGINEERING)
    result = bot.slack.wait_for("views.update", count=3)[-1]
    assert "saved" in result.args["view"]["title"]["text"]
    [row] = stored(bot)
    assert row.status == EscalationStatus.PENDING_DELIVERY.value and row.delivery_error
    dm = [c for c in bot.slack.calls("chat.postMessage") if c.args["channel"] == AGENT and c.ok][-1]
    assert "is saved" in dm.args["text"] and ("/invite" in dm.args["text"] or "Try again" in json.dumps(dm.args["blocks"]))

    # The admin fixes the channel; the agent presses Try again.
    bot.slack.add_channel(CHANNELS[Destination.ENGINEERING][0], "eng-escalations", is_member=True, is_private=True)
    message = dict(dm.response["message"])
    response = bot.sender.action(ids.ACTION_RETRY_DELIVERY, message=message, channel_id=dm.response["channel"], user_id=AGENT, team_id=TEAM)
    assert response.status_code == 200
    replaced = wait_until(lambda: bot.slack.calls("response_url"), what="the notice to be replaced")[-1]
    assert "is now posted" in replaced.args["text"] and replaced.args.get("replace_original") is True
    assert len(posts_to(bot, CHANNELS[Destination.ENGINEERING][0])) == 1
    [row] = stored(bot)
    assert row.status == EscalationStatus.OPEN.value


@pytest.mark.parametrize("error,status", [("internal_error", 500), ("ratelimited", 429), ("channel_not_found", 200), ("is_archived", 200)])
def test_slack_failures_never_lose_the_brief(bot, error, status):
    bot.slack.fail("chat.postMessage", error=error, status=status, times=5)
    _, response = escalate(bot, Destination.PRODUCT)
    assert response.status_code == 200
    result = bot.slack.wait_for("views.update", count=2, timeout=20)[-1]  # a 429 is retried once after Retry-After
    assert "saved" in result.args["view"]["title"]["text"]
    [row] = stored(bot)
    assert row.status == EscalationStatus.PENDING_DELIVERY.value
    assert escalations.brief_of(row).product.request_frequency.startswith("14 customers")


def test_a_double_submitted_modal_stores_and_posts_once(bot):
    view = open_modal(bot)
    view = choose(bot, view, "destination", "leadership")
    values = draft(Destination.LEADERSHIP, now=bot.clock.now())
    first, second = submit(bot, view, values), submit(bot, view, values)
    assert first.status_code == second.status_code == 200
    result = bot.slack.wait_for("views.update", count=2)[-1]
    assert "posted" in result.args["view"]["title"]["text"]
    wait_until(lambda: len(bot.slack.calls("chat.postMessage")) >= 2, what="the agent's DM")
    time.sleep(0.3)  # give a wrongly doubled post the time to show up
    assert len(stored(bot)) == 1
    assert len(posts_to(bot, CHANNELS[Destination.LEADERSHIP][0], ok=False)) == 1
    assert len(bot.slack.calls("views.update")) == 2  # the repeat changed nothing the agent sees


def test_export_button_shows_the_text_to_the_clicker_only(bot):
    escalate(bot, Destination.ENGINEERING)
    post = next(c for c in bot.slack.wait_for("chat.postMessage", count=2) if c.args["channel"] == CHANNELS[Destination.ENGINEERING][0])
    response = bot.sender.action(ids.ACTION_EXPORT, message=post.response["message"], channel_id=post.response["channel"], user_id="U0ENGINEER", team_id=TEAM)
    assert response.status_code == 200
    opened = bot.slack.wait_for("views.open", count=2)[-1]
    text = json.dumps(opened.args["view"])
    assert "ESCALATION: CSV export times out" in text and "REPRODUCTION PROCEDURE (for defects)" in text
    assert "(America/New_York)" in text  # the deadline in the clicker's time zone
    assert bot.slack.calls("chat.postMessage")[-1].args["channel"] != post.args["channel"]  # nothing posted to the channel
    bot.slack.assert_no_violations()

"""One effect per intent: a re-sent event, a double-clicked button and a double-submitted modal each
act once; whatever no listener handles still answers 2xx; a failure shows the user a short apology
with a reference, never a stack trace, and the log holds the details."""

from __future__ import annotations

import json
import logging
import time

from sqlmodel import select

from blocks import ids
from bot.domain.brief import Destination
from bot.storage.models import SlackEvent
from tests.conftest import AGENT, CHANNELS, TEAM
from tests.e2e import wait_until
from tests.test_follow_through import ENGINEER, click, log_kinds, post_brief, posts, row, submit_note, tick_at

ENG = CHANNELS[Destination.ENGINEERING][0]


def test_a_retried_event_has_one_effect(bot):
    escalation_id = post_brief(bot)
    r = row(bot, escalation_id)
    event = {
        "type": "reaction_added",
        "user": ENGINEER,
        "reaction": "eyes",
        "item": {"type": "message", "channel": r.channel_id, "ts": r.message_ts},
        "event_ts": "1.1",
    }
    assert bot.sender.event(event, event_id="Ev0DUPLICATE1").status_code == 200
    wait_until(lambda: "acknowledged" in log_kinds(bot, escalation_id), what="acknowledged")
    # Slack did not see our 200 in time and re-sends the same event, twice.
    for retry in (1, 2):
        assert bot.sender.event(event, event_id="Ev0DUPLICATE1", retry_num=retry).status_code == 200
    time.sleep(0.3)
    assert log_kinds(bot, escalation_id).count("acknowledged") == 1
    assert len([c for c in posts(bot, channel=ENG, thread=True) if "acknowledged" in c.args["text"]]) == 1
    with bot.db.session() as s:  # remembered in the database: another replica or a restarted bot agrees
        assert [e.event_id for e in s.exec(select(SlackEvent))] == ["Ev0DUPLICATE1"]


def test_handled_events_are_forgotten_after_a_day(bot):
    from datetime import timedelta

    bot.sender.event(
        {"type": "reaction_added", "user": ENGINEER, "reaction": "tada", "item": {"type": "message", "channel": ENG, "ts": "1.1"}, "event_ts": "1.1"},
        event_id="Ev0OLD",
    )
    wait_until(lambda: _events(bot), what="the event recorded")
    tick_at(bot, timedelta(hours=25))
    assert _events(bot) == []


def _events(bot):
    with bot.db.session() as s:
        return list(s.exec(select(SlackEvent)))


def test_a_double_clicked_acknowledge_acts_once(bot):
    escalation_id = post_brief(bot)
    click(bot, ids.ACTION_ACKNOWLEDGE, escalation_id)
    click(bot, ids.ACTION_ACKNOWLEDGE, escalation_id)
    wait_until(lambda: "acknowledged" in log_kinds(bot, escalation_id), what="acknowledged")
    time.sleep(0.3)
    assert log_kinds(bot, escalation_id).count("acknowledged") == 1
    assert len([c for c in posts(bot, channel=ENG, thread=True) if "acknowledged" in c.args["text"]]) == 1


def test_a_double_submitted_note_modal_posts_one_note(bot):
    from datetime import timedelta

    escalation_id = post_brief(bot)
    tick_at(bot, timedelta(hours=4))
    nudge = [c for c in posts(bot, channel=ENG, thread=True) if "check in" in c.args["text"]][-1]
    click(bot, ids.ACTION_LOG_CHECKIN, escalation_id, user=AGENT, message=nudge.response["message"])
    submit_note(bot, ids.VIEW_LOG_CHECKIN, "Eng reproduced it")
    submit_note(bot, ids.VIEW_LOG_CHECKIN, "Eng reproduced it")  # the same view, submitted again
    wait_until(lambda: "checkin" in log_kinds(bot, escalation_id), what="the check-in")
    time.sleep(0.3)
    assert log_kinds(bot, escalation_id).count("checkin") == 1
    assert len([c for c in posts(bot, channel=ENG, thread=True) if "Check-in by" in c.args["text"]]) == 1


def test_requests_no_listener_handles_still_answer_2xx(bot):
    assert bot.sender.event({"type": "member_joined_channel", "user": "U0NEW", "channel": ENG, "event_ts": "1.1"}).status_code == 200
    assert bot.sender.event({"type": "message", "subtype": "channel_join", "channel": ENG, "user": "U0NEW", "ts": "1.2"}).status_code == 200
    assert (
        bot.sender.action("a_link_button_nobody_handles", message={"ts": "1.1", "blocks": []}, channel_id=ENG, user_id=AGENT, team_id=TEAM).status_code == 200
    )
    view = {"id": "V0UNKNOWN", "callback_id": "some_old_modal", "blocks": []}
    assert bot.sender.submit_view(view, {}, user_id=AGENT, team_id=TEAM).status_code == 200
    assert bot.sender.close_view(view, user_id=AGENT, team_id=TEAM).status_code == 200


def test_a_failure_shows_an_apology_with_a_reference_and_logs_the_details(bot, caplog):
    escalation_id = post_brief(bot)

    def broken(*_args, **_kwargs):
        raise RuntimeError("database exploded: secret detail")

    bot.services.follow_through.acknowledge = broken
    with caplog.at_level(logging.ERROR):
        click(bot, ids.ACTION_ACKNOWLEDGE, escalation_id)
        said = wait_until(lambda: bot.slack.calls("response_url"), what="the apology")[-1]
    text = json.dumps(said.args)
    assert "Sorry, something went wrong" in said.args["text"] and said.args.get("response_type") == "ephemeral"
    assert "Traceback" not in text and "secret detail" not in text and "RuntimeError" not in text
    reference = said.args["text"].split("`")[1]
    assert reference.startswith("ERR-")
    logged = [r for r in caplog.records if reference in r.getMessage()]
    assert logged and logged[0].exc_info and "secret detail" in str(logged[0].exc_info[1])

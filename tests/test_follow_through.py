"""Follow-through over Slack's protocol: nudges on the severity cadence, the receiving team's buttons
and reactions, thread replies, severity changes, deadlines and the running log. The clock is
frozen and moved by hand; ticks are called directly (no test sleeps for a cadence)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from blocks import ids
from bot.domain.brief import Destination
from bot.domain.validation import validate_draft
from bot.storage import escalations, follow_ups, running_log
from bot.storage.models import Escalation, EscalationLog, FollowUp
from tests.conftest import AGENT, CHANNELS, TEAM
from tests.e2e import wait_until
from tests.factories import draft
from tests.support.slack_requests import view_submission

ENG = CHANNELS[Destination.ENGINEERING][0]
ENGINEER = "U0ENGINEER"


def post_brief(bot, severity: str = "high", destination: Destination = Destination.ENGINEERING, **overrides) -> int:
    brief = validate_draft(draft(destination, now=bot.clock.now(), severity=severity, **overrides), now=bot.clock.now())
    delivery = bot.services.escalations.escalate(team_id=TEAM, agent_user_id=AGENT, brief=brief, source_channel_id="C0SUPPORT")
    assert delivery.posted
    return delivery.escalation_id


def row(bot, escalation_id: int) -> Escalation:
    with bot.db.session() as s:
        return escalations.get_escalation(s, escalation_id)


def timers(bot, escalation_id: int) -> dict[str, FollowUp]:
    with bot.db.session() as s:
        return follow_ups.follow_ups(s, escalation_id)


def log_kinds(bot, escalation_id: int) -> list[str]:
    with bot.db.session() as s:
        return [e.kind for e in running_log.log_entries(s, escalation_id)]


def posts(bot, *, channel: str | None = None, thread: bool | None = None, since: int = 0) -> list:
    calls = bot.slack.calls("chat.postMessage")[since:]
    return [c for c in calls if (channel is None or c.args["channel"] == channel) and (thread is None or bool(c.args.get("thread_ts")) == thread)]


def tick_at(bot, delta: timedelta):
    bot.clock.advance(delta)
    return bot.services.ticker.tick()


def brief_message(bot, escalation_id: int) -> dict:
    r = row(bot, escalation_id)
    return bot.slack.message(r.channel_id, r.message_ts)


def click(bot, action_id: str, escalation_id: int, user: str = ENGINEER, *, message: dict | None = None):
    r = row(bot, escalation_id)
    message = message or brief_message(bot, escalation_id)
    response = bot.sender.action(action_id, message=message, channel_id=r.channel_id, user_id=user, team_id=TEAM)
    assert response.status_code == 200, response.text
    return response


def submit_note(bot, callback_id: str, text: str, user: str = AGENT):
    opened = wait_until(lambda: [c for c in bot.slack.calls("views.open") if c.args["view"]["callback_id"] == callback_id], what=f"{callback_id} modal")[-1]
    body, ctype = view_submission(opened, {ids.BLOCK_NOTE: {ids.BLOCK_NOTE: text}}, user_id=user, team_id=TEAM)
    response = bot.sender.post(body, ctype)
    assert response.status_code == 200
    return response


def test_posting_plans_every_timer_from_the_severity_cadence(bot):
    escalation_id = post_brief(bot, "high")
    now = bot.clock.now()
    t = timers(bot, escalation_id)
    assert t["checkin"].next_due_at == now + timedelta(hours=4)
    assert t["customer_update"].next_due_at == now + timedelta(hours=4) and t["customer_update"].stage == "due"
    assert t["ack"].next_due_at == now + timedelta(hours=1)
    deadline = row(bot, escalation_id).deadline_at
    assert t["deadline"].next_due_at == now + (deadline - now) * 0.75 and t["deadline"].stage == "three_quarters"
    # The brief goes out showing its next check-in time: one post, no chat.update after it.
    (post,) = [c for c in bot.slack.calls("chat.postMessage") if c.args.get("channel") == row(bot, escalation_id).channel_id]
    assert "Next check-in due" in json.dumps(post.args["blocks"]) and "Acknowledge" in json.dumps(post.args["blocks"])
    assert bot.slack.calls("chat.update") == []


def test_nobody_acknowledges_then_the_thread_is_pinged_and_the_agent_told(bot):
    escalation_id = post_brief(bot, "critical")
    before = len(bot.slack.calls("chat.postMessage"))
    assert tick_at(bot, timedelta(minutes=14)).claimed == 0  # not yet: Critical's window is 15 min
    report = tick_at(bot, timedelta(minutes=1))
    assert report.sent == 1
    ping = posts(bot, channel=ENG, thread=True, since=before)[-1]
    assert "<!here>" in ping.args["text"] and "ESC-1" in ping.args["text"]
    assert ping.args["thread_ts"] == row(bot, escalation_id).message_ts
    assert any("Nobody" in c.args["text"] for c in posts(bot, channel=AGENT, since=before))
    # The same period never fires twice, and the next ping waits a whole window.
    assert bot.services.ticker.tick().claimed == 0
    assert timers(bot, escalation_id)["ack"].next_due_at == bot.clock.now() + timedelta(minutes=15)


def test_high_severity_ack_ping_does_not_use_here(bot):
    post_brief(bot, "high")
    before = len(bot.slack.calls("chat.postMessage"))
    tick_at(bot, timedelta(hours=1))
    assert "<!here>" not in posts(bot, channel=ENG, thread=True, since=before)[-1].args["text"]


def test_acknowledge_button_sets_the_owner_and_stops_ack_pings(bot):
    escalation_id = post_brief(bot)
    click(bot, ids.ACTION_ACKNOWLEDGE, escalation_id)
    wait_until(lambda: row(bot, escalation_id).receiving_owner_id == ENGINEER, what="owner")
    r = row(bot, escalation_id)
    assert r.status == "acknowledged" and r.acknowledged_at == bot.clock.now()
    wait_until(lambda: any("acknowledged" in c.args["text"] for c in posts(bot, channel=ENG, thread=True)), what="thread note")
    updated = wait_until(lambda: [c for c in bot.slack.calls("chat.update") if f"<@{ENGINEER}>" in json.dumps(c.args["blocks"])], what="brief update")[-1]
    blocks = json.dumps(updated.args["blocks"])
    assert "Receiving owner:* <@U0ENGINEER>" in blocks and ids.ACTION_ACKNOWLEDGE not in blocks
    before = len(bot.slack.calls("chat.postMessage"))
    tick_at(bot, timedelta(hours=1, minutes=1))
    assert not [c for c in posts(bot, channel=ENG, since=before) if "acknowledging" in c.args["text"]]
    assert "acknowledged" in log_kinds(bot, escalation_id)


def test_reactions_acknowledge_and_mark_fixed(bot):
    escalation_id = post_brief(bot)
    r = row(bot, escalation_id)
    item = {"type": "message", "channel": r.channel_id, "ts": r.message_ts}
    assert (
        bot.sender.event({"type": "reaction_added", "user": ENGINEER, "reaction": "eyes", "item": item, "item_user": "UBOT", "event_ts": "1.1"}).status_code
        == 200
    )
    wait_until(lambda: row(bot, escalation_id).receiving_owner_id == ENGINEER, what="ack by reaction")
    assert bot.sender.event({"type": "reaction_added", "user": ENGINEER, "reaction": "white_check_mark", "item": item, "event_ts": "1.2"}).status_code == 200
    wait_until(lambda: row(bot, escalation_id).status == "fixed_pending", what="fixed")
    dm = wait_until(lambda: [c for c in posts(bot, channel=AGENT) if "marked *ESC-1* fixed" in c.args["text"]], what="DM to agent")[-1]
    assert "Confirm the fix with the customer" in dm.args["text"]
    assert {"reaction", "acknowledged", "fixed"} <= set(log_kinds(bot, escalation_id))
    # Other emoji, and reactions on other messages, change nothing.
    assert bot.sender.event({"type": "reaction_added", "user": ENGINEER, "reaction": "tada", "item": item, "event_ts": "1.3"}).status_code == 200


def test_checkin_nudge_goes_in_the_thread_and_a_reply_by_the_agent_resets_it(bot):
    escalation_id = post_brief(bot, "high")
    before = len(bot.slack.calls("chat.postMessage"))
    tick_at(bot, timedelta(hours=4))
    nudge = [c for c in posts(bot, channel=ENG, thread=True, since=before) if "check in" in c.args["text"]][-1]
    assert f"<@{AGENT}>" in nudge.args["text"]
    actions = [e["action_id"] for b in nudge.args["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert actions[:2] == [ids.ACTION_LOG_CHECKIN, ids.ACTION_CHANGE_SEVERITY] and len([a for a in actions if a.startswith(ids.ACTION_SNOOZE_PREFIX)]) == 3
    assert timers(bot, escalation_id)["checkin"].next_due_at == bot.clock.now() + timedelta(hours=4)

    r = row(bot, escalation_id)
    bot.clock.advance(timedelta(hours=1))
    reply = {
        "type": "message",
        "channel": r.channel_id,
        "user": AGENT,
        "text": "Any news from the export team?",
        "ts": "1800000000.000900",
        "thread_ts": r.message_ts,
    }
    assert bot.sender.event(reply).status_code == 200
    wait_until(lambda: timers(bot, escalation_id)["checkin"].next_due_at == bot.clock.now() + timedelta(hours=4), what="check-in reset by reply")
    # A reply from someone else is logged, and becomes the brief's last update, without resetting the agent's timer.
    due = timers(bot, escalation_id)["checkin"].next_due_at
    other = {**reply, "user": ENGINEER, "text": "Fix is in review", "ts": "1800000000.000901"}
    bot.sender.event(other)
    wait_until(lambda: row(bot, escalation_id).last_update_text == "Fix is in review", what="last update")
    assert timers(bot, escalation_id)["checkin"].next_due_at == due
    assert log_kinds(bot, escalation_id).count("thread_reply") == 2


def test_log_checkin_button_posts_in_the_thread_and_resets_the_timer(bot):
    escalation_id = post_brief(bot, "high")
    tick_at(bot, timedelta(hours=4))
    nudge = [c for c in posts(bot, channel=ENG, thread=True) if "check in" in c.args["text"]][-1]
    click(bot, ids.ACTION_LOG_CHECKIN, escalation_id, user=AGENT, message=nudge.response["message"])
    bot.clock.advance(timedelta(minutes=10))
    submit_note(bot, ids.VIEW_LOG_CHECKIN, "Eng reproduced it; fix in review, ETA 16:00 <!channel>")
    note = wait_until(lambda: [c for c in posts(bot, channel=ENG, thread=True) if "Check-in by" in c.args["text"]], what="check-in note")[-1]
    assert "fix in review" in note.args["text"] and "<!channel>" not in json.dumps(note.args["blocks"])
    wait_until(lambda: timers(bot, escalation_id)["checkin"].next_due_at == bot.clock.now() + timedelta(hours=4), what="reset")
    assert row(bot, escalation_id).last_update_by == AGENT


def test_customer_updates_are_due_then_overdue_by_dm_and_a_logged_update_resets(bot):
    escalation_id = post_brief(bot, "high")  # customer updates every 4-8 h
    before = len(bot.slack.calls("chat.postMessage"))
    tick_at(bot, timedelta(hours=4))
    due = [c for c in posts(bot, channel=AGENT, since=before) if "Customer update" in c.args["text"]]
    assert len(due) == 1 and "due" in due[0].args["text"] and "overdue" not in due[0].args["text"]
    assert timers(bot, escalation_id)["customer_update"].stage == "overdue"
    tick_at(bot, timedelta(hours=4))
    overdue = [c for c in posts(bot, channel=AGENT, since=before) if "overdue" in c.args["text"]]
    assert len(overdue) == 1 and ":rotating_light:" in overdue[0].args["text"]

    click(bot, ids.ACTION_LOG_CUSTOMER_UPDATE, escalation_id, user=AGENT, message=overdue[0].response["message"])
    submit_note(bot, ids.VIEW_LOG_CUSTOMER_UPDATE, "Told Acme the root cause is confirmed; next update 17:00")
    wait_until(lambda: timers(bot, escalation_id)["customer_update"].stage == "due", what="customer timer reset")
    t = timers(bot, escalation_id)["customer_update"]
    assert t.next_due_at == bot.clock.now() + timedelta(hours=4) and t.anchor_at == bot.clock.now()
    assert "customer_update" in log_kinds(bot, escalation_id)


def test_medium_customer_updates_count_business_days_in_the_agents_zone(bot):
    # Friday 10:00 UTC = 11:00 in Paris; 1 business day later is Monday 11:00 Paris = 10:00 UTC.
    escalation_id = post_brief(bot, "medium", deadline=int((bot.clock.now() + timedelta(days=7)).timestamp()))
    assert row(bot, escalation_id).agent_tz == "Europe/Paris"
    t = timers(bot, escalation_id)
    assert t["customer_update"].next_due_at == bot.clock.now() + timedelta(days=3)
    assert t["ack"].next_due_at == bot.clock.now() + timedelta(days=3)
    assert t["checkin"].next_due_at == bot.clock.now() + timedelta(days=1)  # "once a day" is calendar days


def test_change_severity_replans_both_timers_and_tells_the_thread(bot):
    escalation_id = post_brief(bot, "high")
    bot.clock.advance(timedelta(minutes=30))
    click(bot, ids.ACTION_CHANGE_SEVERITY, escalation_id, user=AGENT)
    opened = wait_until(lambda: [c for c in bot.slack.calls("views.open") if c.args["view"]["callback_id"] == ids.VIEW_CHANGE_SEVERITY], what="severity modal")[
        -1
    ]
    body, ctype = view_submission(
        opened,
        {ids.BLOCK_SEVERITY: {ids.BLOCK_SEVERITY: "critical"}, ids.BLOCK_REASON: {ids.BLOCK_REASON: "Three more enterprise customers hit"}},
        user_id=AGENT,
        team_id=TEAM,
    )
    assert bot.sender.post(body, ctype).status_code == 200
    wait_until(lambda: row(bot, escalation_id).severity == "critical", what="severity change")
    posted_at = row(bot, escalation_id).posted_at
    t = timers(bot, escalation_id)
    assert t["checkin"].next_due_at == posted_at + timedelta(hours=2)
    assert t["customer_update"].next_due_at == posted_at + timedelta(hours=2)
    assert t["ack"].next_due_at == bot.clock.now()  # 15 min after posting has passed: due now
    note = wait_until(lambda: [c for c in posts(bot, channel=ENG, thread=True) if "changed the severity" in c.args["text"]], what="note")[-1]
    assert f"<@{AGENT}>" in note.args["text"] and "High to *Critical*" in note.args["text"] and "Three more enterprise customers hit" in note.args["text"]
    update = wait_until(lambda: [c for c in bot.slack.calls("chat.update") if "Critical" in c.args["blocks"][0]["text"]["text"]], what="headline")[-1]
    assert "ESC-1 · Critical" in update.args["blocks"][0]["text"]["text"]
    entry = [e for e in _entries(bot, escalation_id) if e.kind == "severity_changed"][-1]
    assert entry.actor == AGENT and entry.data == {"from": "high", "to": "critical"}


def test_severity_modal_requires_a_reason(bot):
    escalation_id = post_brief(bot)
    click(bot, ids.ACTION_CHANGE_SEVERITY, escalation_id, user=AGENT)
    opened = wait_until(lambda: [c for c in bot.slack.calls("views.open") if c.args["view"]["callback_id"] == ids.VIEW_CHANGE_SEVERITY], what="modal")[-1]
    body, ctype = view_submission(opened, {ids.BLOCK_SEVERITY: {ids.BLOCK_SEVERITY: "medium"}}, user_id=AGENT, team_id=TEAM)
    response = bot.sender.post(body, ctype)
    assert response.json()["response_action"] == "errors" and ids.BLOCK_REASON in response.json()["errors"]
    assert row(bot, escalation_id).severity == "high"


def test_snooze_moves_the_reminder(bot):
    escalation_id = post_brief(bot, "high")
    tick_at(bot, timedelta(hours=4))
    nudge = [c for c in posts(bot, channel=ENG, thread=True) if "check in" in c.args["text"]][-1]
    follow_up_id = timers(bot, escalation_id)["checkin"].id
    response = bot.sender.action(f"{ids.ACTION_SNOOZE_PREFIX}60", message=nudge.response["message"], channel_id=ENG, user_id=AGENT, team_id=TEAM)
    assert response.status_code == 200
    wait_until(lambda: timers(bot, escalation_id)["checkin"].next_due_at == bot.clock.now() + timedelta(hours=1), what="snooze")
    confirmation = wait_until(lambda: bot.slack.calls("response_url"), what="ephemeral confirmation")[-1]
    assert "snoozed for 60 minutes" in confirmation.args["text"] and confirmation.args["response_type"] == "ephemeral"
    assert timers(bot, escalation_id)["checkin"].id == follow_up_id and "snoozed" in log_kinds(bot, escalation_id)


def test_deadline_warnings_at_three_quarters_one_hour_and_breach(bot):
    escalation_id = post_brief(bot, "high")  # deadline 48 h after posting
    click(bot, ids.ACTION_ACKNOWLEDGE, escalation_id)
    wait_until(lambda: row(bot, escalation_id).receiving_owner_id == ENGINEER, what="owner")
    before = len(bot.slack.calls("chat.postMessage"))
    tick_at(bot, timedelta(hours=36))
    warning = [c for c in posts(bot, channel=ENG, thread=True, since=before) if "Three quarters" in c.args["text"]]
    assert len(warning) == 1 and f"<@{AGENT}>" in warning[0].args["text"] and f"<@{ENGINEER}>" in warning[0].args["text"]
    assert row(bot, escalation_id).deadline_state == "at_risk"
    assert "Deadline at risk" in json.dumps(bot.slack.calls("chat.update")[-1].args["blocks"])
    tick_at(bot, timedelta(hours=11))
    assert [c for c in posts(bot, channel=ENG, thread=True, since=before) if "One hour to the hard deadline" in c.args["text"]]
    tick_at(bot, timedelta(hours=1))
    breach = [c for c in posts(bot, channel=ENG, thread=True, since=before) if "deadline is breached" in c.args["text"]]
    assert len(breach) == 1
    assert row(bot, escalation_id).deadline_state == "breached"
    assert "Breached (hard deadline passed)" in json.dumps(bot.slack.calls("chat.update")[-1].args["blocks"])
    assert not timers(bot, escalation_id)["deadline"].active


def test_after_downtime_each_timer_fires_once_not_a_burst(bot):
    escalation_id = post_brief(bot, "critical")
    before = len(bot.slack.calls("chat.postMessage"))
    report = tick_at(bot, timedelta(days=3))  # the bot was down for three days
    assert report.sent == 4  # check-in, customer update, ack ping, deadline: one each
    kinds = sorted(e.data["kind"] for e in _entries(bot, escalation_id) if e.kind in ("nudge", "deadline_warning"))
    assert kinds == ["ack", "checkin", "customer_update", "deadline"]
    breach = [c for c in posts(bot, since=before) if "deadline is breached" in c.args["text"]]
    assert len(breach) == 1 and not [c for c in posts(bot, since=before) if "Three quarters" in c.args["text"]]
    assert bot.services.ticker.tick().claimed == 0
    t = timers(bot, escalation_id)
    assert t["checkin"].next_due_at == bot.clock.now() + timedelta(hours=2)  # a full interval after the catch-up


@pytest.mark.parametrize(
    "down", [timedelta(hours=1, minutes=50), timedelta(hours=7, minutes=50), timedelta(days=3)], ids=["less than one period", "several periods", "three days"]
)
def test_after_downtime_the_next_nudge_comes_a_full_cadence_after_the_catch_up(bot, down):
    escalation_id = post_brief(bot, "critical")  # check-in every 2 h, customer update due at 2 h, overdue at 4 h
    tick_at(bot, timedelta(hours=2))  # on time: the first check-in and the "due" customer update
    tick_at(bot, timedelta(hours=1, minutes=50))  # the last tick before the bot goes down, 10 minutes before the next due time
    tick_at(bot, down)  # the restart's first tick: one catch-up nudge of each
    back = bot.clock.now()
    assert _nudges(bot, escalation_id) == {"checkin": 2, "customer_update": 2}
    t = timers(bot, escalation_id)
    assert t["checkin"].next_due_at == back + timedelta(hours=2) and t["customer_update"].next_due_at == back + timedelta(hours=2)
    for _ in range(7):  # the ticks go on every quarter of an hour: the old grid's next slot (minutes away) sends nothing
        tick_at(bot, timedelta(minutes=15))
    assert _nudges(bot, escalation_id) == {"checkin": 2, "customer_update": 2}
    tick_at(bot, back + timedelta(hours=2) - bot.clock.now())
    assert _nudges(bot, escalation_id) == {"checkin": 3, "customer_update": 3}  # a full cadence after the catch-up


def _nudges(bot, escalation_id: int) -> dict[str, int]:
    kinds = [e.data["kind"] for e in _entries(bot, escalation_id) if e.kind == "nudge" and e.data["kind"] in ("checkin", "customer_update")]
    return {kind: kinds.count(kind) for kind in sorted(set(kinds))}


def test_nothing_is_nudged_for_a_closed_escalation(bot):
    escalation_id = post_brief(bot, "critical")
    with bot.db.session() as s:
        r = escalations.get_escalation(s, escalation_id)
        r.status = "resolved"  # closing arrives with a later issue; any status outside the active ones stops nudges
        s.add(r)
    before = len(bot.slack.calls("chat.postMessage"))
    report = tick_at(bot, timedelta(hours=40))  # every timer, the deadline's first mark included, is due
    assert report.sent == 0 and report.skipped == 4
    assert posts(bot, since=before) == []
    assert not any(t.active for t in timers(bot, escalation_id).values())


def test_a_failed_nudge_is_retried_on_the_next_tick(bot):
    post_brief(bot, "high")
    bot.slack.fail("chat.postMessage", error="internal_error", status=500, times=1)
    report = tick_at(bot, timedelta(hours=1))  # the ack ping fails with a 500
    assert report.failed == 1 and report.sent == 0
    report = bot.services.ticker.tick()
    assert report.sent == 1


def test_ask_for_info_posts_in_the_thread_and_tells_the_agent(bot):
    escalation_id = post_brief(bot)
    click(bot, ids.ACTION_ASK_INFO, escalation_id)
    submit_note(bot, ids.VIEW_ASK_INFO, "Which account IDs are affected?", user=ENGINEER)
    note = wait_until(lambda: [c for c in posts(bot, channel=ENG, thread=True) if "Which account IDs" in c.args["text"]], what="question")[-1]
    assert f"<@{ENGINEER}> asks <@{AGENT}>" in note.args["text"]
    dm = wait_until(lambda: [c for c in posts(bot, channel=AGENT) if "needs information" in c.args["text"]], what="DM")[-1]
    assert "Which account IDs" in dm.args["text"]
    assert "info_requested" in log_kinds(bot, escalation_id)


def test_post_update_shows_on_the_brief(bot):
    escalation_id = post_brief(bot)
    click(bot, ids.ACTION_POST_UPDATE, escalation_id)
    submit_note(bot, ids.VIEW_POST_UPDATE, "Root cause found: export worker timeout", user=ENGINEER)
    wait_until(lambda: row(bot, escalation_id).last_update_text == "Root cause found: export worker timeout", what="update")
    update = wait_until(lambda: [c for c in bot.slack.calls("chat.update") if "Root cause found" in json.dumps(c.args["blocks"])], what="brief refresh")[-1]
    assert "Last update" in json.dumps(update.args["blocks"])


@pytest.mark.parametrize("via", ["command", "button"])
def test_the_running_log_lists_every_event(bot, via):
    escalation_id = post_brief(bot, "critical")
    click(bot, ids.ACTION_ACKNOWLEDGE, escalation_id)
    wait_until(lambda: "acknowledged" in log_kinds(bot, escalation_id), what="ack")
    tick_at(bot, timedelta(hours=2))
    if via == "command":
        assert bot.sender.command(command="/escalate", text="log ESC-1", user_id=AGENT, team_id=TEAM, channel_id="C0SUPPORT").status_code == 200
    else:
        click(bot, ids.ACTION_VIEW_LOG, escalation_id, user=AGENT)
    view = wait_until(lambda: [c for c in bot.slack.calls("views.open") if c.args["view"]["callback_id"] == ids.VIEW_RUNNING_LOG], what="log view")[-1].args[
        "view"
    ]
    text = json.dumps(view)
    for kind in ("created", "posted", "acknowledged", "nudge"):
        assert f"*{kind}*" in text, kind
    assert "ESC-1 log" in view["title"]["text"]


def test_log_command_for_an_unknown_brief_says_so(bot):
    bot.sender.command(command="/escalate", text="log ESC-77", user_id=AGENT, team_id=TEAM, channel_id="C0SUPPORT")
    reply = wait_until(lambda: bot.slack.calls("response_url"), what="reply")[-1]
    assert "no ESC-77" in reply.args["text"]


def _entries(bot, escalation_id: int) -> list[EscalationLog]:
    with bot.db.session() as s:
        return list(s.exec(select(EscalationLog).where(EscalationLog.escalation_id == escalation_id).order_by(EscalationLog.id)))

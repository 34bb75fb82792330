"""File now, complete later (issue 19, item 3), over Slack's protocol: a Critical brief with *Post now*
is posted at once with only the essentials and says what is missing; its agent is reminded at 15 and
30 minutes; *Complete the brief* opens the form pre-filled, a partial completion is refused field by
field, a full one updates the SAME posted message (chat.update of its ts), logs it and ends the
reminders. The clock is frozen and ticks are called by hand (no sleeping for a cadence)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from blocks import ids
from blocks.brief_message import brief_message
from blocks.complete_brief import complete_modal, complete_reminder
from blocks.home import home_view, list_blocks
from bot.domain.brief import Destination, Severity
from bot.domain.complete_brief import DEFAULT_REMINDERS, PostNow, missing_labels, parse_reminders
from bot.domain.follow_through import complete_plan, fire
from bot.domain.status import FollowUpKind
from bot.domain.validation import POST_NOW_REQUIRED, BriefInvalid, draft_of, required_fields, validate_draft
from bot.domain.worklists import Page, Row
from bot.settings import SettingsError, load_settings
from tests.conftest import AGENT, CHANNELS, TEAM, settings_env
from tests.e2e import current_view, open_modal, posts_to, response_json, state_for, wait_until
from tests.factories import NOW, draft
from tests.support.blockkit_limits import check_blocks, check_view
from tests.support.slack_requests import view_submission
from tests.test_follow_through import ENGINEER, log_kinds, row, tick_at, timers

ENG = CHANNELS[Destination.ENGINEERING][0]
MINIMAL = ("summary", "affected_customers", "ask", "deadline")
FORGED_TICK = {"type": "checkboxes", "selected_options": [{"text": {"type": "plain_text", "text": "Post now"}, "value": "yes"}]}  # as Slack sends it


# --- the domain ------------------------------------------------------------------------------------


def _minimal(now: datetime, destination: Destination = Destination.ENGINEERING, severity: str = "critical", **extra) -> dict:
    full = draft(destination, now=now, severity=severity)
    return {"destination": destination.value, "severity": severity, "post_now": True, **{f: full[f] for f in MINIMAL}, **extra}


def test_post_now_requires_only_the_essentials_and_names_what_is_missing():
    brief = validate_draft(_minimal(NOW, narrative="Checkout returns 500 for every EU customer since 09:40."), now=NOW)
    assert brief.incomplete and "narrative" not in brief.missing
    assert set(brief.missing) == required_fields(Destination.ENGINEERING) - set(POST_NOW_REQUIRED) - {"narrative"}
    assert brief.narrative.startswith("Checkout") and brief.impact.affected_customers == 12
    assert missing_labels(brief.missing) == [
        "impact (depth, effect, since when, SLA)",
        "kind of problem",
        "reproduction steps",
        "actions taken",
        "customer communication",
        "request type",
    ]
    # What is given is still checked: words are no count, even when posting now.
    with pytest.raises(BriefInvalid) as refused:
        validate_draft(_minimal(NOW, affected_customers="lots"), now=NOW)
    assert set(refused.value.errors) == {"affected_customers"}
    # The essentials are required.
    with pytest.raises(BriefInvalid) as refused:
        validate_draft({**_minimal(NOW), "ask": ""}, now=NOW)
    assert set(refused.value.errors) == {"ask"}


def test_post_now_on_a_severity_that_does_not_offer_it_changes_nothing():
    with pytest.raises(BriefInvalid) as refused:
        validate_draft(_minimal(NOW, severity="medium"), now=NOW)
    assert "narrative" in refused.value.errors and "repro_steps" in refused.value.errors
    # High offers it only when configured.
    assert validate_draft(_minimal(NOW, severity="high"), now=NOW, post_now_severities=frozenset({Severity.CRITICAL, Severity.HIGH})).incomplete


@pytest.mark.parametrize("destination", list(Destination))
def test_a_brief_reads_back_as_the_form_values_it_came_from(destination):
    """The completion form is pre-filled from the stored brief: what it shows validates to the same brief."""
    brief = validate_draft(draft(destination, now=NOW), now=NOW)
    assert validate_draft(draft_of(brief), now=NOW) == brief
    partial = validate_draft(_minimal(NOW, destination), now=NOW)
    assert validate_draft({**draft_of(partial), "post_now": True}, now=NOW) == partial


def test_reminders_fire_at_their_moments_and_stop_after_the_last():
    posted = NOW
    plan = complete_plan(posted_at=posted)
    assert (plan.kind, plan.next_due_at) == (FollowUpKind.COMPLETE, posted + timedelta(minutes=15))

    def at(due: datetime, now: datetime):
        return fire(FollowUpKind.COMPLETE, stage=None, due_at=due, anchor=posted, now=now, cadence=None, tz="UTC", posted_at=posted, deadline=posted)  # type: ignore[arg-type]

    first = at(posted + timedelta(minutes=15), posted + timedelta(minutes=15))
    assert (first.stage, first.next_due_at) == ("reminder", posted + timedelta(minutes=30))
    last = at(posted + timedelta(minutes=30), posted + timedelta(minutes=30))
    assert (last.stage, last.next_due_at) == ("final", None)
    # Down through both: one reminder (the final one), not two.
    late = at(posted + timedelta(minutes=15), posted + timedelta(hours=2))
    assert (late.stage, late.next_due_at) == ("final", None)


def test_the_reminder_setting_is_read_and_checked():
    assert parse_reminders("15,30") == DEFAULT_REMINDERS and parse_reminders(" 10 , 20,45 ")[-1] == timedelta(minutes=45)
    for bad in ("", "30,15", "0,15", "ten", "15,15", "2000"):
        with pytest.raises(ValueError):
            parse_reminders(bad)
    env = settings_env(None, "sqlite:///x.db")
    settings = load_settings(None, **{**env, "ESCALATION_POST_NOW_SEVERITIES": "Critical, high", "ESCALATION_COMPLETE_REMINDERS": "10,20"})
    assert settings.post_now == PostNow(frozenset({Severity.CRITICAL, Severity.HIGH}), (timedelta(minutes=10), timedelta(minutes=20)))
    assert load_settings(None, **{**env, "ESCALATION_POST_NOW_SEVERITIES": ""}).post_now.severities == frozenset()
    for name, value in (("ESCALATION_POST_NOW_SEVERITIES", "urgent"), ("ESCALATION_COMPLETE_REMINDERS", "30,15")):
        with pytest.raises(SettingsError, match=name):
            load_settings(None, **{**env, name: value})


def test_every_surface_of_an_incomplete_brief_is_within_block_kit_limits():
    brief = validate_draft(_minimal(NOW, destination=Destination.SECURITY), now=NOW)
    rendered = brief_message(ref="ESC-1", brief=brief, agent_user_id=AGENT, escalation_id=1, today=NOW.date(), now=NOW)
    text = json.dumps(rendered.blocks)
    assert "Incomplete: impact" in text and "security details" in text and ids.ACTION_COMPLETE_BRIEF in text
    modal = complete_modal(
        escalation_id=1,
        ref="ESC-1",
        destination=Destination.SECURITY,
        severity=Severity.CRITICAL,
        initial=draft_of(brief),
        missing=list(brief.missing),
        filed_at=NOW,
    )
    _, reminder = complete_reminder(ref="ESC-1", escalation_id=1, missing=list(brief.missing), complete_by=NOW, final=True)
    row_ = Row(1, 1, brief.summary, "critical", "security", "open", NOW, NOW + timedelta(days=1), None, False, "G0SECURITY", "1.1", AGENT, None, True)
    home = home_view(mine=Page((row_,), 1, 0, 0, 10), team=Page((), 0, 0, 0, 10), now=NOW, tz="UTC")
    assert "Incomplete" in json.dumps(home) and ids.ACTION_COMPLETE_BRIEF in json.dumps(home)
    assert "Incomplete" in json.dumps(list_blocks(Page((row_,), 1, 0, 0, 10), now=NOW, tz="UTC")[1])
    assert check_blocks(rendered.blocks) == [] and check_blocks(reminder) == []
    assert check_view(modal) == [] and check_view(home) == []


# --- over Slack's protocol -------------------------------------------------------------------------


def _choose(bot, view: dict, action_id: str, value, state: dict) -> dict:
    """Pick in a dispatching input (the form re-renders from its state); returns the new view."""
    before = len(bot.slack.calls("views.update"))
    state[action_id] = {action_id: value}
    assert (
        bot.sender.action(action_id, value=value if isinstance(value, str) else None, view=view, values=state, user_id=AGENT, team_id=TEAM).status_code == 200
    )
    call = bot.slack.wait_for("views.update", count=before + 1)[-1]
    assert call.ok, call.response
    return current_view(bot, view["id"])


def _inputs(view: dict) -> dict[str, dict]:
    return {b["block_id"]: b for b in view["blocks"] if b.get("type") == "input"}


def post_now(bot, destination: Destination = Destination.ENGINEERING, **extra) -> int:
    """/escalate → destination → Critical → tick Post now → only the essentials → Escalate: the escalation id."""
    view = open_modal(bot)
    state: dict = {}
    view = _choose(bot, view, "destination", destination.value, state)
    view = _choose(bot, view, "severity", "critical", state)
    assert ids.BLOCK_POST_NOW in _inputs(view)
    assert _inputs(view)["narrative"]["optional"] is False  # Slack would refuse an empty narrative until Post now is ticked
    view = _choose(bot, view, ids.ACTION_POST_NOW, ["yes"], state)
    inputs = _inputs(view)
    assert {b for b, block in inputs.items() if not block["optional"]} == set(POST_NOW_REQUIRED)
    values = {**_minimal(bot.clock.now(), destination), "post_now": ["yes"], **extra}
    before = len(posts_to(bot, CHANNELS[destination][0]))
    response = bot.sender.submit_view(view, state_for(view, values), user_id=AGENT, team_id=TEAM)
    assert response.status_code == 200 and response_json(response).get("response_action") == "update", response.text
    wait_until(lambda: len(posts_to(bot, CHANNELS[destination][0])) > before, what="the brief in the channel")
    wait_until(
        lambda: bot.slack.view(view["id"])["callback_id"] == ids.VIEW_BRIEF_RESULT and "posted" in json.dumps(bot.slack.view(view["id"])), what="the result"
    )
    return _latest_id(bot)


def _latest_id(bot) -> int:
    from bot.storage import escalations

    with bot.db.session() as s:
        return escalations.newest_id(s)


def initial_state(view: dict) -> dict:
    """What Slack sends for a pre-filled form left as it is: each input's initial value."""
    out = {}
    for block_id, block in _inputs(view).items():
        el = block["element"]
        value = (
            el.get("initial_value")
            or (el.get("initial_option") or {}).get("value")
            or el.get("initial_date")
            or el.get("initial_date_time")
            or ([o["value"] for o in el.get("initial_options", [])] or None)
        )
        if value is not None:
            out[block_id] = {el["action_id"]: value}
    return out


def open_completion(bot, escalation_id: int, user: str = AGENT) -> dict:
    r = row(bot, escalation_id)
    before = len(bot.slack.calls("views.open"))
    message = bot.slack.message(r.channel_id, r.message_ts)
    assert bot.sender.action(ids.ACTION_COMPLETE_BRIEF, message=message, channel_id=r.channel_id, user_id=user, team_id=TEAM).status_code == 200
    call = bot.slack.wait_for("views.open", count=before + 1)[-1]
    assert call.ok and call.args["view"]["callback_id"] == ids.VIEW_COMPLETE_BRIEF
    return call.response["view"]


def _complete_values(bot, destination: Destination = Destination.ENGINEERING) -> dict:
    full = draft(destination, now=bot.clock.now(), severity="critical")
    return {k: v for k, v in full.items() if k not in ("destination", "severity", "summary", "ask", "deadline", "affected_customers")}


def test_a_critical_brief_posts_at_once_and_is_completed_in_place(bot_any_db):
    bot = bot_any_db
    escalation_id = post_now(bot)
    r = row(bot, escalation_id)
    posted_at = bot.clock.now()

    # One post, at once, marked with what is missing; the agent's DM and the form's result offer to complete it.
    (post,) = posts_to(bot, ENG)
    blocks = json.dumps(post.args["blocks"])
    assert "Incomplete: impact (depth, effect, since when, SLA), narrative, kind of problem, reproduction steps" in blocks
    assert ids.ACTION_COMPLETE_BRIEF in blocks and ids.ACTION_ACKNOWLEDGE in blocks
    (dm,) = [c for c in posts_to(bot, AGENT) if r.number and f"ESC-{r.number}" in c.args["text"]]
    assert ids.ACTION_COMPLETE_BRIEF in json.dumps(dm.args["blocks"])
    assert r.missing and "repro_steps" in r.missing.split(",") and r.complete_by == posted_at + timedelta(minutes=30)
    # Follow-through starts at this first post, and the reminder to complete it with it.
    t = timers(bot, escalation_id)
    assert t["checkin"].next_due_at == posted_at + timedelta(hours=2) and t["ack"].next_due_at == posted_at + timedelta(minutes=15)
    assert t["complete_brief"].next_due_at == posted_at + timedelta(minutes=15)

    # The form that completes it: pre-filled, with what was given.
    view = open_completion(bot, escalation_id)
    inputs = _inputs(view)
    assert "destination" not in inputs and "severity" not in inputs and ids.BLOCK_POST_NOW not in inputs
    assert inputs["summary"]["element"]["initial_value"] == r.summary and inputs["narrative"]["optional"] is False
    given = initial_state(view)

    # A partial completion is refused, field by field; nothing changes.
    updates = len(bot.slack.calls("chat.update"))
    partial = bot.sender.submit_view(view, {**given, **{"narrative": {"narrative": "Checkout fails for EU customers."}}}, user_id=AGENT, team_id=TEAM)
    errors = response_json(partial)
    assert errors["response_action"] == "errors" and {"depth", "repro_steps", "actions_taken", "last_update"} <= set(errors["errors"])
    assert "narrative" not in errors["errors"]
    assert row(bot, escalation_id).missing == r.missing and "completed" not in log_kinds(bot, escalation_id)

    # The whole of it: the SAME message is updated (same ts), no second post, logged, the marker gone.
    bot.clock.advance(timedelta(minutes=10))
    body, ctype = view_submission(view, {**given, **state_for(view, _complete_values(bot))}, user_id=AGENT, team_id=TEAM)
    assert response_json(bot.sender.post(body, ctype))["response_action"] == "update"
    wait_until(lambda: "completed" in log_kinds(bot, escalation_id), what="the completion")
    update = wait_until(lambda: bot.slack.calls("chat.update")[updates:], what="the brief updated in place")[-1]
    assert (update.args["channel"], update.args["ts"]) == (r.channel_id, r.message_ts)
    updated = json.dumps(update.args["blocks"])
    assert "Incomplete" not in updated and ids.ACTION_COMPLETE_BRIEF not in updated and "504 Gateway Timeout" in updated
    assert len(posts_to(bot, ENG)) == 1
    done = row(bot, escalation_id)
    assert done.missing is None and done.complete_by is None and done.brief["narrative"].startswith("Since Tuesday")
    assert not timers(bot, escalation_id)["complete_brief"].active
    wait_until(lambda: "is complete" in json.dumps(bot.slack.view(view["id"])), what="the form's result")

    # The same submission again (a replay, a double click): one effect.
    calls = (len(bot.slack.calls("chat.update")), len(bot.slack.calls("chat.postMessage")))
    assert bot.sender.post(body, ctype).status_code == 200
    time.sleep(0.3)  # give a (wrong) second effect the time to show (as tests/test_access.py does)
    assert log_kinds(bot, escalation_id).count("completed") == 1
    assert (len(bot.slack.calls("chat.update")), len(bot.slack.calls("chat.postMessage"))) == calls

    # No reminder after completion.
    before = len(posts_to(bot, AGENT))
    tick_at(bot, timedelta(minutes=30))
    assert not [c for c in posts_to(bot, AGENT)[before:] if "incomplete" in c.args["text"]]


def test_the_agent_is_reminded_at_15_and_30_minutes_while_it_is_incomplete(bot):
    escalation_id = post_now(bot)
    ref = f"ESC-{row(bot, escalation_id).number}"

    def reminders() -> list:
        return [c for c in posts_to(bot, AGENT) if ref in c.args["text"] and "incomplete" in c.args["text"]]

    tick_at(bot, timedelta(minutes=14))
    assert reminders() == []
    tick_at(bot, timedelta(minutes=1))
    (first,) = reminders()
    assert "reproduction steps" in first.args["text"] and ids.ACTION_COMPLETE_BRIEF in json.dumps(first.args["blocks"])
    tick_at(bot, timedelta(minutes=15))
    assert len(reminders()) == 2 and "time to complete it is up" in reminders()[-1].args["text"]
    tick_at(bot, timedelta(hours=3))
    assert len(reminders()) == 2
    assert log_kinds(bot, escalation_id).count("nudge") >= 2


def test_completing_from_the_agents_dm_and_only_the_agent(bot):
    escalation_id = post_now(bot, Destination.PRODUCT)
    r = row(bot, escalation_id)
    # A member of the receiving channel may act on the brief, but completing it is the agent's.
    hook = f"{bot.slack.hooks_url}{ENGINEER}/x"
    message = bot.slack.message(r.channel_id, r.message_ts)
    bot.sender.action(ids.ACTION_COMPLETE_BRIEF, message=message, channel_id=r.channel_id, user_id=ENGINEER, team_id=TEAM, response_url=hook)
    told = wait_until(lambda: [c for c in bot.slack.calls("response_url") if c.path.startswith(f"/hooks/{ENGINEER}/")], what="the refusal")
    assert told[-1].args["text"].startswith(":no_entry: Only the escalating agent")
    assert ("refused", ENGINEER) in [(k, a) for k, a in _log(bot, escalation_id)]
    assert not [c for c in bot.slack.calls("views.open") if c.args["view"]["callback_id"] == ids.VIEW_COMPLETE_BRIEF]

    # The agent, from the DM they got.
    (dm,) = [c for c in posts_to(bot, AGENT) if ids.ACTION_COMPLETE_BRIEF in json.dumps(c.args.get("blocks"))]
    before = len(bot.slack.calls("views.open"))
    bot.sender.action(ids.ACTION_COMPLETE_BRIEF, message=dm.response["message"], channel_id=AGENT, user_id=AGENT, team_id=TEAM)
    view = bot.slack.wait_for("views.open", count=before + 1)[-1].response["view"]
    body, ctype = view_submission(view, {**initial_state(view), **state_for(view, _complete_values(bot, Destination.PRODUCT))}, user_id=AGENT, team_id=TEAM)
    assert response_json(bot.sender.post(body, ctype))["response_action"] == "update"
    wait_until(lambda: "14 customers asked" in json.dumps(bot.slack.message(r.channel_id, r.message_ts)["blocks"]), what="the brief updated")
    assert row(bot, escalation_id).missing is None and len(posts_to(bot, r.channel_id)) == 1


def _log(bot, escalation_id: int) -> list[tuple[str, str]]:
    from bot.storage import running_log

    with bot.db.session() as s:
        return [(e.kind, e.actor) for e in running_log.log_entries(s, escalation_id)]


def test_medium_does_not_offer_post_now_and_a_forged_tick_is_refused(bot):
    view = open_modal(bot)
    state: dict = {}
    view = _choose(bot, view, "destination", Destination.ENGINEERING.value, state)
    view = _choose(bot, view, "severity", "medium", state)
    assert ids.BLOCK_POST_NOW not in _inputs(view)
    values = {**_minimal(bot.clock.now(), severity="medium")}
    response = bot.sender.submit_view(view, {**state_for(view, values), ids.BLOCK_POST_NOW: {ids.BLOCK_POST_NOW: FORGED_TICK}}, user_id=AGENT, team_id=TEAM)
    errors = response_json(response)
    assert errors["response_action"] == "errors" and {"narrative", "repro_steps", "depth"} <= set(errors["errors"]), json.dumps(errors)[:3000]
    assert posts_to(bot, ENG) == []


def test_an_incomplete_brief_shows_as_incomplete_in_the_lists_and_counts_in_stats(bot):
    escalation_id = post_now(bot)
    before = len(bot.slack.calls("views.publish"))
    assert bot.sender.event({"type": "app_home_opened", "user": AGENT, "tab": "home", "event_ts": "1.2"}).status_code == 200
    home = bot.slack.wait_for("views.publish", count=before + 1)[-1].args["view"]
    assert ":construction: *Incomplete*" in json.dumps(home) and ids.ACTION_COMPLETE_BRIEF in json.dumps(home)
    opened = len(bot.slack.calls("views.open"))  # *Complete the brief* from the Home tab opens the form
    assert bot.sender.action(ids.ACTION_COMPLETE_BRIEF, view=home, user_id=AGENT, team_id=TEAM).status_code == 200
    assert bot.slack.wait_for("views.open", count=opened + 1)[-1].args["view"]["callback_id"] == ids.VIEW_COMPLETE_BRIEF
    before = len(bot.slack.calls("response_url"))
    bot.sender.command(command="/escalate", text="list", user_id=AGENT, team_id=TEAM, channel_id="C0SUPPORT")
    listed = bot.slack.wait_for("response_url", count=before + 1)[-1]
    assert "Incomplete" in json.dumps(listed.args)
    before = len(bot.slack.calls("response_url"))
    bot.sender.command(command="/escalate", text="stats", user_id=AGENT, team_id=TEAM, channel_id="C0SUPPORT")
    stats = json.dumps(bot.slack.wait_for("response_url", count=before + 1)[-1].args)
    assert "Critical" in stats and row(bot, escalation_id).status == "open"


def test_completion_of_an_unposted_brief_and_a_forged_form(bot):
    """A completion form whose metadata is garbled does nothing; time data comes from the clock."""
    view = complete_modal(
        escalation_id=1, ref="ESC-1", destination=Destination.SUPPORT_L2, severity=Severity.CRITICAL, initial={}, missing=["narrative"], filed_at=NOW
    )
    body, ctype = view_submission(view, {}, user_id=AGENT, team_id=TEAM, private_metadata="not json")
    assert bot.sender.post(body, ctype).status_code == 200
    assert bot.slack.calls("chat.postMessage") == []
    assert datetime.fromtimestamp(json.loads(view["private_metadata"])["filed_at"], UTC) == NOW.replace(microsecond=0)

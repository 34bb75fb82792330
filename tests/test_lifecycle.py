"""De-escalation, resolution with lessons learned, re-open, and who may act on a brief, over
Slack's protocol: button → modal → submission → thread note, chat.update, DM, log rows; then the
clock moves and the tick runs, to show that nudges stop (and resume after a re-open)."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier

import pytest

from blocks import ids
from blocks.lifecycle import deescalate_modal
from bot.domain.brief import Destination
from bot.domain.lifecycle import Deescalation, DeescalationReason, Lessons
from bot.storage import escalations, running_log
from bot.storage.models import EscalationLog
from tests.conftest import AGENT, CHANNELS, TEAM, _run_bot
from tests.e2e import wait_until
from tests.support.slack_requests import view_submission
from tests.test_follow_through import ENGINEER, brief_message, click, log_kinds, post_brief, posts, row, submit_note, tick_at, timers

ENG = CHANNELS[Destination.ENGINEERING][0]
OUTSIDER = "U0OUTSIDER"
ADMIN = "U0ADMIN01"
MEMBER = "U0MEMBER01"
D, C = ids.DEESCALATE_BLOCKS, ids.CLOSE_BLOCKS


@pytest.fixture
def bot_with_admin(fake_slack, tmp_path, clock):
    """A bot with ESCALATION_ADMINS set, and one more member in the engineering channel."""
    fake_slack.channel(ENG).members.append(MEMBER)
    yield from _run_bot(fake_slack, f"sqlite:///{tmp_path / 'bot.db'}", clock, ESCALATION_ADMINS=f" {ADMIN} ,")


def opened(bot, callback_id: str, count: int = 1):
    return wait_until(
        lambda: (c := [c for c in bot.slack.calls("views.open") if c.args["view"]["callback_id"] == callback_id]) and len(c) >= count and c,
        what=f"{callback_id} modal",
    )[-1]


def submit(bot, call, values: dict, user: str = AGENT):
    body, ctype = view_submission(call, values, user_id=user, team_id=TEAM)
    response = bot.sender.post(body, ctype)
    assert response.status_code == 200, response.text
    return response.json() if response.text else {}


def deescalation(reason="workaround", findings="Clearing the SAML cache unblocks the customer fully", told="yes", root_cause=None) -> dict:
    values = {D["reason"]: {D["reason"]: reason}, D["findings"]: {D["findings"]: findings}, D["customer_told"]: {D["customer_told"]: told}}
    if root_cause:
        values[D["root_cause"]] = {D["root_cause"]: root_cause}
    return values


def lessons(confirmed=True) -> dict:
    return {
        C["confirmed"]: {C["confirmed"]: ["yes"] if confirmed else []},
        C["what_happened"]: {C["what_happened"]: "Exports over 10k rows hit the gateway timeout"},
        C["root_cause"]: {C["root_cause"]: "The export worker buffered every row before streaming"},
        C["next_time"]: {C["next_time"]: "Suggest splitting the export by month while engineering ships the streaming fix"},
    }


def entries(bot, escalation_id: int, kind: str) -> list[EscalationLog]:
    with bot.db.session() as s:
        return [e for e in running_log.log_entries(s, escalation_id) if e.kind == kind]


def brief_updates(bot, needle: str) -> list:
    return [c for c in bot.slack.calls("chat.update") if needle in json.dumps(c.args["blocks"])]


def actions_of(blocks: list[dict]) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def ephemerals(bot, since: int = 0) -> list:
    return [c for c in bot.slack.calls("response_url")[since:] if c.args.get("response_type") == "ephemeral"]


# --- de-escalation --------------------------------------------------------------------------------


def test_deescalation_tells_the_team_records_prompts_the_agent_and_stops_nudges(bot_any_db):
    bot = bot_any_db
    escalation_id = post_brief(bot, "critical")
    click(bot, ids.ACTION_ACKNOWLEDGE, escalation_id)
    wait_until(lambda: row(bot, escalation_id).receiving_owner_id == ENGINEER, what="owner")
    bot.clock.advance(timedelta(minutes=50))

    click(bot, ids.ACTION_DEESCALATE, escalation_id, user=AGENT)
    modal = opened(bot, ids.VIEW_DEESCALATE)
    assert modal.args["view"]["private_metadata"] == json.dumps({"escalation_id": escalation_id})
    assert submit(bot, modal, deescalation(told="no")) == {}

    note = wait_until(lambda: [c for c in posts(bot, channel=ENG, thread=True) if "de-escalated" in c.args["text"]], what="thread note")[-1]
    assert f"<@{AGENT}> de-escalated *ESC-1*: A workaround fully unblocks the customer" in note.args["text"]
    assert f"<@{ENGINEER}> and the receiving team can stand down" in note.args["text"] and "Clearing the SAML cache" in note.args["text"]
    dm = wait_until(lambda: [c for c in posts(bot, channel=AGENT) if "Tell the customer the outcome" in c.args["text"]], what="customer prompt")[-1]
    assert actions_of(dm.args["blocks"]) == [ids.ACTION_LOG_CUSTOMER_UPDATE]
    update = wait_until(lambda: brief_updates(bot, "De-escalated: A workaround fully unblocks the customer"), what="brief shows de-escalated")[-1]
    assert actions_of(update.args["blocks"]) == [ids.ACTION_REOPEN, ids.ACTION_VIEW_LOG, ids.ACTION_EXPORT]

    r = row(bot, escalation_id)
    assert r.status == "deescalated" and r.resolved_at == bot.clock.now() and "Clearing the SAML cache" in r.resolution
    [entry] = entries(bot, escalation_id, "deescalated")
    assert entry.actor == AGENT and entry.data == {"reason": "workaround", "customer_told": False, "root_cause": None}
    assert not any(t.active for t in timers(bot, escalation_id).values())
    before = len(bot.slack.calls("chat.postMessage"))
    report = tick_at(bot, timedelta(days=3))
    assert report.sent == 0 and posts(bot, since=before) == []

    # The findings are kept for future agents: search and triage's "similar resolved briefs" find them.
    [hit] = bot.services.search.search(TEAM, "SAML cache", asker=AGENT)
    assert hit.ref == "ESC-1" and "Clearing the SAML cache" in hit.resolution
    [(ref, _summary, resolution)] = bot.services.search.resolved_like(TEAM, "CSV export times out for reports over 10k rows gateway timeout", asker="U0ANYONE")
    assert ref == "ESC-1" and resolution.startswith("De-escalated (a workaround fully unblocks the customer)")


def test_the_receiving_owner_deescalates_and_the_agent_is_told(bot):
    escalation_id = post_brief(bot)
    click(bot, ids.ACTION_ACKNOWLEDGE, escalation_id)
    wait_until(lambda: row(bot, escalation_id).receiving_owner_id == ENGINEER, what="owner")
    click(bot, ids.ACTION_DEESCALATE, escalation_id, user=ENGINEER)
    submit(bot, opened(bot, ids.VIEW_DEESCALATE), deescalation(reason="support_can_fix", told="yes"), user=ENGINEER)
    dm = wait_until(lambda: [c for c in posts(bot, channel=AGENT) if "de-escalated" in c.args["text"]], what="DM to agent")[-1]
    assert dm.args["text"].endswith(f"<@{ENGINEER}> de-escalated *ESC-1*: Support can address the cause directly.")
    note = wait_until(lambda: [c for c in posts(bot, channel=ENG, thread=True) if "de-escalated" in c.args["text"]], what="note")[-1]
    assert "The receiving team can stand down" in note.args["text"]


def test_deescalation_modal_field_errors(bot):
    escalation_id = post_brief(bot)
    click(bot, ids.ACTION_DEESCALATE, escalation_id, user=AGENT)
    modal = opened(bot, ids.VIEW_DEESCALATE)
    answer = submit(bot, modal, deescalation(reason="self_resolved", findings="   "))
    assert answer["response_action"] == "errors" and set(answer["errors"]) == {D["findings"], D["root_cause"]}
    assert "root cause" in answer["errors"][D["root_cause"]]
    answer = submit(bot, modal, {D["findings"]: {D["findings"]: "x"}})
    assert set(answer["errors"]) == {D["reason"], D["customer_told"]}
    assert row(bot, escalation_id).status == "open"
    # Self-resolved with a root cause is accepted, and the root cause is kept.
    assert submit(bot, modal, deescalation(reason="self_resolved", root_cause="A CDN node served stale config")) == {}
    wait_until(lambda: row(bot, escalation_id).status == "deescalated", what="de-escalated")
    assert "Root cause: A CDN node served stale config" in row(bot, escalation_id).resolution


def test_a_repeated_submission_deescalates_once(bot_any_db):
    bot = bot_any_db
    escalation_id = post_brief(bot)
    stale = bot.slack.message(ENG, row(bot, escalation_id).message_ts)  # as a client that has not refreshed shows it
    click(bot, ids.ACTION_DEESCALATE, escalation_id, user=AGENT)
    modal = opened(bot, ids.VIEW_DEESCALATE)
    for _ in range(3):
        submit(bot, modal, deescalation())
    wait_until(lambda: row(bot, escalation_id).status == "deescalated", what="de-escalated")
    # The same submission delivered again has no effect at all: not even a DM saying so.
    wait_until(lambda: [c for c in posts(bot, channel=ENG, thread=True) if "de-escalated" in c.args["text"]], what="the thread note")
    time.sleep(0.3)
    assert not [c for c in posts(bot, channel=AGENT) if "already" in c.args["text"]]
    assert len(entries(bot, escalation_id, "deescalated")) == 1
    assert len([c for c in posts(bot, channel=ENG, thread=True) if "de-escalated" in c.args["text"]]) == 1
    # And the button (on a brief not yet refreshed) now refuses to open the modal again.
    before = len(ephemerals(bot))
    click(bot, ids.ACTION_DEESCALATE, escalation_id, user=AGENT, message=stale)
    reply = wait_until(lambda: ephemerals(bot, before), what="ephemeral")[-1]
    assert "is de-escalated: there is nothing to de-escalate" in reply.args["text"]


# --- resolution -----------------------------------------------------------------------------------


def test_fixed_then_closed_with_lessons_learned(bot_any_db):
    bot = bot_any_db
    escalation_id = post_brief(bot, "high")
    click(bot, ids.ACTION_ACKNOWLEDGE, escalation_id)
    wait_until(lambda: row(bot, escalation_id).receiving_owner_id == ENGINEER, what="owner")
    bot.clock.advance(timedelta(hours=26, minutes=5))
    click(bot, ids.ACTION_MARK_FIXED, escalation_id)
    wait_until(lambda: row(bot, escalation_id).status == "fixed_pending", what="fixed")
    dm = wait_until(lambda: [c for c in posts(bot, channel=AGENT) if "marked *ESC-1* fixed" in c.args["text"]], what="DM")[-1]
    assert actions_of(dm.args["blocks"]) == [ids.ACTION_CLOSE]
    fixed = wait_until(lambda: [c for c in brief_updates(bot, "Fixed, awaiting") if ids.ACTION_CLOSE in actions_of(c.args["blocks"])], what="fixed brief")[-1]
    assert actions_of(fixed.args["blocks"])[0] == ids.ACTION_CLOSE and ids.ACTION_MARK_FIXED not in actions_of(fixed.args["blocks"])

    # The agent closes from the DM's button; without confirming with the customer, the modal says so.
    bot.clock.advance(timedelta(minutes=55))
    bot.sender.action(ids.ACTION_CLOSE, message=dm.response["message"], channel_id=dm.response["channel"], user_id=AGENT, team_id=TEAM)
    modal = opened(bot, ids.VIEW_CLOSE)
    answer = submit(bot, modal, lessons(confirmed=False))
    assert answer["response_action"] == "errors" and set(answer["errors"]) == {C["confirmed"]}
    assert submit(bot, modal, lessons()) == {}

    note = wait_until(lambda: [c for c in posts(bot, channel=ENG, thread=True) if "resolved *ESC-1*" in c.args["text"]], what="resolution note")[-1]
    assert "after 1 d 3 h" in note.args["text"] and "buffered every row" in note.args["text"] and "splitting the export by month" in note.args["text"]
    update = wait_until(lambda: brief_updates(bot, "Resolved in 1 d 3 h"), what="brief shows resolved")[-1]
    assert actions_of(update.args["blocks"]) == [ids.ACTION_REOPEN, ids.ACTION_VIEW_LOG, ids.ACTION_EXPORT]
    r = row(bot, escalation_id)
    assert r.status == "resolved" and r.lessons.startswith("Suggest splitting") and "Root cause: The export worker" in r.resolution
    [entry] = entries(bot, escalation_id, "resolved")
    assert entry.data["seconds"] == (26 * 60 + 60) * 60 and entry.data["next_time"].startswith("Suggest")

    before = len(bot.slack.calls("chat.postMessage"))
    assert tick_at(bot, timedelta(days=3)).sent == 0 and posts(bot, since=before) == []

    # Lessons learned are searchable: /escalate search shows them to the asker.
    bot.sender.command(command="/escalate", text="search streaming fix", user_id=AGENT, team_id=TEAM, channel_id="C0SUPPORT")
    answer = wait_until(lambda: [c for c in ephemerals(bot) if "past escalation" in c.args["text"]], what="search answer")[-1]
    assert "ESC-1" in json.dumps(answer.args["blocks"]) and "_Lessons learned:_ Suggest splitting" in json.dumps(answer.args["blocks"])


def test_mark_fixed_twice_has_one_effect(bot):
    escalation_id = post_brief(bot)
    message = bot.slack.message(ENG, row(bot, escalation_id).message_ts)
    click(bot, ids.ACTION_MARK_FIXED, escalation_id, message=message)
    click(bot, ids.ACTION_MARK_FIXED, escalation_id, message=message)
    wait_until(lambda: ephemerals(bot), what="already fixed")
    assert len(entries(bot, escalation_id, "fixed")) == 1
    assert "fixed, awaiting the agent's confirmation already" in ephemerals(bot)[-1].args["text"]


# --- re-open --------------------------------------------------------------------------------------


def test_reopen_resumes_the_cadence_from_that_moment(bot_any_db):
    bot = bot_any_db
    escalation_id = post_brief(bot, "high")
    click(bot, ids.ACTION_ACKNOWLEDGE, escalation_id)
    wait_until(lambda: row(bot, escalation_id).receiving_owner_id == ENGINEER, what="owner")
    click(bot, ids.ACTION_DEESCALATE, escalation_id, user=AGENT)
    submit(bot, opened(bot, ids.VIEW_DEESCALATE), deescalation())
    wait_until(lambda: row(bot, escalation_id).status == "deescalated", what="closed")
    assert tick_at(bot, timedelta(hours=10)).sent == 0

    wait_until(lambda: brief_updates(bot, ids.ACTION_REOPEN), what="re-open button")
    closed = bot.slack.message(ENG, row(bot, escalation_id).message_ts)
    click(bot, ids.ACTION_REOPEN, escalation_id, user=AGENT, message=closed)
    click(bot, ids.ACTION_REOPEN, escalation_id, user=AGENT, message=closed)  # a double click: one re-open
    wait_until(lambda: row(bot, escalation_id).status == "acknowledged", what="re-opened")
    wait_until(lambda: ephemerals(bot), what="second click told")
    assert "is not closed" in ephemerals(bot)[-1].args["text"]
    assert len(entries(bot, escalation_id, "reopened")) == 1
    note = wait_until(lambda: [c for c in posts(bot, channel=ENG, thread=True) if "re-opened" in c.args["text"]], what="note")[-1]
    assert "Follow-ups resume from now" in note.args["text"]
    r = row(bot, escalation_id)
    assert r.resolution is None and r.resolved_at is None
    now = bot.clock.now()
    t = timers(bot, escalation_id)
    assert t["checkin"].active and t["checkin"].next_due_at == now + timedelta(hours=4)
    assert t["customer_update"].active and t["customer_update"].next_due_at == now + timedelta(hours=4)
    assert not t["ack"].active  # it has an owner: no acknowledgement pings
    update = wait_until(
        lambda: [
            c
            for c in bot.slack.calls("chat.update")
            if ids.ACTION_DEESCALATE in actions_of(c.args["blocks"]) and "Next check-in due" in json.dumps(c.args["blocks"])
        ],
        what="active brief again",
    )[-1]
    assert ids.ACTION_REOPEN not in actions_of(update.args["blocks"])

    before = len(bot.slack.calls("chat.postMessage"))
    assert tick_at(bot, timedelta(hours=3, minutes=59)).sent == 0
    tick_at(bot, timedelta(minutes=1))
    assert [c for c in posts(bot, channel=ENG, thread=True, since=before) if "check in" in c.args["text"]]
    assert [c for c in posts(bot, channel=AGENT, since=before) if "Customer update due" in c.args["text"]]


def test_reopen_of_a_resolved_brief_without_an_owner_waits_for_acknowledgement(bot):
    escalation_id = post_brief(bot, "critical")
    click(bot, ids.ACTION_MARK_FIXED, escalation_id)  # marking fixed makes the clicker the owner...
    wait_until(lambda: row(bot, escalation_id).status == "fixed_pending", what="fixed")
    bot.services.lifecycle.close(escalation_id, AGENT, Lessons("a", "b", "c"), team_id=TEAM)
    with bot.db.session() as s:  # ...so take the owner away to see the ack window come back
        r = escalations.get_escalation(s, escalation_id)
        r.receiving_owner_id = None
        s.add(r)
    click(bot, ids.ACTION_REOPEN, escalation_id, user=AGENT)
    wait_until(lambda: row(bot, escalation_id).status == "open", what="open")
    assert timers(bot, escalation_id)["ack"].next_due_at == bot.clock.now() + timedelta(minutes=15)


# --- who may act ------------------------------------------------------------------------------------


def test_someone_outside_the_brief_is_refused_privately_and_logged(bot_any_db):
    bot = bot_any_db
    escalation_id = post_brief(bot)
    for action in (ids.ACTION_DEESCALATE, ids.ACTION_ACKNOWLEDGE, ids.ACTION_MARK_FIXED, ids.ACTION_CHANGE_SEVERITY):
        before = len(ephemerals(bot))
        click(bot, action, escalation_id, user=OUTSIDER)
        refusal = wait_until(lambda: ephemerals(bot, before), what=f"refusal of {action}")[-1]
        assert "Only the escalating agent, the receiving owner, members of <#C0ENGINEER> and admins" in refusal.args["text"]
        assert refusal.args["response_type"] == "ephemeral" and refusal.args.get("replace_original") is False
    refused = entries(bot, escalation_id, "refused")
    assert [e.data["action"] for e in refused] == ["de-escalate", "acknowledge", "mark fixed", "change the severity of"]
    assert all(e.actor == OUTSIDER for e in refused)
    assert not [c for c in bot.slack.calls("views.open") if c.args["view"]["callback_id"] in (ids.VIEW_DEESCALATE, ids.VIEW_CHANGE_SEVERITY)]
    r = row(bot, escalation_id)
    assert r.status == "open" and r.receiving_owner_id is None

    # A reaction has no response_url: the refusal is an ephemeral message in the channel.
    item = {"type": "message", "channel": r.channel_id, "ts": r.message_ts}
    bot.sender.event({"type": "reaction_added", "user": OUTSIDER, "reaction": "white_check_mark", "item": item, "event_ts": "1.1"})
    wait_until(
        lambda: [c for c in bot.slack.calls("chat.postEphemeral") if c.args["user"] == OUTSIDER and "Only the escalating agent" in c.args["text"]],
        what="ephemeral",
    )
    assert row(bot, escalation_id).status == "open" and len(entries(bot, escalation_id, "refused")) == 5

    # A submission replayed by an outsider (the modal was never theirs) is refused too, by DM.
    body, ctype = view_submission(deescalate_modal(escalation_id=escalation_id, ref="ESC-1"), deescalation(), user_id=OUTSIDER, team_id=TEAM)
    assert bot.sender.post(body, ctype).status_code == 200
    wait_until(lambda: [c for c in posts(bot, channel=OUTSIDER) if "Only the escalating agent" in c.args["text"]], what="DM refusal")
    assert row(bot, escalation_id).status == "open"


def test_admins_and_channel_members_may_act(bot_with_admin):
    bot = bot_with_admin
    escalation_id = post_brief(bot)
    click(bot, ids.ACTION_ACKNOWLEDGE, escalation_id, user=MEMBER)  # in the destination channel
    wait_until(lambda: row(bot, escalation_id).receiving_owner_id == MEMBER, what="member acknowledged")
    click(bot, ids.ACTION_DEESCALATE, escalation_id, user=ADMIN)  # in no channel, but an admin
    submit(bot, opened(bot, ids.VIEW_DEESCALATE), deescalation(), user=ADMIN)
    wait_until(lambda: brief_updates(bot, ids.ACTION_REOPEN), what="admin de-escalated")
    click(bot, ids.ACTION_REOPEN, escalation_id, user=ADMIN)
    wait_until(lambda: row(bot, escalation_id).status == "acknowledged", what="admin re-opened")
    assert "refused" not in log_kinds(bot, escalation_id)
    assert [e.actor for e in entries(bot, escalation_id, "reopened")] == [ADMIN]


def test_membership_is_read_once_and_cached(bot_with_admin):
    bot = bot_with_admin
    wait_until(lambda: len(bot.slack.calls("conversations.members")) >= len(CHANNELS), what="warm-up at start")
    warm = len(bot.slack.calls("conversations.members"))
    escalation_id = post_brief(bot)
    message = bot.slack.message(ENG, row(bot, escalation_id).message_ts)
    for user in (MEMBER, OUTSIDER, ENGINEER):
        click(bot, ids.ACTION_ACKNOWLEDGE, escalation_id, user=user, message=message)
    wait_until(lambda: len(entries(bot, escalation_id, "acknowledged")) == 2 and entries(bot, escalation_id, "refused"), what="clicks handled")
    assert len(bot.slack.calls("conversations.members")) == warm  # the clicks never waited on Slack


def test_help_lists_the_lifecycle_buttons(bot):
    text = bot.sender.command(command="/escalate", text="help", user_id=AGENT, team_id=TEAM, channel_id="C0SUPPORT").json()["text"]
    for button in ("Mark fixed", "De-escalate", "Close with lessons learned", "Re-open"):
        assert button in text


def test_concurrent_closes_and_reopens_have_one_effect(bot_any_db):
    """Several workers (replicas, retried deliveries) acting at the same instant: one transition each way."""
    bot = bot_any_db
    escalation_id = post_brief(bot)
    gate = Barrier(4)

    def at_once(fn):
        def run(_):
            gate.wait()
            return fn()

        with ThreadPoolExecutor(4) as pool:
            return list(pool.map(run, range(4)))

    d = Deescalation(DeescalationReason.WORKAROUND, "Clearing the cache unblocks them", customer_told=True)
    outcomes = at_once(lambda: bot.services.lifecycle.deescalate(escalation_id, AGENT, d, team_id=TEAM))
    assert sorted(o.message is None for o in outcomes) == [False, False, False, True]
    outcomes = at_once(lambda: bot.services.lifecycle.reopen(escalation_id, AGENT, team_id=TEAM))
    assert sorted(o.message is None for o in outcomes) == [False, False, False, True]
    assert len(entries(bot, escalation_id, "deescalated")) == 1 and len(entries(bot, escalation_id, "reopened")) == 1
    assert len([c for c in posts(bot, channel=ENG, thread=True) if "re-opened" in c.args["text"]]) == 1


# --- what a closed brief still takes ----------------------------------------------------------------


def test_a_closed_brief_refuses_severity_acknowledgement_fixed_and_snooze_but_takes_notes(bot):
    """Buttons left on older messages (a client not refreshed, a nudge in the thread, a DM) after the
    brief closed: what changes who handles it or how urgently waits for a re-open; notes only add to
    its record, so they are still logged and told in the thread, and no timer starts again."""
    escalation_id = post_brief(bot, "high")
    tick_at(bot, timedelta(hours=4))
    nudge = [c for c in posts(bot, channel=ENG, thread=True) if "check in" in c.args["text"]][-1]
    stale = brief_message(bot, escalation_id)
    click(bot, ids.ACTION_CHANGE_SEVERITY, escalation_id, user=AGENT)
    severity_modal = opened(bot, ids.VIEW_CHANGE_SEVERITY)  # opened while the brief was active, submitted after it closed
    d = Deescalation(DeescalationReason.WORKAROUND, "Clearing the cache unblocks them", customer_told=True)
    assert bot.services.lifecycle.deescalate(escalation_id, AGENT, d, team_id=TEAM).message is None
    modals = len(bot.slack.calls("views.open"))

    before = len(ephemerals(bot))
    click(bot, ids.ACTION_CHANGE_SEVERITY, escalation_id, user=AGENT, message=stale)
    assert wait_until(lambda: ephemerals(bot, before), what="severity refusal")[-1].args["text"] == "ESC-1 is de-escalated: re-open it first."
    assert submit(bot, severity_modal, {ids.BLOCK_SEVERITY: {ids.BLOCK_SEVERITY: "critical"}, ids.BLOCK_REASON: {ids.BLOCK_REASON: "More customers hit"}}) == {}
    wait_until(lambda: [c for c in posts(bot, channel=AGENT) if c.args["text"] == "ESC-1 is de-escalated: re-open it first."], what="refusal by DM")

    before = len(ephemerals(bot))
    click(bot, ids.ACTION_ACKNOWLEDGE, escalation_id, message=stale)
    assert wait_until(lambda: ephemerals(bot, before), what="ack refusal")[-1].args["text"] == "ESC-1 is de-escalated: re-open it first."
    before = len(ephemerals(bot))
    click(bot, ids.ACTION_MARK_FIXED, escalation_id, message=stale)
    assert wait_until(lambda: ephemerals(bot, before), what="fixed refusal")[-1].args["text"] == "ESC-1 is de-escalated: re-open it first."

    before = len(ephemerals(bot))
    bot.sender.action(f"{ids.ACTION_SNOOZE_PREFIX}60", message=nudge.response["message"], channel_id=ENG, user_id=AGENT, team_id=TEAM)
    assert "nothing to snooze" in wait_until(lambda: ephemerals(bot, before), what="snooze refusal")[-1].args["text"]

    click(bot, ids.ACTION_LOG_CHECKIN, escalation_id, user=AGENT, message=nudge.response["message"])
    submit_note(bot, ids.VIEW_LOG_CHECKIN, "Eng confirmed the cache fix holds")
    click(bot, ids.ACTION_POST_UPDATE, escalation_id, message=stale)
    submit_note(bot, ids.VIEW_POST_UPDATE, "Permanent fix ships Monday", user=ENGINEER)

    def told(needle: str) -> bool:
        return any(needle in c.args["text"] for c in posts(bot, channel=ENG, thread=True))

    wait_until(lambda: told("cache fix holds") and told("Permanent fix ships Monday"), what="notes in the thread")
    assert {"checkin", "team_update"} <= set(log_kinds(bot, escalation_id))  # logged before they were told

    r = row(bot, escalation_id)
    assert r.status == "deescalated" and r.severity == "high" and r.receiving_owner_id is None
    assert not {"severity_changed", "acknowledged", "fixed", "snoozed"} & set(log_kinds(bot, escalation_id))
    assert not any(t.active for t in timers(bot, escalation_id).values())
    assert len(bot.slack.calls("views.open")) == modals + 2  # the two note modals; no severity modal

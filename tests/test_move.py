"""Moving an escalation to another team, over Slack's protocol: the *Move* button, the modal (the new
team's package, pre-filled), the submission; the new post, the old message, the running log and the
timers. The clock is frozen and moved by hand; ticks are called directly."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from blocks import ids
from blocks.move import moved_away_message, moved_dm, moved_thread_note
from bot.domain import follow_through as plan
from bot.domain.brief import Destination, Severity, message_link
from bot.domain.move import draft_of, moved_brief, prefill
from bot.domain.status import LogKind
from bot.domain.validation import validate_draft
from bot.storage import running_log
from bot.usecases.permissions import NOT_FOUND
from tests.conftest import AGENT, CHANNELS, TEAM
from tests.e2e import response_json, state_for, wait_until
from tests.factories import draft
from tests.support.blockkit_limits import check_blocks, check_view
from tests.test_follow_through import ENGINEER, click, log_kinds, post_brief, posts, row, tick_at, timers

ENG, PRODUCT, SECURITY = (CHANNELS[d][0] for d in (Destination.ENGINEERING, Destination.PRODUCT, Destination.SECURITY))
B = ids.MOVE_BLOCKS
BYSTANDER = "U0BYSTANDER"
REASON = "Not a defect: exports over 10k rows were never supported; this is a capability gap"


def _opened(bot, since: int) -> dict:
    call = wait_until(lambda: [c for c in bot.slack.calls("views.open")[since:] if c.args["view"]["callback_id"] == ids.VIEW_MOVE], what="the move modal")[-1]
    return call.response["view"]


def open_move(bot, escalation_id: int, user: str = ENGINEER) -> dict:
    before = len(bot.slack.calls("views.open"))
    click(bot, ids.ACTION_MOVE, escalation_id, user)
    return _opened(bot, before)


def choose_team(bot, view: dict, target: Destination, user: str = ENGINEER) -> dict:
    """Pick the team in the move modal: the stand-in Slack keeps the re-rendered view."""
    before = len(bot.slack.calls("views.update"))
    state = {B["destination"]: {B["destination"]: target.value}}
    assert bot.sender.action(B["destination"], value=target.value, view=view, values=state, user_id=user, team_id=TEAM).status_code == 200
    wait_until(lambda: len(bot.slack.calls("views.update")) > before, what="the re-rendered move modal")
    return bot.slack.view(view["id"])


def submit_move(bot, view: dict, target: Destination, values: dict | None = None, *, user: str = ENGINEER, reason: str = REASON):
    """Submit what the modal shows (its initial values), with `values` typed over them."""
    shown = {b["block_id"]: _initial(b["element"]) for b in view["blocks"] if b.get("type") == "input"}
    typed = {k: v for k, v in {**shown, **(values or {}), B["destination"]: target.value, B["reason"]: reason}.items() if v is not None}
    return bot.sender.submit_view(view, state_for(view, typed), user_id=user, team_id=TEAM)


def _initial(element: dict):
    return element.get("initial_value") or (element.get("initial_option") or {}).get("value")


def _moved(bot, escalation_id: int, destination: Destination):
    return wait_until(lambda: row(bot, escalation_id).destination == destination.value and row(bot, escalation_id), what=f"the move to {destination.label}")


def _moved_entry(bot, escalation_id: int):
    with bot.db.session() as s:
        return running_log.last_log_entry(s, escalation_id, LogKind.MOVED)


def _home(bot, user: str) -> set[str]:
    """The briefs in the user's *Waiting on my team* list, as the Home tab shows it."""
    view = bot.services.home.publish_home(TEAM, user)
    prefix = f"{ids.BLOCK_HOME_ROW_PREFIX}{ids.HOME_TEAM}_"
    return {"ESC-" + b["block_id"][len(prefix) :] for b in view["blocks"] if str(b.get("block_id", "")).startswith(prefix)}


def test_engineering_to_product_keeps_the_log_timers_and_links(bot_any_db):
    bot = bot_any_db
    bot.slack.channel(ENG).members.append("U0ENGONLY")
    bot.slack.channel(PRODUCT).members.append("U0PRODONLY")
    bot.services.members.warm([ENG, PRODUCT])  # read again: the app read them when it started
    escalation_id = post_brief(bot, "high", Destination.ENGINEERING, summary="Exports over 10k rows time out for Acme")
    assert "ESC-1" in _home(bot, "U0ENGONLY") and "ESC-1" not in _home(bot, "U0PRODONLY")
    click(bot, ids.ACTION_ACKNOWLEDGE, escalation_id)  # Engineering took it: owner set, ack window closed
    wait_until(lambda: row(bot, escalation_id).receiving_owner_id == ENGINEER, what="the acknowledgement")
    bot.clock.advance(timedelta(minutes=40))
    before = row(bot, escalation_id)
    kept = {k: timers(bot, escalation_id)[k].next_due_at for k in ("checkin", "customer_update", "deadline")}
    old_ts, history = before.message_ts, log_kinds(bot, escalation_id)
    assert not timers(bot, escalation_id)["ack"].active

    view = open_move(bot, escalation_id)
    assert [o["value"] for o in view["blocks"][1]["element"]["options"]] == [d.value for d in Destination if d is not Destination.ENGINEERING]
    view = choose_team(bot, view, Destination.PRODUCT)
    inputs = {b["block_id"]: b for b in view["blocks"] if b.get("type") == "input"}
    assert {"use_case", "request_frequency", "competitive_context"} <= set(inputs)
    assert inputs["use_case"]["element"]["initial_value"].startswith(draft(Destination.ENGINEERING, now=bot.clock.now())["narrative"][:40])  # pre-filled
    assert not check_view(view)

    response = submit_move(bot, view, Destination.PRODUCT, {"request_frequency": "14 customers asked in the last 90 days"})
    assert response.status_code == 200 and not response_json(response).get("errors"), response.text
    moved = _moved(bot, escalation_id, Destination.PRODUCT)

    # The brief now lives in the product channel: a new post, with a link to its history.
    assert (moved.channel_id, moved.status, moved.receiving_owner_id) == (PRODUCT, "open", None)
    assert moved.message_ts and moved.message_ts != old_ts
    [new_post] = posts(bot, channel=PRODUCT, thread=False)
    text = json.dumps(new_post.args["blocks"])
    assert "Moved from Engineering by <@U0ENGINEER>" in text and message_link(ENG, old_ts) in text
    assert "Product" in new_post.args["text"] and ids.ACTION_ACKNOWLEDGE in text
    brief = moved.brief
    assert brief["destination"] == "product" and brief["engineering"] is None
    assert brief["product"]["request_frequency"] == "14 customers asked in the last 90 days"
    assert brief["summary"] == "Exports over 10k rows time out for Acme"  # everything the agent wrote stays

    # The old message says where it went, with a link, and keeps no buttons; its thread is told.
    old = wait_until(lambda: "Moved to Product" in json.dumps(bot.slack.message(ENG, old_ts)) and bot.slack.message(ENG, old_ts), what="the old message")
    assert message_link(PRODUCT, moved.message_ts) in json.dumps(old["blocks"])
    assert not [b for b in old["blocks"] if b.get("type") == "actions"]
    assert wait_until(lambda: [p for p in posts(bot, channel=ENG, thread=True) if "moved *ESC-1* to *Product*" in p.args["text"]], what="the old thread's note")
    assert wait_until(lambda: [p for p in posts(bot, channel=AGENT) if "to *Product*" in p.args["text"]], what="the agent's DM")

    # The log keeps everything before, and records the move: kind, from, to, reason, who.
    assert log_kinds(bot, escalation_id)[: len(history)] == history and log_kinds(bot, escalation_id)[-1] == "moved"
    entry = _moved_entry(bot, escalation_id)
    assert (entry.actor, entry.data["from"], entry.data["to"], entry.data["reason"]) == (ENGINEER, "engineering", "product", REASON)
    assert (entry.data["from_channel"], entry.data["from_ts"], entry.data["to_channel"], entry.data["to_ts"]) == (ENG, old_ts, PRODUCT, moved.message_ts)

    # Timers: the acknowledgement window restarts for the new team; the cadence keeps its times.
    now = bot.clock.now()
    ack = timers(bot, escalation_id)["ack"]
    cadence = bot.services.follow_through.cadences[Severity.HIGH]
    assert ack.active and ack.next_due_at == plan.restart_ack(now=now, cadence=cadence, tz=moved.agent_tz).next_due_at
    assert {k: timers(bot, escalation_id)[k].next_due_at for k in kept} == kept

    # The Home tab follows it: Product's members are waiting on it now, Engineering's are not.
    assert "ESC-1" in _home(bot, "U0PRODONLY") and "ESC-1" not in _home(bot, "U0ENGONLY")

    # Nobody in Product takes it: the ack ping goes to the new thread; then someone there acknowledges it.
    since = len(bot.slack.calls("chat.postMessage"))
    tick_at(bot, timedelta(seconds=cadence.ack_window.seconds, minutes=1))
    pings = [p for p in posts(bot, channel=PRODUCT, thread=True, since=since) if "waited" in p.args["text"]]
    assert pings and all(p.args["thread_ts"] == moved.message_ts for p in pings)
    assert not [p for p in posts(bot, channel=ENG, since=since)]
    click(bot, ids.ACTION_ACKNOWLEDGE, escalation_id)  # the click on the new post finds the brief
    wait_until(lambda: row(bot, escalation_id).receiving_owner_id == ENGINEER, what="the new team's acknowledgement")


def test_pattern_links_and_thread_history_stay_with_the_moved_brief(bot):
    from tests.test_patterns_flow import report

    first, second, third = report(bot, "Acme Corp"), report(bot, "Initech"), report(bot, "Umbrella")
    r = row(bot, third)
    bot.sender.event(
        {
            "type": "message",
            "channel": r.channel_id,
            "thread_ts": r.message_ts,
            "ts": "1700000999.000100",
            "user": ENGINEER,
            "text": "Looking at the export worker",
        },
        team_id=TEAM,
    )
    wait_until(lambda: "thread_reply" in log_kinds(bot, third), what="the thread reply")
    view = choose_team(bot, open_move(bot, third), Destination.PRODUCT)
    submit_move(bot, view, Destination.PRODUCT, {"request_frequency": "3 customers this month"})
    moved = _moved(bot, third, Destination.PRODUCT)
    new_post = json.dumps(bot.slack.message(PRODUCT, moved.message_ts)["blocks"])
    assert "Recurring pattern: 3 independent reports" in new_post and "ESC-1" in new_post  # the pattern came along
    assert {"pattern", "thread_reply", "moved"} <= set(log_kinds(bot, third))
    assert "pattern_note" in log_kinds(bot, first) and "pattern_note" in log_kinds(bot, second)
    # A reply in the new thread is the moved brief's too.
    bot.sender.event(
        {"type": "message", "channel": PRODUCT, "thread_ts": moved.message_ts, "ts": "1700001999.000100", "user": ENGINEER, "text": "Product here"},
        team_id=TEAM,
    )
    wait_until(lambda: log_kinds(bot, third).count("thread_reply") == 2, what="the reply in the new thread")


def test_a_tier_rule_refusal_is_shown_in_the_modal(bot):
    leadership = post_brief(bot, "high", Destination.LEADERSHIP)
    view = open_move(bot, leadership)
    view = choose_team(bot, view, Destination.ENGINEERING)
    assert "through Support L2" in json.dumps(view["blocks"])  # said as soon as the team is chosen
    response = submit_move(
        bot, view, Destination.ENGINEERING, {"eng_kind": "defect", "repro_steps": "1. Export", "repro_expected": "A file", "repro_observed": "A 504"}
    )
    errors = response_json(response).get("errors") or {}
    assert "through Support L2" in errors.get(B["destination"], ""), response.text
    # The same destination (a forged option) and a missing package field: said on their fields.
    errors = response_json(submit_move(bot, view, Destination.LEADERSHIP)).get("errors") or {}
    assert "already with Leadership" in errors.get(B["destination"], "")
    security = choose_team(bot, view, Destination.SECURITY)
    errors = response_json(submit_move(bot, security, Destination.SECURITY, reason="")).get("errors") or {}
    assert set(errors) == {B["reason"], "containment", "urgency"}, errors
    assert (row(bot, leadership).destination, _moved_entry(bot, leadership)) == ("leadership", None)
    assert not posts(bot, channel=ENG) and not posts(bot, channel=SECURITY)


def test_support_l2_forwards_to_engineering_not_the_agent_past_it(bot):
    l2 = post_brief(bot, "high", Destination.SUPPORT_L2)
    view = open_move(bot, l2, user=AGENT)
    view = choose_team(bot, view, Destination.ENGINEERING, user=AGENT)
    values = {"eng_kind": "defect", "repro_steps": "1. Export", "repro_expected": "A file", "repro_observed": "A 504"}
    errors = response_json(submit_move(bot, view, Destination.ENGINEERING, values, user=AGENT)).get("errors") or {}
    assert "ask someone in the Support L2 channel" in errors.get(B["destination"], "")
    assert submit_move(bot, view, Destination.ENGINEERING, values, user=ENGINEER).status_code == 200  # L2's own member forwards it
    assert _moved(bot, l2, Destination.ENGINEERING).channel_id == ENG


def test_a_bystander_may_not_move_a_brief(bot):
    escalation_id = post_brief(bot, "high", Destination.ENGINEERING)
    before = len(bot.slack.calls("views.open"))
    click(bot, ids.ACTION_MOVE, escalation_id, BYSTANDER)
    told = wait_until(lambda: [c.args["text"] for c in bot.slack.calls("response_url") if c.path.startswith("/hooks/")], what="the refusal")
    assert any(t.startswith(":no_entry: Only the escalating agent") and "move ESC-1" in t for t in told), told
    assert len(bot.slack.calls("views.open")) == before
    assert log_kinds(bot, escalation_id)[-1] == "refused"


def test_a_security_brief_moves_only_by_its_channel_and_stays_private(bot):
    private = post_brief(bot, "high", Destination.SECURITY, summary="Tenant data visible to another tenant")
    # The agent is involved but not in the security channel: told so, no modal, nothing logged as refused.
    before = len(bot.slack.calls("views.open"))
    click(bot, ids.ACTION_MOVE, private, AGENT)
    told = wait_until(lambda: [c.args["text"] for c in bot.slack.calls("response_url")], what="the answer")
    assert any("only members of the security channel and admins can move it" in t for t in told), told
    assert len(bot.slack.calls("views.open")) == before and "refused" not in log_kinds(bot, private)
    # A member of the security channel may open it, but a security brief does not leave Security.
    view = choose_team(bot, open_move(bot, private), Destination.PRODUCT)
    errors = response_json(submit_move(bot, view, Destination.PRODUCT, {"request_frequency": "3 customers"})).get("errors") or {}
    assert "stays in Security" in errors.get(B["destination"], "")
    assert row(bot, private).destination == "security"


def test_a_brief_moved_into_security_leaves_nothing_readable_behind(bot):
    escalation_id = post_brief(bot, "critical", Destination.ENGINEERING, summary="Tenant data visible to another tenant")
    old_ts = row(bot, escalation_id).message_ts
    view = choose_team(bot, open_move(bot, escalation_id), Destination.SECURITY)
    values = {"containment": "Export endpoint disabled at 14:02 UTC", "urgency": "immediate"}
    assert not response_json(submit_move(bot, view, Destination.SECURITY, values, reason="Customer data is exposed")).get("errors")
    moved = _moved(bot, escalation_id, Destination.SECURITY)
    assert moved.channel_id == SECURITY and posts(bot, channel=SECURITY, thread=False)
    shown = wait_until(lambda: "private channel" in json.dumps(bot.slack.message(ENG, old_ts)) and bot.slack.message(ENG, old_ts), what="the old message")
    old = json.dumps([shown["text"], shown["blocks"]])  # what people see (the message metadata is for apps)
    assert "moved to a private channel" in old
    for secret in ("Tenant data", "ESC-1", "Customer data is exposed", "Security"):
        assert secret not in old, secret
    assert not [p for p in posts(bot, channel=ENG, thread=True) if "ESC-1" in p.args["text"]]  # the old thread does not name it
    # Now private: a bystander is told what an unknown ID gets.
    click(bot, ids.ACTION_VIEW_LOG, escalation_id, "U0BYSTANDER", message=bot.slack.message(SECURITY, moved.message_ts))
    assert wait_until(lambda: [c for c in bot.slack.calls("response_url") if c.args.get("text") == NOT_FOUND], what="the unknown-id answer")


def test_a_long_brief_moved_into_security_withdraws_its_thread_parts_from_the_old_channel(bot):
    from tests.test_brief_parts import long_fields

    escalation_id = post_brief(bot, "critical", Destination.ENGINEERING, summary="Tenant data visible to another tenant", **long_fields())
    old = row(bot, escalation_id)
    assert old.parts_total >= 2 and old.parts_posted == old.parts_total
    view = choose_team(bot, open_move(bot, escalation_id), Destination.SECURITY)
    values = {"containment": "Export endpoint disabled at 14:02 UTC", "urgency": "immediate"}
    assert not response_json(submit_move(bot, view, Destination.SECURITY, values, reason="Customer data is exposed")).get("errors")
    _moved(bot, escalation_id, Destination.SECURITY)
    parts = [c.response["ts"] for c in posts(bot, channel=ENG, thread=True) if c.ok and "word1" in json.dumps(c.args.get("blocks"))]
    assert len(parts) == old.parts_total
    for ts in parts:  # each part now reads as the old message does: nothing of the brief is left
        shown = wait_until(lambda ts=ts: "private channel" in json.dumps(bot.slack.message(ENG, ts)) and bot.slack.message(ENG, ts), what="a withdrawn part")
        assert "word1" not in json.dumps([shown["text"], shown["blocks"]])


def test_a_replayed_submission_moves_once(bot):
    escalation_id = post_brief(bot, "high", Destination.ENGINEERING)
    view = choose_team(bot, open_move(bot, escalation_id), Destination.LEADERSHIP)
    inputs = {b["block_id"]: b for b in view["blocks"] if b.get("type") == "input"}
    assert inputs["arr_exposed"]["element"]["initial_value"]  # Leadership needs the revenue exposure: pre-filled from the brief
    shown = {b["block_id"]: _initial(b["element"]) for b in view["blocks"] if b.get("type") == "input"}
    from tests.support.slack_requests import view_submission

    body, ctype = view_submission(
        view, state_for(view, {**shown, B["destination"]: "leadership", B["reason"]: "Churn risk: renewal in 3 weeks"}), user_id=ENGINEER, team_id=TEAM
    )
    for _ in range(3):
        assert bot.sender.post(body, ctype).status_code == 200
    _moved(bot, escalation_id, Destination.LEADERSHIP)
    wait_until(lambda: log_kinds(bot, escalation_id).count("moved") == 1, what="the move")
    leadership = CHANNELS[Destination.LEADERSHIP][0]
    wait_until(lambda: posts(bot, channel=leadership, thread=False), what="the new post")
    import time

    time.sleep(0.3)  # let any repeat finish what it would do
    assert log_kinds(bot, escalation_id).count("moved") == 1 and len(posts(bot, channel=leadership, thread=False)) == 1


def test_an_incomplete_brief_is_completed_before_it_moves(bot):
    now = bot.clock.now()
    brief = validate_draft(draft(Destination.ENGINEERING, now=now, severity="critical", post_now=True, narrative=None), now=now)
    assert brief.missing
    result = moved_brief(brief, Destination.PRODUCT, prefill(brief, Destination.PRODUCT), "gap", filed_at=now)
    assert isinstance(result, dict) and "incomplete" in result["destination"]


@pytest.mark.parametrize("source", list(Destination), ids=[d.value for d in Destination])
def test_every_move_modal_and_message_is_within_block_kit_limits(bot, source):
    now = bot.clock.now()
    brief = validate_draft(draft(source, now=now, narrative="x" * 2900, summary="y" * 150), now=now)
    assert validate_draft(draft_of(brief), now=now) == brief  # the form's values give the same brief back
    from blocks.move import history_line, move_modal

    for target in Destination:
        if target is source:
            continue
        view = move_modal(escalation_id=1, ref="ESC-99999", source=source, target=target, initial=prefill(brief, target), reason="r" * 1000, notice="n" * 2000)
        assert not check_view(view), (target, check_view(view))
        result = moved_brief(brief, target, prefill(brief, target), "because", filed_at=now)
        assert isinstance(result, dict) or result.brief.destination is target
        text, blocks = moved_away_message(ref="ESC-99999", summary="y" * 150, target=target, by="U1", reason="r" * 1000, new_link=message_link("C1", "1.2"))
        assert not check_blocks(blocks) and text
        assert len(moved_thread_note(ref="ESC-1", target=target, by="U1", reason="r" * 1000, new_link="https://x")) < 3000
        assert len(moved_dm(ref="ESC-1", target=target, by="U1", reason="r" * 1000, channel="C1", new_link="https://x")) < 3000
    assert len(history_line(source=source, by="U1", reason="r" * 1000, previous=message_link("C1", "1.2"))) < 3000

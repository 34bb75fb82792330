"""Drafts survive (issue 19, item 2), through Slack's protocol: the brief modal's view_closed (signed)
keeps what was typed; `/escalate` then offers *Continue the draft from 11:00* or *Start fresh*; every
field comes back (text, selects, dates, the hard deadline, the checkbox, the destination's package);
filing deletes the draft, so does Start fresh, and ESCALATION_DRAFT_DAYS expires it; nobody else
ever sees it; a replayed view_closed has one effect; a forged state restores nothing it should not."""

from __future__ import annotations

import copy
import json
import pathlib
import subprocess
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from blocks import ids
from blocks.brief_modal import ModalContext, brief_modal
from blocks.drafts import draft_offer_view, draft_time, fields_from_state, home_draft_blocks, restored_form
from bot.domain.brief import Destination
from bot.storage.models import BriefDraft
from tests.conftest import AGENT, TEAM, _run_bot
from tests.e2e import choose, current_view, open_modal, posts_to, state_for, submit, wait_until
from tests.factories import NOW, draft
from tests.support import blockkit_limits
from tests.support.slack_requests import state_values, view_closed

OTHER = "U0OTHERAGENT"
ROOT = pathlib.Path(__file__).resolve().parent.parent

# Half an Engineering defect: text, selects, a date, the hard deadline, the checkbox, the package.
HALF_FIELDS = (
    "destination",
    "severity",
    "summary",
    "affected_customers",
    "growth",
    "since",
    "reference_account",
    "narrative",
    "eng_kind",
    "repro_steps",
    "repro_frequency",
    "deadline",
)


def half_engineering(now) -> dict:
    full = draft(Destination.ENGINEERING, now=now)
    return {k: full[k] for k in HALF_FIELDS}


def initial_values(view: dict) -> dict:
    """What the modal shows in each input before anyone types: its initial value, per field."""
    out = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        el, field = block["element"], block["block_id"]
        if "initial_value" in el:
            out[field] = el["initial_value"]
        elif "initial_option" in el:
            out[field] = el["initial_option"]["value"]
        elif "initial_date" in el:
            out[field] = el["initial_date"]
        elif "initial_date_time" in el:
            out[field] = el["initial_date_time"]
        elif el.get("initial_options"):
            out[field] = True
    return out


def stored(bot, user: str = AGENT) -> BriefDraft | None:
    with bot.db.session() as s:
        return s.get(BriefDraft, (TEAM, user))


def engineering_modal(bot, user: str = AGENT) -> dict:
    view = open_modal(bot, user_id=user)
    assert view["callback_id"] == ids.VIEW_BRIEF and view["notify_on_close"] is True
    view = choose(bot, view, "destination", Destination.ENGINEERING.value)
    return choose(bot, view, "eng_kind", "defect", {"destination": {"destination": "engineering"}})


def closed_state(view: dict, values: dict, raw_state: dict | None = None) -> dict:
    return raw_state if raw_state is not None else state_values(view, state_for(view, values))


def closed_body(view: dict, values: dict, user: str = AGENT, *, raw_state: dict | None = None) -> tuple[str, str]:
    """The view_closed Slack sends when the agent presses Cancel (or ×) on `view` holding `values`."""
    shown = copy.deepcopy(view)
    shown["state"] = {"values": closed_state(shown, values, raw_state)}
    return view_closed(shown, user_id=user, team_id=TEAM)


def close(bot, view: dict, values: dict, user: str = AGENT, *, raw_state: dict | None = None) -> BriefDraft:
    """Close `view` holding `values`; the draft, once it holds what this close kept (a re-render may
    have kept an earlier state of the same view)."""
    body, ctype = closed_body(view, values, user, raw_state=raw_state)
    kept = fields_from_state(closed_state(view, values, raw_state))
    assert bot.sender.post(body, ctype).status_code == 200
    return wait_until(lambda: (row := stored(bot, user)) is not None and row.view_id == view["id"] and row.fields == kept and row, what="the draft")


def escalate_command(bot, user: str = AGENT) -> dict:
    """/escalate: the view it opens (the draft offer, or the form)."""
    before = len(bot.slack.calls("views.open"))
    assert bot.sender.command(command="/escalate", text="", user_id=user, team_id=TEAM, channel_id="C0SUPPORT").status_code == 200
    call = bot.slack.wait_for("views.open", count=before + 1)[-1]
    assert call.ok, call.response
    return call.response["view"]


def click(bot, view: dict, action_id: str, user: str = AGENT) -> dict:
    """A button in a modal; returns the view it became (views.update)."""
    before = len(bot.slack.calls("views.update"))
    assert bot.sender.action(action_id, view=view, user_id=user, team_id=TEAM).status_code == 200
    call = bot.slack.wait_for("views.update", count=before + 1)[-1]
    assert call.ok, call.response and call.args["view_id"] == view["id"]
    return current_view(bot, view["id"])


def local_clock(bot, tz: str = "Europe/Paris") -> str:
    return bot.clock.now().astimezone(ZoneInfo(tz)).strftime("%H:%M")


# --- the whole path ---------------------------------------------------------------------------------


def test_a_closed_half_filled_engineering_form_comes_back_with_every_field_and_filing_deletes_it(bot_any_db):
    bot = bot_any_db
    half = half_engineering(bot.clock.now())
    form = engineering_modal(bot)
    row = close(bot, form, half)
    assert row.fields == half and row.tz == "Europe/Paris"

    offer = escalate_command(bot)
    assert offer["callback_id"] == ids.VIEW_DRAFT_OFFER
    buttons = {e["action_id"]: e["text"]["text"] for b in offer["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert buttons == {ids.ACTION_DRAFT_CONTINUE: f"Continue the draft from {local_clock(bot)}", ids.ACTION_DRAFT_FRESH: "Start fresh"}
    assert "CSV export times out" in json.dumps(offer["blocks"]) and f"{len(half)} fields filled in" in json.dumps(offer["blocks"])

    restored = click(bot, offer, ids.ACTION_DRAFT_CONTINUE)
    assert restored["callback_id"] == ids.VIEW_BRIEF and restored["notify_on_close"] is True
    assert initial_values(restored) == half  # text, selects, the date, the deadline, the checkbox, the package
    assert {"repro_expected", "repro_observed", "repro_baseline"} <= {b.get("block_id") for b in restored["blocks"]}  # Engineering's package
    assert stored(bot).view_id == offer["id"]  # the form now holding the draft: filing it deletes it

    complete = draft(Destination.ENGINEERING, now=bot.clock.now(), summary="Exports time out, from a draft")
    assert submit(bot, restored, complete).status_code == 200
    wait_until(lambda: posts_to(bot, "C0ENGINEER"), what="the brief posted")
    wait_until(lambda: stored(bot) is None, what="the draft deleted once filed")
    assert escalate_command(bot)["callback_id"] == ids.VIEW_BRIEF  # nothing offered any more


def test_start_fresh_deletes_the_draft_and_opens_an_empty_form(bot_any_db):
    bot = bot_any_db
    close(bot, engineering_modal(bot), half_engineering(bot.clock.now()))
    offer = escalate_command(bot)
    fresh = click(bot, offer, ids.ACTION_DRAFT_FRESH)
    assert fresh["callback_id"] == ids.VIEW_BRIEF and initial_values(fresh) == {}
    assert stored(bot) is None
    assert escalate_command(bot)["callback_id"] == ids.VIEW_BRIEF


def test_a_re_render_keeps_the_draft_without_any_view_closed(bot):
    """Slack sends no view_closed when the client reloads: the state Slack reports on a re-render is kept."""
    view = open_modal(bot)
    typed = {"summary": {"summary": "SSO fails for Acme"}, "severity": {"severity": "critical"}}
    choose(bot, view, "destination", Destination.SECURITY.value, typed)
    row = wait_until(lambda: stored(bot), what="the draft")
    assert row.fields == {"summary": "SSO fails for Acme", "severity": "critical", "destination": "security"} and row.view_id == view["id"]


def test_filing_without_ever_closing_deletes_the_draft_a_re_render_kept(bot):
    view = open_modal(bot)
    view = choose(bot, view, "destination", Destination.PRODUCT.value, {"summary": {"summary": "Exports need 200k rows"}})
    wait_until(lambda: stored(bot), what="the draft")
    assert submit(bot, view, draft(Destination.PRODUCT, now=bot.clock.now())).status_code == 200
    wait_until(lambda: posts_to(bot, "C0PRODUCT1"), what="the brief posted")
    wait_until(lambda: stored(bot) is None, what="the draft deleted")


def test_continue_from_the_home_tab_opens_the_restored_form(bot):
    from tests.test_home_flow import open_home

    half = half_engineering(bot.clock.now())
    close(bot, engineering_modal(bot), half)
    home = open_home(bot, AGENT)
    text = json.dumps(home["blocks"])
    assert f"You have a draft from {local_clock(bot)}" in text and ids.ACTION_DRAFT_CONTINUE in text
    assert ids.ACTION_DRAFT_CONTINUE not in json.dumps(open_home(bot, OTHER)["blocks"])

    before = len(bot.slack.calls("views.open"))
    assert bot.sender.action(ids.ACTION_DRAFT_CONTINUE, view={**home, "id": "VHOME1", "type": "home"}, user_id=AGENT, team_id=TEAM).status_code == 200
    opened = bot.slack.wait_for("views.open", count=before + 1)[-1].response["view"]
    assert initial_values(opened) == half
    wait_until(lambda: stored(bot).view_id == opened["id"], what="the draft moved to the new form")


# --- expiry -------------------------------------------------------------------------------------------


def test_a_draft_expires_after_the_setting_on_read_and_by_the_tick(fake_slack, tmp_path, clock):
    for bot in _run_bot(fake_slack, f"sqlite:///{tmp_path / 'bot.db'}", clock, ESCALATION_DRAFT_DAYS="2"):
        half = half_engineering(bot.clock.now())
        saved = close(bot, engineering_modal(bot), half).saved_at
        bot.clock.advance(timedelta(days=2) - timedelta(minutes=1))
        offer = escalate_command(bot)
        when = draft_time(saved, now=bot.clock.now(), tz="Europe/Paris")
        assert offer["callback_id"] == ids.VIEW_DRAFT_OFFER and f"from *{when}*" in json.dumps(offer["blocks"]) and when[0].isalpha()  # a day's name
        bot.clock.advance(timedelta(minutes=1))
        assert escalate_command(bot)["callback_id"] == ids.VIEW_BRIEF  # 2 days old: expired, deleted on read
        assert stored(bot) is None

        close(bot, engineering_modal(bot), half)
        bot.clock.advance(timedelta(days=2) - timedelta(seconds=1))
        bot.services.ticker.tick()
        assert stored(bot) is not None  # not yet
        bot.clock.advance(timedelta(seconds=1))
        bot.services.ticker.tick()
        assert stored(bot) is None  # purged by the tick, without anyone reading it


def test_the_default_keeps_a_draft_seven_days(bot):
    close(bot, engineering_modal(bot), half_engineering(bot.clock.now()))
    bot.clock.advance(timedelta(days=7) - timedelta(minutes=1))
    bot.services.ticker.tick()
    assert escalate_command(bot)["callback_id"] == ids.VIEW_DRAFT_OFFER
    bot.clock.advance(timedelta(minutes=1))
    bot.services.ticker.tick()
    assert stored(bot) is None


def test_a_re_render_kept_after_the_view_closed_never_replaces_what_it_closed_with(bot_any_db):
    """A destination or kind choice keeps its draft in the background; on a loaded machine that can be
    written after the close's, which holds more. Once the view has closed, a re-render keeps nothing."""
    bot = bot_any_db
    view = engineering_modal(bot)
    earlier = {"destination": "engineering", "summary": "Exports time out"}  # what a re-render saw, before more was typed
    assert bot.services.drafts.save(TEAM, AGENT, view["id"], state_values(view, state_for(view, earlier))) is True  # an open view: kept
    closed = close(bot, view, half_engineering(bot.clock.now()))
    late = bot.services.drafts.save(TEAM, AGENT, view["id"], state_values(view, state_for(view, earlier)))  # the background job, late
    assert late is False and stored(bot).fields == closed.fields
    assert bot.services.drafts.save(TEAM, AGENT, view["id"], state_values(view, state_for(view, earlier)), final=True) is True  # the close itself always is


# --- privacy --------------------------------------------------------------------------------------------


def test_another_agent_never_sees_a_draft_of_a_security_brief(bot_any_db):
    bot = bot_any_db
    view = open_modal(bot)
    view = choose(bot, view, "destination", Destination.SECURITY.value)
    secret = {"destination": "security", "severity": "critical", "summary": "Tenant XYZZY invoices leak", "observations": "XYZZY saw another tenant's PDF"}
    close(bot, view, secret)

    # Their /escalate opens the form; their Home has no draft; a click on the agent's offer gives them their own (none).
    assert escalate_command(bot, OTHER)["callback_id"] == ids.VIEW_BRIEF
    offer = escalate_command(bot)  # the agent's own offer, replayed by the other agent below
    assert offer["callback_id"] == ids.VIEW_DRAFT_OFFER
    theirs = click(bot, offer, ids.ACTION_DRAFT_CONTINUE, user=OTHER)
    assert "XYZZY" not in json.dumps(theirs) and "no longer here" in json.dumps(theirs["blocks"])
    assert stored(bot).fields == secret  # the agent's draft is untouched

    # Search, stats and lists never read drafts.
    for text in ("search XYZZY", "stats 7d", "list"):
        before = len(bot.slack.calls("response_url"))
        assert bot.sender.command(command="/escalate", text=text, user_id=AGENT, team_id=TEAM, channel_id="C0SUPPORT").status_code == 200
        answer = json.dumps(wait_until(lambda: bot.slack.calls("response_url")[before:], what=f"/escalate {text}")[0].args)  # noqa: B023
        assert "No past escalations match" in answer if text.startswith("search") else "XYZZY" not in answer, (text, answer)
        assert "invoices leak" not in answer and "PDF" not in answer


def test_only_the_drafts_storage_module_reads_the_table():
    """Search, patterns, stats, worklists, the digest and exports cannot read drafts: no module but
    bot/storage/drafts.py (and the table's definition and migration) names the table."""
    result = subprocess.run(["grep", "-rlwE", "BriefDraft|brief_draft", "bot", "blocks"], cwd=ROOT, capture_output=True, text=True, check=False)
    users = {p for p in result.stdout.split() if p.endswith(".py")}
    assert users == {"bot/storage/drafts.py", "bot/storage/models.py", "bot/storage/migrations/versions/0016_brief_drafts.py"}


# --- replays and forged states -------------------------------------------------------------------------


def test_a_replayed_view_closed_has_one_effect(bot):
    form = engineering_modal(bot)
    body, ctype = closed_body(form, half_engineering(bot.clock.now()))
    assert bot.sender.post(body, ctype).status_code == 200
    wait_until(lambda: stored(bot) and stored(bot).view_id == form["id"], what="the draft")
    click(bot, escalate_command(bot), ids.ACTION_DRAFT_FRESH)  # the agent throws it away
    assert stored(bot) is None
    for _ in range(2):  # the same signed view_closed again, within its five minutes
        assert bot.sender.post(body, ctype).status_code == 200
    time.sleep(0.3)  # what a replay would do runs after the answer: give it the time to (not) happen
    assert stored(bot) is None


def test_a_forged_state_restores_only_what_the_form_can_show(bot):
    form = engineering_modal(bot)
    forged = {
        "destination": {"destination": {"type": "static_select", "selected_option": {"value": "engineering"}}},
        "eng_kind": {"eng_kind": {"type": "static_select", "selected_option": {"value": "defect"}}},
        "summary": {"summary": {"type": "plain_text_input", "value": "S" * 400}},  # over the summary's 150: cut to fit
        "narrative": {"narrative": {"type": "plain_text_input", "value": ["not", "text"]}},
        "severity": {"severity": {"type": "static_select", "selected_option": {"value": "apocalyptic"}}},
        "since": {"since": {"type": "datepicker", "selected_date": "2026-02-31"}},
        "deadline": {"deadline": {"type": "datetimepicker", "selected_date_time": "soon"}},
        "growth": {"growth": "not an element"},
        "logs": {"logs": {"type": "plain_text_input", "value": "x" * 5000}},  # over any input's ceiling: not kept
        "evil_block": {"evil_block": {"type": "plain_text_input", "value": "<!channel>"}},
        "repro_steps": {"repro_steps": {"type": "plain_text_input", "value": "1. Open Reports"}},
        "reference_account": {"reference_account": {"type": "checkboxes", "selected_options": "yes"}},
    }
    close(bot, form, {}, raw_state=forged)
    offer = escalate_command(bot)
    assert "4 fields filled in" in json.dumps(offer["blocks"])  # what the form can show, nothing else
    restored = initial_values(click(bot, offer, ids.ACTION_DRAFT_CONTINUE))
    assert restored == {"destination": "engineering", "eng_kind": "defect", "summary": "S" * 150, "repro_steps": "1. Open Reports"}
    # (The stand-in Slack checked every view against Block Kit's limits: nothing forged reached one.)


def test_a_stored_row_is_not_trusted_either(bot):
    with bot.db.session() as s:
        s.add(
            BriefDraft(
                team_id=TEAM,
                user_id=AGENT,
                view_id="VOLD",
                fields={"severity": ["high"], "deadline": 10**12, "since": "yesterday", "destination": "nowhere", "summary": {"x": 1}},
                tz="Not/AZone",
                saved_at=bot.clock.now(),
            )
        )
    assert escalate_command(bot)["callback_id"] == ids.VIEW_BRIEF  # nothing the form can show: no offer, and the row is gone
    assert stored(bot) is None


@pytest.mark.parametrize("state", ["many", "huge"])
def test_a_state_larger_than_any_form_is_not_kept(bot, state, caplog):
    form = engineering_modal(bot)
    kept = wait_until(lambda: (row := stored(bot)) and row.fields.get("eng_kind") and row.fields, what="the re-render's draft")
    if state == "many":
        raw = {f"field_{i}": {f"field_{i}": {"type": "plain_text_input", "value": "x"}} for i in range(300)}
    else:
        raw = {"narrative": {"narrative": {"type": "plain_text_input", "value": "x" * 300_000}}}
    body, ctype = closed_body(form, {}, raw_state=raw)
    assert bot.sender.post(body, ctype).status_code == 200
    wait_until(lambda: "larger than any form" in caplog.text, what="the close handled")
    assert stored(bot).fields == kept == {"destination": "engineering", "eng_kind": "defect"}  # the earlier state stays


# --- pure: restoring round trips, words, limits ---------------------------------------------------------


@pytest.mark.parametrize("destination", list(Destination))
def test_every_field_of_every_destination_survives_the_round_trip(destination):
    values = draft(destination, now=NOW)
    form = brief_modal(destination=destination, eng_kind=values.get("eng_kind"))
    shown = {b["block_id"] for b in form["blocks"] if b.get("type") == "input"}
    fields = fields_from_state(state_values(form, state_for(form, values)))
    restored_view, restored = restored_form(fields, context=ModalContext())
    expected = {k: v for k, v in values.items() if k in shown}
    assert restored == expected and initial_values(restored_view) == expected
    assert blockkit_limits.check_view(restored_view) == []


def test_the_time_is_the_agents():
    now = NOW
    assert draft_time(now - timedelta(minutes=5), now=now, tz="Europe/Paris") == (now - timedelta(minutes=5)).astimezone(ZoneInfo("Europe/Paris")).strftime(
        "%H:%M"
    )
    yesterday = now - timedelta(days=1)
    assert draft_time(yesterday, now=now, tz="UTC") == f"yesterday {yesterday.strftime('%H:%M')}"
    older = now - timedelta(days=3)
    assert draft_time(older, now=now, tz="UTC") == f"{older.strftime('%a')} {older.day} {older.strftime('%b')} {older.strftime('%H:%M')}"
    assert draft_time(now, now=now, tz="Not/AZone") == now.strftime("%H:%M")  # an unknown zone reads as UTC


def test_the_offer_and_the_home_mention_are_within_block_kit_limits(tmp_path):
    fields = {"summary": "<!channel> " + "S" * 140, "destination": "security"}
    offer = draft_offer_view(fields=fields, when="yesterday 23:59", context=ModalContext(prefill={"narrative": "n" * 3000}))
    assert blockkit_limits.check_view(offer) == [] and "<!channel>" not in json.dumps(offer)
    home = {"type": "home", "blocks": home_draft_blocks(fields=fields, when="Thu 3 Dec 14:02")}
    assert blockkit_limits.check_view(home) == []


def test_start_fresh_after_escalate_with_a_ticket_still_prefills_its_sla(fake_slack, tmp_path, clock):
    """`/escalate SUP-123` with a draft waiting: the offer first; *Start fresh* then gives what the
    command would have opened (the summary, and the ticket's SLA pre-filled)."""
    from tests.support.fake_ticketing import FakeJira

    with FakeJira() as jira:
        jira.add_issue("SUP-123", status="In Progress", priority="High", organization="Globex Corp", sla_breach_at=f"{NOW:%Y-%m-%d}T16:00:00.000+0000")
        settings = {"JIRA_BASE_URL": jira.base_url, "JIRA_EMAIL": jira.EMAIL, "JIRA_API_TOKEN": jira.TOKEN}
        for bot in _run_bot(fake_slack, f"sqlite:///{tmp_path / 'bot.db'}", clock, **settings):
            close(bot, engineering_modal(bot), half_engineering(bot.clock.now()))
            before = len(bot.slack.calls("views.open"))
            assert bot.sender.command(command="/escalate", text="SUP-123", user_id=AGENT, team_id=TEAM, channel_id="C0SUPPORT").status_code == 200
            offer = bot.slack.wait_for("views.open", count=before + 1)[-1].response["view"]
            assert offer["callback_id"] == ids.VIEW_DRAFT_OFFER
            updates = len(bot.slack.calls("views.update"))
            assert bot.sender.action(ids.ACTION_DRAFT_FRESH, view=offer, user_id=AGENT, team_id=TEAM).status_code == 200
            bot.slack.wait_for("views.update", count=updates + 2)  # the fresh form, then the SLA pre-fill
            form = current_view(bot, offer["id"])
            shown = initial_values(form)
            assert shown["summary"] == "SUP-123" and shown["sla_position"] == "compliant" and shown["deadline"] == int(NOW.replace(hour=16).timestamp())
            assert stored(bot) is None


def test_the_message_shortcut_offers_the_draft_too_and_continue_keeps_the_message_where_the_draft_left_room(bot):
    half = half_engineering(bot.clock.now())
    close(bot, engineering_modal(bot), {k: v for k, v in half.items() if k != "narrative"})
    bot.slack.seed_message("C0SUPPORT", "Customer says exports hang", user="U0CUSTOMER", ts="1700000000.000300")
    before = len(bot.slack.calls("views.open"))
    response = bot.sender.shortcut(ids.SHORTCUT_ESCALATE_MESSAGE, "Customer says exports hang", "1700000000.000300", "C0SUPPORT", user_id=AGENT, team_id=TEAM)
    assert response.status_code == 200
    offer = bot.slack.wait_for("views.open", count=before + 1)[-1].response["view"]
    assert offer["callback_id"] == ids.VIEW_DRAFT_OFFER
    shown = initial_values(click(bot, offer, ids.ACTION_DRAFT_CONTINUE))
    assert shown["narrative"] == "Customer says exports hang" and shown["summary"] == half["summary"] and shown["deadline"] == half["deadline"]


def test_an_input_a_restored_value_brings_is_restored_too():
    """*Post now* appears only once the severity is Critical: the restore renders until no input appears."""
    fields = {"destination": "engineering", "severity": "critical", ids.BLOCK_POST_NOW: True, "summary": "Checkout is down"}
    view, restored = restored_form(fields, context=ModalContext())
    assert restored == fields and initial_values(view) == fields
    _, without = restored_form({**fields, "severity": "high"}, context=ModalContext())
    assert ids.BLOCK_POST_NOW not in without  # High offers no *Post now* here: the ticked box is not restored

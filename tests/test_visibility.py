"""Who may see what: security briefs stay in the security channel (nudges by DM, ID and link only;
never in another brief's pattern flags or search for outsiders), and one workspace's briefs never
appear in, or answer to, another workspace (team_id)."""

from __future__ import annotations

import json
from datetime import timedelta

from blocks import ids
from bot.domain.brief import Destination
from bot.domain.validation import validate_draft
from bot.storage import escalations
from tests.conftest import AGENT, CHANNELS, TEAM
from tests.e2e import wait_until
from tests.factories import draft
from tests.test_follow_through import log_kinds, post_brief, posts, row, timers
from tests.test_patterns_flow import EXPORT, brief_text

SECURITY = CHANNELS[Destination.SECURITY][0]
SECRET = "another tenant's invoice PDF"
OTHER_TEAM = "T0OTHER"


def security_brief(bot) -> int:
    return post_brief(bot, "high", Destination.SECURITY, summary=f"Customer saw {SECRET}", narrative=f"A shared link exposed {SECRET} to Acme.")


def test_security_nudges_go_by_dm_with_only_the_id_and_a_link(bot):
    escalation_id = security_brief(bot)
    first = len(bot.slack.calls("chat.postMessage"))
    bot.clock.advance(timedelta(hours=4))
    bot.services.ticker.tick()
    sent = bot.slack.calls("chat.postMessage")[first:]
    checkin = [c for c in sent if "check in" in c.args["text"]]
    assert len(checkin) == 1 and checkin[0].args["channel"] == AGENT and not checkin[0].args.get("thread_ts")
    assert "ESC-1" in checkin[0].args["text"] and "https://" in json.dumps(checkin[0].args["blocks"])
    assert "in this thread" not in json.dumps(checkin[0].args["blocks"])
    for call in sent:
        body = json.dumps(call.args)
        assert SECRET not in body and "Acme" not in body, call.args["text"]  # no summary, no narrative, no customer
        assert call.args["channel"] in (AGENT, SECURITY)  # nothing outside the security channel but DMs
    assert any("Customer update" in c.args["text"] and c.args["channel"] == AGENT for c in sent)
    assert timers(bot, escalation_id)["checkin"].next_due_at > bot.clock.now()


def test_a_security_brief_is_never_flagged_on_another_teams_brief(bot):
    symptom = dict(summary=EXPORT["summary"], narrative=EXPORT["narrative"])
    bot.clock.advance(timedelta(hours=1))
    post_brief(bot, "high", Destination.SECURITY, **symptom)
    product = CHANNELS[Destination.PRODUCT][0]
    for customer in ("Globex", "Initech", "Umbrella"):
        bot.clock.advance(timedelta(days=1))
        later = post_brief(bot, "high", Destination.PRODUCT, affected_names=customer, **symptom)
    text = brief_text(bot, later)
    assert "Recurring pattern" in text and "ESC-2" in text  # the product briefs before it are flagged...
    assert "ESC-1" not in text  # ...the security brief is not linked from the product channel
    assert row(bot, later).channel_id == product
    assert not [c for c in posts(bot, thread=True) if c.args["channel"] == SECURITY and "same symptom" in c.args["text"]]


def test_security_briefs_are_hidden_from_search_for_outsiders_but_not_the_agent(bot):
    security_brief(bot)
    bot.sender.command(command="/escalate", text="search invoice tenant", user_id="U0OUTSIDER", team_id=TEAM, channel_id="C0SUPPORT")
    outsider = wait_until(lambda: bot.slack.calls("response_url"), what="results")[-1]
    assert SECRET not in json.dumps(outsider.args)
    bot.sender.command(command="/escalate", text="search invoice tenant", user_id=AGENT, team_id=TEAM, channel_id="C0SUPPORT")
    mine = wait_until(lambda: len(bot.slack.calls("response_url")) >= 2 and bot.slack.calls("response_url")[-1], what="results")
    assert "invoice" in json.dumps(mine.args).lower()


# --- two workspaces in one database ------------------------------------------------------------


def other_workspace_brief(bot) -> int:
    brief = validate_draft(draft(Destination.PRODUCT, now=bot.clock.now(), summary="Globex wants SAML group sync"), now=bot.clock.now())
    delivery = bot.services.escalations.escalate(team_id=OTHER_TEAM, agent_user_id="U0OTHERAGENT", brief=brief)
    assert delivery.posted
    return delivery.escalation_id


def test_numbers_are_per_workspace(bot):
    mine, theirs = post_brief(bot), other_workspace_brief(bot)
    assert row(bot, mine).number == row(bot, theirs).number == 1


def test_another_workspace_cannot_act_on_or_read_a_brief_by_replaying_its_ids(bot):
    mine = post_brief(bot)
    r = row(bot, mine)
    message = bot.slack.message(r.channel_id, r.message_ts)
    before = log_kinds(bot, mine)
    for action in (ids.ACTION_ACKNOWLEDGE, ids.ACTION_EXPORT, ids.ACTION_VIEW_LOG, ids.ACTION_RETRY_DELIVERY):
        assert bot.sender.action(action, message=message, channel_id=r.channel_id, user_id="U0STRANGER", team_id=OTHER_TEAM).status_code == 200
    follow_up = timers(bot, mine)["checkin"]
    bot.sender.action(
        f"{ids.ACTION_SNOOZE_PREFIX}30", value=str(follow_up.id), message=message, channel_id=r.channel_id, user_id="U0STRANGER", team_id=OTHER_TEAM
    )
    item = {"type": "message", "channel": r.channel_id, "ts": r.message_ts}
    bot.sender.event({"type": "reaction_added", "user": "U0STRANGER", "reaction": "eyes", "item": item, "event_ts": "1.1"}, team_id=OTHER_TEAM)
    bot.sender.event(
        {"type": "message", "channel": r.channel_id, "user": "U0STRANGER", "text": "hi", "ts": "1800000000.1", "thread_ts": r.message_ts}, team_id=OTHER_TEAM
    )
    import time

    time.sleep(0.5)
    assert log_kinds(bot, mine) == before  # nothing logged, exported, acknowledged or snoozed
    assert timers(bot, mine)["checkin"].next_due_at == follow_up.next_due_at
    opened = [c for c in bot.slack.calls("views.open") if "CSV export" in json.dumps(c.args)]
    assert opened == []  # neither the export nor the running log of another workspace's brief
    assert row(bot, mine).receiving_owner_id is None


def test_search_and_the_log_command_stay_in_their_workspace(bot):
    post_brief(bot, summary="CSV export times out for large reports")
    other_workspace_brief(bot)
    bot.sender.command(command="/escalate", text="search export", user_id="U0OTHERAGENT", team_id=OTHER_TEAM, channel_id="C0SUPPORT")
    found = wait_until(lambda: bot.slack.calls("response_url"), what="results")[-1]
    assert "CSV export" not in json.dumps(found.args)
    bot.sender.command(command="/escalate", text="log ESC-1", user_id="U0OTHERAGENT", team_id=OTHER_TEAM, channel_id="C0SUPPORT")
    log_view = wait_until(lambda: [c for c in bot.slack.calls("views.open") if c.args["view"]["callback_id"] == ids.VIEW_RUNNING_LOG], what="log")[-1]
    assert "Product" in json.dumps(log_view.args["view"]) and "Engineering" not in json.dumps(log_view.args["view"])


def test_every_query_by_number_or_message_is_scoped_to_a_workspace(db, clock):
    """The storage layer itself: the same ESC number or message in two workspaces stays apart."""
    from tests.factories import NOW

    brief = validate_draft(draft(now=NOW), now=NOW)
    with db.session() as s:
        a = escalations.create_escalation(s, team_id="TA", brief=brief, agent_user_id="U1", channel_id="C1", now=NOW).escalation
        b = escalations.create_escalation(s, team_id="TB", brief=brief, agent_user_id="U2", channel_id="C1", now=NOW).escalation
        escalations.mark_posted(s, a.id, channel_id="C1", ts="1.1", now=NOW)
        escalations.mark_posted(s, b.id, channel_id="C1", ts="1.1", now=NOW)  # a channel shared by both workspaces
    with db.session() as s:
        assert escalations.get_by_number(s, "TA", 1).id == a.id and escalations.get_by_number(s, "TB", 1).id == b.id
        assert escalations.find_by_message(s, "C1", "1.1", team_id="TB").id == b.id
        assert escalations.find_by_message(s, "C1", "1.1", team_id="TC") is None
        from bot.storage import search

        assert {m.escalation_id for m in search.search_escalations(s, team_id="TA", words="export")} == {a.id}

"""The App Home tab, /escalate list and /escalate stats, through Slack's protocol: signed events and
commands in, views.publish and response_url messages out."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import select

from blocks import ids
from blocks.home import PAGE_SIZE
from bot.domain.brief import Destination
from bot.domain.validation import validate_draft
from bot.storage.models import Escalation
from tests.conftest import AGENT, CHANNELS, TEAM
from tests.e2e import wait_until
from tests.factories import draft
from tests.support import blockkit_limits


def set_members(bot, channel: str, users: list[str]) -> None:
    """Change a channel's members in the stand-in Slack, and re-read them as the bot's start-up warm-up does."""
    bot.slack.set_members(channel, users)
    bot.services.members.warm([channel])


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)


ENG, SEC = CHANNELS[Destination.ENGINEERING][0], CHANNELS[Destination.SECURITY][0]
ENGINEER, OUTSIDER, SECURITY_ANALYST = "U0ENGINEER", "U0OUTSIDER", "U0SECANALYST"


def post_brief(bot, destination=Destination.ENGINEERING, severity="high", agent=AGENT, **overrides) -> int:
    brief = validate_draft(draft(destination, now=bot.clock.now(), severity=severity, **overrides), now=bot.clock.now())
    delivery = bot.services.escalations.escalate(team_id=TEAM, agent_user_id=agent, brief=brief, source_channel_id="C0SUPPORT")
    assert delivery.posted
    return delivery.escalation_id


def open_home(bot, user: str) -> dict:
    before = len([c for c in bot.slack.calls("views.publish") if c.args.get("user_id") == user])
    response = bot.sender.event({"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home", "event_ts": "1700000000.000100"}, team_id=TEAM)
    assert response.status_code == 200, response.text
    call = wait_until(lambda: [c for c in bot.slack.calls("views.publish") if c.args.get("user_id") == user][before:], what=f"home of {user}")[-1]
    assert call.ok, call.response
    view = call.args["view"]
    assert blockkit_limits.check_view(view) == [] and len(view["blocks"]) <= 100
    return view


def sections(view: dict) -> tuple[str, str]:
    """The text of "My escalations" and of "Waiting on my team"."""
    text = dumps(view["blocks"])
    split = text.index("Waiting on my team")
    return text[:split], text[split:]


def test_home_shows_my_escalations_and_what_waits_on_my_team(bot):
    set_members(bot, ENG, [ENGINEER, AGENT])
    bot.slack.add_user(ENGINEER, "eng.bob", tz="America/New_York")
    first = post_brief(bot, summary="CSV export times out for big reports")
    bot.clock.advance(timedelta(minutes=5))
    late = post_brief(bot, summary="Login loop for SSO users", deadline=int((bot.clock.now() + timedelta(hours=1)).timestamp()))
    bot.clock.advance(timedelta(hours=2))  # the second brief's deadline has passed

    mine, team = sections(open_home(bot, AGENT))
    assert "My escalations (2 open, 1 overdue)" in mine  # ESC-2's deadline passed; High's 4 h check-in is not due yet
    assert mine.index("ESC-2") < mine.index("ESC-1"), "overdue first"
    assert "OVERDUE" in mine and "Engineering" in mine and "High" in mine and "Waiting for acknowledgement" in mine
    assert "deadline *passed" in mine and "next check-in" in mine and "CET" in mine  # the agent reads Paris time
    assert ids.ACTION_LOG_CHECKIN in mine and ids.ACTION_VIEW_LOG in mine and "archives/" + ENG in mine
    assert "Nothing waiting" in team

    mine, team = sections(open_home(bot, ENGINEER))
    assert "Nothing open that you escalated" in mine
    assert "Waiting on my team (2 open" in team and "ESC-1" in team and ids.ACTION_ACKNOWLEDGE in team
    assert "EST" in team  # the engineer reads New York time
    assert first and late


def test_security_briefs_show_only_to_the_people_involved(bot):
    set_members(bot, ENG, [ENGINEER])
    set_members(bot, SEC, [SECURITY_ANALYST])
    post_brief(bot, Destination.SECURITY, severity="critical", summary="Tenant invoice visible to another tenant")
    _, team = sections(open_home(bot, SECURITY_ANALYST))
    assert "Tenant invoice" in team
    for outsider in (ENGINEER, OUTSIDER):
        assert "Tenant invoice" not in dumps(open_home(bot, outsider)["blocks"])
    mine, _ = sections(open_home(bot, AGENT))
    assert "Tenant invoice" in mine


def test_acknowledging_from_home_refreshes_the_row(bot):
    set_members(bot, ENG, [ENGINEER])
    escalation_id = post_brief(bot)
    view = open_home(bot, ENGINEER)
    before = len(bot.slack.calls("views.publish"))
    response = bot.sender.action(
        ids.ACTION_ACKNOWLEDGE, value=str(escalation_id), view={**bot.slack.home_view(ENGINEER), "type": "home"}, user_id=ENGINEER, team_id=TEAM
    )
    assert response.status_code == 200
    refreshed = wait_until(lambda: bot.slack.calls("views.publish")[before:], what="home refresh")[-1].args["view"]
    assert "Acknowledged" in dumps(refreshed["blocks"]) and view


def test_home_with_500_briefs_stays_under_100_blocks_and_pages(bot):
    now = bot.clock.now()
    post_brief(bot)
    with bot.db.session() as s:  # 499 more open briefs for the same agent, copied directly: the point is the view
        proto = s.exec(select(Escalation)).first()
        for n in range(2, 501):
            s.add(
                Escalation(
                    **{
                        **proto.model_dump(exclude={"id", "number", "submission_key", "message_ts"}),
                        "number": n,
                        "summary": f"Brief number {n}",
                        "message_ts": f"1700001000.{n:06d}",
                        "deadline_at": now + timedelta(hours=n - 250),
                    }
                )
            )
    view = open_home(bot, AGENT)
    mine, _ = sections(view)
    assert "My escalations (500 open" in mine and f"1–{PAGE_SIZE} of 500" in mine and len(view["blocks"]) <= 100
    before = len(bot.slack.calls("views.publish"))
    response = bot.sender.action(ids.ACTION_HOME_NEXT, view={**bot.slack.home_view(AGENT), "type": "home"}, user_id=AGENT, team_id=TEAM)
    assert response.status_code == 200
    page2 = wait_until(lambda: bot.slack.calls("views.publish")[before:], what="page 2")[-1].args["view"]
    assert f"{PAGE_SIZE + 1}–{2 * PAGE_SIZE} of 500" in dumps(page2["blocks"]) and len(page2["blocks"]) <= 100
    assert ids.ACTION_HOME_PREVIOUS in dumps(page2["blocks"])


def command(bot, text: str, user: str = AGENT):
    before = len(bot.slack.calls("response_url"))
    response = bot.sender.command(command="/escalate", text=text, user_id=user, team_id=TEAM, channel_id="C0SUPPORT")
    assert response.status_code == 200, response.text
    return response, before


def reply(bot, before: int) -> dict:
    return wait_until(lambda: bot.slack.calls("response_url")[before:], what="ephemeral reply")[0].args


def test_escalate_list_shows_my_open_briefs(bot):
    post_brief(bot, summary="CSV export times out for big reports")
    post_brief(bot, agent="U0OTHERAGENT", summary="Someone else's brief")
    _, before = command(bot, "list")
    args = reply(bot, before)
    text = dumps(args["blocks"])
    assert args["response_type"] == "ephemeral" and "CSV export times out" in text and "Someone else" not in text
    assert blockkit_limits.check_message(args) == []


def test_escalate_stats_answers_with_the_figures(bot):
    post_brief(bot, severity="critical")
    post_brief(bot, Destination.SECURITY, severity="critical", summary="Tenant invoice visible to another tenant")
    _, before = command(bot, "stats 30d")
    args = reply(bot, before)
    text = dumps(args["blocks"])
    assert args["response_type"] == "ephemeral" and "last 30 days" in text
    assert "Engineering 1" in text and "Security 1" in text and "Critical 2" in text and "Tenant invoice" not in text
    assert blockkit_limits.check_message(args) == []
    _, before = command(bot, "stats forever")
    assert "7d, 30d or 90d" in reply(bot, before)["text"]


def test_help_lists_every_sub_command_and_bare_escalate_opens_the_modal(bot):
    response, _ = command(bot, "help")
    help_text = json.loads(response.text)["text"]
    for sub in ("triage", "log ESC-42", "search", "list", "stats", "help"):
        assert f"/escalate {sub}" in help_text
    command(bot, "")
    assert bot.slack.wait_for("views.open")[-1].args["view"]["callback_id"] == ids.VIEW_BRIEF

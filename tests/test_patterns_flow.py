"""Recurring patterns, resurfaced issues, trending severity and search, over Slack's protocol."""

from __future__ import annotations

import json
from datetime import timedelta

from blocks import ids
from bot.domain.brief import Destination
from bot.storage import escalations, running_log
from tests.conftest import AGENT, CHANNELS, TEAM
from tests.e2e import wait_until
from tests.support.slack_requests import view_submission
from tests.test_follow_through import post_brief, row
from tests.test_triage_flow import open_triage, triage_values

ENG = CHANNELS[Destination.ENGINEERING][0]
EXPORT = dict(
    summary="CSV export times out for large reports",
    narrative="Exporting a report with more than 10,000 rows fails after 60 seconds with a 504 gateway timeout. Smaller exports work.",
    repro_observed="504 Gateway Timeout after 60 s on Export CSV",
)
SSO = dict(
    summary="SSO login loops back to the sign-in page",
    narrative="Users signing in through Okta SAML are redirected back to the login page endlessly; password login works.",
    repro_observed="Redirect loop between /sso/callback and /login",
    logs="2026-11-26T10:02:11Z WARN saml assertion rejected: audience mismatch",
    repro_steps="1. Open the login page\n2. Click Sign in with Okta\n3. Enter valid credentials",
    repro_expected="The dashboard opens",
)


def report(bot, customer: str, severity: str = "high", days_later: float = 1, **symptom) -> int:
    bot.clock.advance(timedelta(days=days_later))
    return post_brief(bot, severity, affected_names=customer, **(symptom or EXPORT))


def resolve(bot, escalation_id: int, resolution: str) -> None:
    """Closing arrives with a later issue; until then tests record a resolution directly."""
    with bot.db.session() as s:
        r = escalations.get_escalation(s, escalation_id)
        r.status, r.resolution = "resolved", resolution
        s.add(r)


def brief_text(bot, escalation_id: int) -> str:
    r = row(bot, escalation_id)
    return json.dumps(bot.slack.message(r.channel_id, r.message_ts)["blocks"])


def test_a_third_independent_report_is_flagged_everywhere(bot):
    first = report(bot, "Acme Corp")
    report(bot, "Globex", **SSO)  # a different symptom: not part of the pattern
    second = report(bot, "Initech")
    assert "Recurring pattern" not in brief_text(bot, second)  # two reports are not a pattern yet
    third = report(bot, "Umbrella")
    text = brief_text(bot, third)
    assert "Recurring pattern: 3 independent reports* (2 automatic)" in text  # high-confidence automatic links; none confirmed yet
    assert "ESC-1" in text and "ESC-3" in text and "ESC-2" not in text
    dm = [c for c in bot.slack.calls("chat.postMessage") if c.args["channel"] == AGENT and "ESC-4 is posted" in c.args["text"]][-1]
    assert "Recurring pattern: 3 independent reports" in json.dumps(dm.args["blocks"])
    notes = [c for c in bot.slack.calls("chat.postMessage") if c.args.get("thread_ts") and "reports the same symptom" in c.args["text"]]
    assert {c.args["thread_ts"] for c in notes} == {row(bot, first).message_ts, row(bot, second).message_ts}
    with bot.db.session() as s:
        assert [e.kind for e in running_log.log_entries(s, third)].count("pattern") == 1
        assert "pattern_note" in [e.kind for e in running_log.log_entries(s, first)]


def test_the_same_customer_again_is_not_an_independent_report(bot):
    report(bot, "Acme Corp")
    report(bot, "Acme Corp")
    third = report(bot, "acme corp")
    assert "Recurring pattern" not in brief_text(bot, third)


def test_reports_older_than_the_window_do_not_count(bot):
    report(bot, "Acme Corp")
    report(bot, "Globex")
    late = report(bot, "Initech", days_later=45)
    assert "Recurring pattern" not in brief_text(bot, late)


def test_a_match_with_a_resolved_brief_is_flagged_resurfaced_with_the_old_resolution(bot):
    old = report(bot, "Acme Corp")
    resolve(bot, old, "Raised the export worker timeout to 300 s (fix 2026.11.3)")
    new = report(bot, "Globex", days_later=5)
    text = brief_text(bot, new)
    assert "Resurfaced" in text and "Raised the export worker timeout" in text


def test_rising_severity_across_related_briefs_is_trending_up(bot):
    report(bot, "Acme Corp", "medium")
    report(bot, "Globex", "high")
    third = report(bot, "Initech", "critical")
    assert "Trending up" in brief_text(bot, third)


def test_search_finds_past_briefs_for_the_asker_only(bot):
    report(bot, "Acme Corp")
    report(bot, "Globex", **SSO)
    bot.sender.command(command="/escalate", text="search export timeout", user_id="U0ENGINEER", team_id=TEAM, channel_id="C0SUPPORT")
    reply = wait_until(lambda: bot.slack.calls("response_url"), what="search results")[-1]
    assert reply.args["response_type"] == "ephemeral"
    text = json.dumps(reply.args["blocks"])
    assert "ESC-1" in text and "CSV export times out" in text and "SSO" not in text


def test_security_briefs_are_found_only_by_the_people_involved(bot):
    secret = dict(summary="Invoice PDF shows another tenant's data", narrative="A shared invoice link exposed another tenant's invoice PDF to Acme.")
    bot.clock.advance(timedelta(hours=1))
    post_brief(bot, "critical", Destination.SECURITY, **secret)
    bot.sender.command(command="/escalate", text="search invoice tenant", user_id="U0OUTSIDER", team_id=TEAM, channel_id="C0SUPPORT")
    outsider = wait_until(lambda: bot.slack.calls("response_url"), what="results")[-1]
    assert "No past escalations" in outsider.args["text"]
    bot.sender.command(command="/escalate", text="search invoice tenant", user_id=AGENT, team_id=TEAM, channel_id="C0SUPPORT")
    agent = wait_until(lambda: len(bot.slack.calls("response_url")) >= 2, what="results") and bot.slack.calls("response_url")[-1]
    assert "Invoice PDF" in json.dumps(agent.args["blocks"])


def test_triage_keep_shows_what_support_resolved_before(bot):
    old = report(bot, "Acme Corp")
    resolve(bot, old, "Split the export by month; documented in KB-112")
    view = open_triage(bot)
    body, ctype = view_submission(view, triage_values(view, {"documented_fix"}, "csv export times out large report"), user_id=AGENT, team_id=TEAM)
    assert bot.sender.post(body, ctype).status_code == 200
    update = wait_until(
        lambda: [c for c in bot.slack.calls("views.update") if ids.BLOCK_TRIAGE_SIMILAR in json.dumps(c.args["view"])], what="similar resolved"
    )[-1]
    text = json.dumps(update.args["view"])
    assert "ESC-1" in text and "KB-112" in text


def test_a_brief_stored_while_another_is_being_searched_is_still_counted(bot):
    """A brief's full-text search runs before its write transaction (so it does not hold SQLite's
    write lock); a brief stored in between is checked inside that transaction instead."""
    report(bot, "Acme Corp")
    knowledge = bot.services.patterns
    search_first = knowledge.prior

    def another_report_arrives_after_the_search(*args, **kwargs):
        prior = search_first(*args, **kwargs)
        knowledge.prior = search_first  # once
        report(bot, "Initech", days_later=0)  # stored after the search looked, before this brief is
        return prior

    knowledge.prior = another_report_arrives_after_the_search
    third = report(bot, "Umbrella")
    text = brief_text(bot, third)
    assert "Recurring pattern: 3 independent reports" in text
    assert "ESC-1" in text and "ESC-2" in text

"""An uninstalled or revoked workspace: its reminders and pending briefs wait, unsent and not counted
as failures, kept in the database, and go out once (not in a burst) when the workspace is back.

OAuth: learnt from the signed `app_uninstalled` / `tokens_revoked` events, resumed by the install
flow. One bot token: learnt from a Slack call refusing the token, resumed by a probe (auth.test).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from slack_sdk.oauth.installation_store.models.installation import Installation

from bot.domain.brief import Destination
from bot.domain.validation import validate_draft
from bot.slack_api.installations import InstallationStore
from bot.slack_api.workspace import serving_team
from bot.storage import escalations, follow_ups, running_log, workspaces
from bot.usecases.workspaces import PROBE_EVERY, Workspaces
from tests.conftest import AGENT, TEAM
from tests.factories import draft
from tests.test_follow_through import tick_at, timers
from tests.test_oauth import OAUTH, SECOND_TEAM, SECOND_TOKEN, install, oauth_bot  # noqa: F401  (the fixture)
from tests.test_scheduler_concurrency import seed

THIRD_TEAM, THIRD_TOKEN = "T0THIRD", "xoxb-third-workspace"


def post_brief_in(bot, team: str, severity: str = "critical") -> int:
    brief = validate_draft(draft(Destination.ENGINEERING, now=bot.clock.now(), severity=severity), now=bot.clock.now())
    with serving_team(team):
        delivery = bot.services.escalations.escalate(team_id=team, agent_user_id=AGENT, brief=brief, source_channel_id="C0SUPPORT")
    return delivery.escalation_id


def calls_with(bot, token: str, since: int = 0) -> list:
    return [c for c in bot.slack.calls()[since:] if c.header("Authorization") == f"Bearer {token}"]


def paused(bot) -> dict:
    with bot.db.session() as s:
        return {team: row.reason for team, row in workspaces.paused(s).items()}


def nudges(bot, escalation_id: int) -> list[str]:
    """The kinds of the reminders sent for a brief, from its running log (deadline warnings left out)."""
    with bot.db.session() as s:
        return sorted(e.data["kind"] for e in running_log.log_entries(s, escalation_id) if e.kind == "nudge")


def nudge_posts(bot, token: str, since: int = 0) -> list:
    return [
        c for c in calls_with(bot, token, since) if c.method == "chat.postMessage" and (c.args.get("metadata") or {}).get("event_type") == "escalation_nudge"
    ]


def test_an_uninstalled_workspace_waits_unsent_and_resumes_once_at_reinstall(oauth_bot):
    bot = oauth_bot
    assert install(bot, code="a", team_id=SECOND_TEAM, token=SECOND_TOKEN).status_code == 200
    assert install(bot, code="b", team_id=THIRD_TEAM, token=THIRD_TOKEN).status_code == 200
    gone, kept = post_brief_in(bot, SECOND_TEAM), post_brief_in(bot, THIRD_TEAM)  # Critical: ack 15 min, check-in and customer update 2 h
    planned = {kind: t.next_due_at for kind, t in timers(bot, gone).items()}

    assert bot.sender.event({"type": "app_uninstalled"}, team_id=SECOND_TEAM).status_code == 200
    bot.slack.revoke_token(SECOND_TOKEN)  # as Slack does after an uninstall
    assert paused(bot) == {SECOND_TEAM: "app_uninstalled"}
    assert bot.services.installations.team_ids() == [THIRD_TEAM]

    since = len(bot.slack.calls())
    reports = [tick_at(bot, timedelta(minutes=30)) for _ in range(6)]  # three hours of ticks: every timer of both briefs falls due
    assert calls_with(bot, SECOND_TOKEN, since) == []  # not one call for the uninstalled workspace
    assert sum(r.failed for r in reports) == 0 and sum(r.held for r in reports) == 0  # nor a failure, tick after tick
    assert {kind: t.next_due_at for kind, t in timers(bot, gone).items()} == planned  # its timers are kept, as they were
    assert all(t.active for t in timers(bot, gone).values())
    assert nudges(bot, gone) == [] and {"ack", "checkin", "customer_update"} <= set(nudges(bot, kept))  # the other workspace is served

    new_token = "xoxb-second-reinstalled"
    assert install(bot, code="c", team_id=SECOND_TEAM, token=new_token).status_code == 200
    assert paused(bot) == {}
    report = bot.services.ticker.tick()
    assert report.failed == 0
    # Each due timer fires once (a catch-up), with the new token: not one per missed period.
    assert nudges(bot, gone) == ["ack", "checkin", "customer_update"] and len(nudge_posts(bot, new_token)) == 3
    back = bot.clock.now()
    assert timers(bot, gone)["checkin"].next_due_at == back + timedelta(hours=2)  # and the next a full cadence later
    tick_at(bot, timedelta(minutes=10))
    assert nudges(bot, gone) == ["ack", "checkin", "customer_update"]


def test_a_revoked_bot_token_holds_pending_briefs_until_reinstall(oauth_bot):
    bot = oauth_bot
    assert install(bot, code="a", team_id=SECOND_TEAM, token=SECOND_TOKEN).status_code == 200
    bot.slack.fail("chat.postMessage", error="not_in_channel")  # the brief is stored, not posted: its retry is scheduled
    pending = post_brief_in(bot, SECOND_TEAM)
    with bot.db.session() as s:
        assert escalations.get_escalation(s, pending).status == "pending_delivery"

    # A person's token revoked is not the bot's: nothing changes.
    assert bot.sender.event({"type": "tokens_revoked", "tokens": {"oauth": ["U0ADMIN"]}}, team_id=SECOND_TEAM).status_code == 200
    assert bot.services.installations.team_ids() == [SECOND_TEAM] and paused(bot) == {}

    assert bot.sender.event({"type": "tokens_revoked", "tokens": {"bot": ["UBOT"]}}, team_id=SECOND_TEAM).status_code == 200
    bot.slack.revoke_token(SECOND_TOKEN)
    assert paused(bot) == {SECOND_TEAM: "tokens_revoked"}
    since = len(bot.slack.calls())
    reports = [tick_at(bot, timedelta(minutes=20)) for _ in range(6)]  # two hours: the retry (30 s, then backoff) long due
    assert calls_with(bot, SECOND_TOKEN, since) == [] and sum(r.delivered for r in reports) == 0
    with bot.db.session() as s:
        assert escalations.get_escalation(s, pending).status == "pending_delivery"  # kept, waiting

    new_token = "xoxb-second-reinstalled"
    assert install(bot, code="b", team_id=SECOND_TEAM, token=new_token).status_code == 200
    report = bot.services.ticker.tick()
    assert report.delivered == 1 and report.failed == 0
    with bot.db.session() as s:
        assert escalations.get_escalation(s, pending).status == "open"
    briefs = [
        c for c in calls_with(bot, new_token) if c.method == "chat.postMessage" and (c.args.get("metadata") or {}).get("event_type") == "escalation_brief"
    ]
    assert len(briefs) == 1


def test_one_token_refused_pauses_at_the_first_failure_and_a_probe_resumes(bot_any_db):
    bot = bot_any_db
    token = "xoxb-test-token"
    escalation_id = post_brief_in(bot, TEAM)
    bot.slack.revoke_token(token)

    since = len(bot.slack.calls())
    first = tick_at(bot, timedelta(minutes=15))  # the ack ping is due: Slack refuses the token
    assert first.paused == [TEAM] and first.failed == 0 and first.held == 1
    assert [c.method for c in bot.slack.calls()[since:]] == ["chat.postMessage"]  # one call found it out
    assert paused(bot) == {TEAM: "token_revoked"}

    since = len(bot.slack.calls())
    reports = [tick_at(bot, timedelta(minutes=5)) for _ in range(24)]  # two hours of ticks: check-in and customer update fall due
    assert sum(r.failed for r in reports) == 0 and sum(r.sent for r in reports) == 0
    # Only the probe: one auth.test each PROBE_EVERY, not one call per due reminder per tick.
    assert [c.method for c in bot.slack.calls()[since:]] == ["auth.test"] * (timedelta(hours=2) // PROBE_EVERY)
    assert all(t.active for t in timers(bot, escalation_id).values())

    bot.slack.revoke_token(token, revoked=False)  # a new token, or the account reactivated
    since = len(bot.slack.calls())
    report = tick_at(bot, PROBE_EVERY)
    assert report.resumed == [TEAM] and paused(bot) == {}
    assert nudges(bot, escalation_id) == ["ack", "checkin", "customer_update"]  # once each: the catch-up
    assert bot.slack.calls()[since].method == "auth.test"
    assert timers(bot, escalation_id)["checkin"].next_due_at == bot.clock.now() + timedelta(hours=2)


def test_a_restarted_process_probes_a_paused_workspace_at_its_first_tick(bot):
    post_brief_in(bot, TEAM)
    bot.slack.revoke_token("xoxb-test-token")
    assert tick_at(bot, timedelta(minutes=15)).paused == [TEAM]
    assert bot.services.ticker.tick().resumed == []  # the probe is a quarter of an hour away
    bot.slack.revoke_token("xoxb-test-token", revoked=False)  # restarted with a working token
    ticker = bot.services.ticker
    ticker.workspaces = Workspaces(bot.db, ticker.gateway, bot.clock)  # a new process
    report = ticker.tick()
    assert report.resumed == [TEAM] and report.sent == 1  # the ack ping, at once


def test_claims_leave_a_paused_workspaces_rows_where_they_are(db):
    seed(db, 2)  # two posted Critical briefs in T0001
    with db.session() as s:
        first, second = 1, 2
        later = escalations.get_escalation(s, second)
        later.team_id = "T0OTHER"
        s.add(later)
    with db.session() as s:
        due_at = max(f.next_due_at for f in follow_ups.follow_ups(s, first).values()) + timedelta(hours=1)
        workspaces.pause(s, "T0001", reason="invalid_auth", at=due_at, probe_at=due_at + PROBE_EVERY)
    with db.session() as s:
        claimed = follow_ups.claim_due(s, now=due_at, owner="w", lease=timedelta(minutes=2))
        assert {c.escalation_id for c in claimed} == {second}
        assert workspaces.claim_probes(s, now=due_at, next_at=due_at + PROBE_EVERY) == []  # not yet
        assert workspaces.claim_probes(s, now=due_at + PROBE_EVERY, next_at=due_at + 2 * PROBE_EVERY) == ["T0001"]
        assert workspaces.claim_probes(s, now=due_at + PROBE_EVERY, next_at=due_at + 2 * PROBE_EVERY) == []  # claimed once
        assert workspaces.resume(s, "T0001")
    with db.session() as s:
        assert {c.escalation_id for c in follow_ups.claim_due(s, now=due_at, owner="w", lease=timedelta(minutes=2))} == {first}


@pytest.mark.parametrize("error", ["invalid_auth", "account_inactive", "token_revoked", "not_authed", "team_not_found", "no_installation"])
def test_every_refusal_of_the_token_pauses_without_counting_a_failure(bot, error):
    post_brief_in(bot, TEAM)
    bot.slack.fail("chat.postMessage", error=error)
    report = tick_at(bot, timedelta(minutes=15))
    assert (report.paused, report.failed) == ([TEAM], 0)
    assert paused(bot) == {TEAM: error}


def test_a_reinstall_another_replica_handled_is_not_taken_for_a_revocation(oauth_bot):
    bot = oauth_bot
    assert install(bot, code="a", team_id=SECOND_TEAM, token=SECOND_TOKEN).status_code == 200
    escalation_id = post_brief_in(bot, SECOND_TEAM)  # this replica now holds the old token in its cache
    # Another replica's OAuth callback stores the new installation; this one's cache is not told.
    other_replica = InstallationStore(bot.db, OAUTH["SLACK_CLIENT_ID"])
    other_replica.save(Installation(team_id=SECOND_TEAM, user_id="U0ADMIN", bot_token="xoxb-second-new", bot_user_id="UBOT"))
    bot.slack.revoke_token(SECOND_TOKEN)
    report = tick_at(bot, timedelta(minutes=15))  # the ack ping goes out with the old token: refused
    assert report.paused == [] and paused(bot) == {} and report.failed == 1
    assert tick_at(bot, timedelta(seconds=30)).sent == 1  # the next tick uses the new token
    assert nudges(bot, escalation_id) == ["ack"] and len(nudge_posts(bot, "xoxb-second-new")) == 1

"""Several workspaces: Bolt's OAuth install flow over HTTP, then each workspace served with its own token."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlmodel import select

from blocks.brief_modal import brief_modal
from bot.domain.brief import Destination
from bot.settings import SettingsError, load_settings
from bot.slack.oauth import BOT_SCOPES
from bot.slack_api.workspace import serving_team
from bot.storage.models import Escalation, FollowUp
from tests.conftest import AGENT, CHANNELS, _run_bot, settings_env
from tests.e2e import state_for, wait_until
from tests.factories import draft

OAUTH = {"SLACK_CLIENT_ID": "111.222", "SLACK_CLIENT_SECRET": "oauth-client-secret", "SLACK_STATE_SECRET": "a-long-random-state-secret"}
SECOND_TEAM, SECOND_TOKEN = "T0SECOND", "xoxb-second-workspace"


@pytest.fixture
def oauth_bot(fake_slack, database_url, clock):
    # No SLACK_BOT_TOKEN: in OAuth mode every token comes from an installation.
    yield from _run_bot(fake_slack, database_url, clock, SLACK_BOT_TOKEN="", **OAUTH)


def install(bot, *, code: str = "code-1", team_id: str = SECOND_TEAM, token: str = SECOND_TOKEN) -> httpx.Response:
    """/slack/install → Slack's consent page (state in the URL and a cookie) → /slack/oauth_redirect."""
    bot.slack.add_oauth_grant(code, team_id=team_id, bot_token=token, client_id=OAUTH["SLACK_CLIENT_ID"], client_secret=OAUTH["SLACK_CLIENT_SECRET"])
    with httpx.Client(base_url=bot.url) as browser:
        start = browser.get("/slack/install")
        assert start.status_code == 302, start.text
        target = urlsplit(start.headers["location"])
        assert (target.scheme, target.netloc, target.path) == ("https", "slack.com", "/oauth/v2/authorize")
        query = parse_qs(target.query)
        assert query["client_id"] == [OAUTH["SLACK_CLIENT_ID"]]
        assert set(query["scope"][0].split(",")) == set(BOT_SCOPES)
        state = query["state"][0]
        assert browser.cookies.get("slack-app-oauth-state") == state  # the same browser must come back
        return redirect(browser, code, state)


def redirect(browser: httpx.Client, code: str, state: str, cookie: str | None = None) -> httpx.Response:
    # The state cookie is Secure (https in production); on loopback http the test sends it by hand.
    return browser.get("/slack/oauth_redirect", params={"code": code, "state": state}, headers={"Cookie": f"slack-app-oauth-state={cookie or state}"})


def test_install_then_each_request_uses_its_workspaces_token(oauth_bot):
    bot = oauth_bot
    finished = install(bot)
    assert finished.status_code == 200, finished.text
    exchange = bot.slack.last("oauth.v2.access")
    assert exchange.ok and exchange.args.get("code") == "code-1"

    # /escalate from the new workspace: the modal opens with that workspace's token.
    response = bot.sender.command(command="/escalate", text="", user_id=AGENT, team_id=SECOND_TEAM, channel_id="C0SUPPORT")
    assert response.status_code == 200
    opened = bot.slack.wait_for("views.open")[-1]
    assert opened.header("Authorization") == f"Bearer {SECOND_TOKEN}"

    # The brief itself is stored and posted by the sync services: the same token, and the brief
    # belongs to that workspace.
    view = {
        **opened.response["view"],
        "blocks": brief_modal(destination=Destination.SUPPORT_L2)["blocks"],  # destination chosen
        "team_id": SECOND_TEAM,
        "app_installed_team_id": SECOND_TEAM,
    }  # as Slack fills them for that workspace
    values = draft(Destination.SUPPORT_L2, now=bot.clock.now())
    assert bot.sender.submit_view(view, state_for(view, values), user_id=AGENT, team_id=SECOND_TEAM).status_code == 200
    channel = CHANNELS[Destination.SUPPORT_L2][0]
    posted = wait_until(lambda: [c for c in bot.slack.calls("chat.postMessage") if c.args.get("channel") == channel], what="the brief is posted")
    assert {c.header("Authorization") for c in bot.slack.calls() if c.method.startswith(("chat.", "views.", "users."))} == {f"Bearer {SECOND_TOKEN}"}
    assert posted
    with bot.db.session() as s:
        assert [e.team_id for e in s.exec(select(Escalation))] == [SECOND_TEAM]

    # The scheduler's nudges (no request behind them) use the brief's workspace's token too.
    def timers_planned():
        with bot.db.session() as s:
            return s.exec(select(FollowUp)).first()

    wait_until(timers_planned, what="the brief's timers are planned")
    wait_until(lambda: bot.slack.calls("views.update"), what="the modal shows the result")  # delivery finished
    before = len(bot.slack.calls("chat.postMessage"))
    bot.clock.advance(timedelta(hours=2))  # past the acknowledgement window
    assert bot.services.ticker.tick().sent >= 1
    nudges = bot.slack.calls("chat.postMessage")[before:]
    assert nudges and {c.header("Authorization") for c in nudges} == {f"Bearer {SECOND_TOKEN}"}


def test_a_workspace_that_never_installed_is_not_served(oauth_bot):
    bot = oauth_bot
    response = bot.sender.command(command="/escalate", text="", user_id=AGENT, team_id="T0STRANGER", channel_id="C0SUPPORT")
    # Bolt answers a command from a workspace without an installation with a note, and does nothing.
    assert response.status_code in (200, 401)
    time.sleep(0.3)
    assert bot.slack.calls("views.open") == []


def test_a_forged_or_replayed_state_is_refused(oauth_bot):
    bot = oauth_bot
    bot.slack.add_oauth_grant(
        "code-2", team_id=SECOND_TEAM, bot_token=SECOND_TOKEN, client_id=OAUTH["SLACK_CLIENT_ID"], client_secret=OAUTH["SLACK_CLIENT_SECRET"]
    )
    with httpx.Client(base_url=bot.url) as browser:
        state = parse_qs(urlsplit(browser.get("/slack/install").headers["location"]).query)["state"][0]
        nonce = state.split(".")[0]
        forged = f"{nonce}.{'0' * 32}"
        assert redirect(browser, "code-2", forged).status_code >= 400
        assert redirect(browser, "code-2", state, cookie="another-browser").status_code >= 400
        assert redirect(browser, "code-2", state).status_code == 200
        assert redirect(browser, "code-2", state).status_code >= 400  # one use only
    assert len(bot.slack.calls("oauth.v2.access")) == 1


def test_token_mode_stays_the_default_and_has_no_install_route(bot):
    assert httpx.get(f"{bot.url}/slack/install").status_code in (404, 405)


def test_oauth_needs_all_three_settings(tmp_path):
    env = {**settings_env(None, f"sqlite:///{tmp_path / 'x.db'}"), "SLACK_CLIENT_ID": "111.222"}
    with pytest.raises(SettingsError, match="SLACK_CLIENT_SECRET, SLACK_STATE_SECRET not set"):
        load_settings(None, **env)
    env = {**settings_env(None, f"sqlite:///{tmp_path / 'x.db'}"), "SLACK_BOT_TOKEN": "", **OAUTH}
    assert load_settings(None, **env).oauth
    env = {**settings_env(None, f"sqlite:///{tmp_path / 'x.db'}"), "SLACK_BOT_TOKEN": ""}
    with pytest.raises(SettingsError, match="SLACK_BOT_TOKEN is not set"):
        load_settings(None, **env)


def test_the_install_asks_for_the_manifests_scopes():
    text = (Path(__file__).resolve().parents[1] / "app_manifest.yml").read_text()
    bot_block = re.search(r"^    bot:\n((?:      - .*\n)+)", text, re.M)
    assert bot_block, "no oauth_config.scopes.bot list in the manifest"
    manifest_scopes = {line.split("- ", 1)[1].split("#")[0].strip() for line in bot_block.group(1).splitlines()}
    assert set(BOT_SCOPES) == manifest_scopes


def test_a_reinstall_replaces_the_workspaces_token(oauth_bot):
    bot = oauth_bot
    assert install(bot, code="first", token="xoxb-first-token").status_code == 200
    bot.sender.command(command="/escalate", text="", user_id=AGENT, team_id=SECOND_TEAM, channel_id="C0SUPPORT")
    assert bot.slack.wait_for("views.open")[-1].header("Authorization") == "Bearer xoxb-first-token"
    # Warm the services' per-workspace cache with the first token, then reinstall (new scopes, say).
    with serving_team(SECOND_TEAM):
        bot.services.escalations.gateway.auth_test()
    assert install(bot, code="second", token="xoxb-second-token").status_code == 200
    with serving_team(SECOND_TEAM):
        bot.services.escalations.gateway.auth_test()
    tokens = [c.header("Authorization") for c in bot.slack.calls("auth.test")]
    assert tokens[-1] == "Bearer xoxb-second-token"  # the sync services' cache was dropped at install
    bot.sender.command(command="/escalate", text="", user_id=AGENT, team_id=SECOND_TEAM, channel_id="C0SUPPORT")
    assert bot.slack.wait_for("views.open", count=2)[-1].header("Authorization") == "Bearer xoxb-second-token"


def test_each_installed_workspace_gets_its_own_weekly_digest_with_its_token(oauth_bot):
    bot = oauth_bot
    assert install(bot, code="a", team_id=SECOND_TEAM, token=SECOND_TOKEN).status_code == 200
    assert install(bot, code="b", team_id="T0THIRD", token="xoxb-third-workspace").status_code == 200
    monday_nine_utc = (bot.clock.now() + timedelta(days=3)).replace(hour=9, minute=0, second=20)  # the clock is a Friday: Monday, the default UTC zone
    bot.clock.set(monday_nine_utc)
    assert bot.services.digest.tick().sent
    leadership = CHANNELS[Destination.LEADERSHIP][0]
    digests = [c for c in bot.slack.calls("chat.postMessage") if c.args.get("channel") == leadership and c.ok]
    assert sorted(c.header("Authorization") for c in digests) == ["Bearer xoxb-second-workspace", "Bearer xoxb-third-workspace"]
    uploads = bot.slack.calls("files.completeUploadExternal")
    assert sorted(c.header("Authorization") for c in uploads) == ["Bearer xoxb-second-workspace", "Bearer xoxb-third-workspace"]
    assert not bot.services.digest.tick().sent  # once per workspace and week


def test_an_uninstall_forgets_the_workspace(oauth_bot):
    bot = oauth_bot
    assert install(bot).status_code == 200
    assert bot.services.installations.team_ids() == [SECOND_TEAM]
    response = bot.sender.event({"type": "app_uninstalled"}, team_id=SECOND_TEAM)
    assert response.status_code == 200
    wait_until(lambda: bot.services.installations.team_ids() == [], what="the installation is forgotten")
    bot.sender.command(command="/escalate", text="", user_id=AGENT, team_id=SECOND_TEAM, channel_id="C0SUPPORT")
    time.sleep(0.3)
    assert bot.slack.calls("views.open") == []  # no longer served

"""`escalation-bot run` with SLACK_APP_TOKEN: connects with Socket Mode and serves /escalate over it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.socket_mode_server import SocketModeServer
from tests.test_cli import base_env


@pytest.fixture
def socket_server():
    server = SocketModeServer().start()
    yield server
    server.stop()


def test_run_connects_with_socket_mode_and_opens_the_modal(fake_slack, socket_server, tmp_path):
    fake_slack.socket_mode_url = socket_server.url
    env = base_env(fake_slack, database_url=f"sqlite:///{tmp_path / 'bot.db'}")
    env["SLACK_APP_TOKEN"] = "xapp-1-A0001-test"
    env.pop("SLACK_SIGNING_SECRET")  # Socket Mode needs no signing secret
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "--env-file", "none.env", "run"], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        socket_server.wait_connected(timeout=20)
        opened = fake_slack.calls("apps.connections.open")
        assert opened and opened[0].token == "xapp-1-A0001-test"
        envelope = socket_server.send(
            "slash_commands",
            {
                "command": "/escalate",
                "text": "SSO broken for Acme",
                "user_id": "U0AGENT",
                "team_id": "T0001",
                "channel_id": "C0SUPPORT",
                "trigger_id": "1111.2222.abcdef",
                "response_url": fake_slack.hooks_url + "x",
                "api_app_id": "A0001",
            },
        )
        socket_server.wait_ack(envelope)
        call = fake_slack.wait_for("views.open", timeout=10)[-1]
        summary = next(b for b in call.args["view"]["blocks"] if b.get("block_id") == "summary")
        assert summary["element"]["initial_value"] == "SSO broken for Acme"
        assert (tmp_path / "bot.db").exists()  # migrations ran at start
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    assert "Traceback" not in output, output


def test_a_refused_app_token_is_one_line(fake_slack, tmp_path):
    fake_slack.fail("apps.connections.open", error="invalid_auth")
    env = base_env(fake_slack, database_url=f"sqlite:///{tmp_path / 'bot.db'}")
    env["SLACK_APP_TOKEN"] = "xapp-1-A0001-revoked"
    result = subprocess.run([sys.executable, "-m", "bot", "--env-file", "none.env", "run"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == "escalation-bot: SLACK_APP_TOKEN is wrong or revoked: copy it again from your app's settings."


def test_unreachable_slack_is_one_line(tmp_path):
    env = base_env(database_url=f"sqlite:///{tmp_path / 'bot.db'}")
    env["SLACK_APP_TOKEN"] = "xapp-1-A0001-test"
    env["SLACK_API_URL"] = "http://127.0.0.1:9/api/"  # nothing listens on the discard port
    result = subprocess.run([sys.executable, "-m", "bot", "--env-file", "none.env", "run"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=90)
    assert result.returncode == 1
    assert "cannot reach Slack at http://127.0.0.1:9/api/" in result.stderr and "Traceback" not in result.stderr

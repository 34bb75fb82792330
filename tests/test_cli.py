"""The command line as an admin meets it: settings errors, `check`, `export`, `db upgrade`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.domain.brief import Destination
from bot.domain.validation import validate_draft
from bot.storage import escalations
from bot.storage.db import Database
from tests.conftest import CHANNELS, settings_env
from tests.factories import NOW, draft

ROOT = Path(__file__).resolve().parents[1]


def base_env(fake_slack=None, database_url="sqlite:///unused.db") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ESCALATION_", "DATABASE_URL"))}
    env.update(settings_env(fake_slack.base_url if fake_slack else None, database_url))
    env["PYTHONPATH"] = str(ROOT)  # the package, whether or not it is installed in this interpreter
    return env


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", "--env-file", "none.env", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("change", "names"),
    [
        ({"SLACK_BOT_TOKEN": None}, "SLACK_BOT_TOKEN is not set"),
        ({"SLACK_BOT_TOKEN": "xoxp-user-token"}, "SLACK_BOT_TOKEN must be a bot token"),
        ({"ESCALATION_CHANNEL_SECURITY": None}, "ESCALATION_CHANNEL_SECURITY is not set"),
        ({"ESCALATION_CHANNEL_PRODUCT": "#product"}, "ESCALATION_CHANNEL_PRODUCT '#product' is not a channel ID"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL must start with"),
        ({"PORT": "eighty"}, "PORT"),
        ({"ESCALATION_DEFAULT_CURRENCY": "dollars"}, "ESCALATION_DEFAULT_CURRENCY"),
    ],
)
def test_a_bad_setting_stops_start_up_with_one_line_and_exit_2(tmp_path, change, names):
    env = base_env()
    for key, value in change.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    result = run(["run", "--http"], env, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert names in lines[0] and "Traceback" not in result.stderr
    assert ":" in lines[0]  # says what to do after naming it


def test_modes_need_their_own_secret(tmp_path):
    env = base_env()
    env.pop("SLACK_SIGNING_SECRET")
    result = run(["run", "--http"], env, tmp_path)
    assert result.returncode == 2 and "SLACK_SIGNING_SECRET is not set" in result.stderr
    result = run(["run"], base_env(), tmp_path)  # Socket Mode without an app token
    assert result.returncode == 2 and "SLACK_APP_TOKEN is not set" in result.stderr and "--http" in result.stderr


def test_an_unreachable_database_is_one_line(tmp_path):
    result = run(["db", "upgrade"], base_env(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none"), tmp_path)
    assert result.returncode == 2 and "DATABASE_URL: cannot open the database" in result.stderr
    assert "Traceback" not in result.stderr


def test_settings_come_from_a_dotenv_file(tmp_path):
    env = base_env()
    env.pop("ESCALATION_CHANNEL_LEADERSHIP")
    (tmp_path / "none.env").write_text(f"ESCALATION_CHANNEL_LEADERSHIP={CHANNELS[Destination.LEADERSHIP][0]}\n")
    result = run(["db", "upgrade"], env | {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "latest schema" in result.stdout


def test_check_reports_every_destination_with_fixes(fake_slack, tmp_path):
    fake_slack.add_channel(CHANNELS[Destination.PRODUCT][0], "product-escalations", is_member=False)
    fake_slack.add_channel(CHANNELS[Destination.LEADERSHIP][0], "leadership", is_archived=True)
    env = base_env(fake_slack)
    env["ESCALATION_CHANNEL_SECURITY"] = "G0MISSING1"
    result = run(["check"], env, tmp_path)
    out = result.stdout
    assert result.returncode == 1, out
    assert [c.method for c in fake_slack.calls()][:1] == ["auth.test"]
    assert {c.args.get("channel") for c in fake_slack.calls("conversations.info")} >= {CHANNELS[Destination.ENGINEERING][0], "G0MISSING1"}
    assert "ok    Engineering" in out and "bot is a member" in out
    assert "FAIL  Product" in out and "/invite @escalation-bot" in out
    assert "FAIL  Security" in out and "not found" in out and "ESCALATION_CHANNEL_SECURITY" in out
    assert "FAIL  Leadership" in out and "archived" in out
    assert "3 problem(s) to fix." in out


def test_check_passes_when_all_is_well(fake_slack, tmp_path):
    result = run(["check"], base_env(fake_slack), tmp_path)
    assert result.returncode == 0, result.stdout
    assert result.stdout.count("ok    ") == 7 and "All checks passed." in result.stdout  # token, 5 channels, the matcher
    assert "ok    matcher: lexical + wordllama (l2_supercat, 256 dims)" in result.stdout  # the default (auto), with wordllama installed


def test_check_explains_a_bad_token(fake_slack, tmp_path):
    fake_slack.fail("auth.test", error="invalid_auth")
    result = run(["check"], base_env(fake_slack), tmp_path)
    assert result.returncode == 2 and "copy the Bot User OAuth Token again" in result.stdout


def test_export_prints_the_method_structure(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    db = Database(url)
    db.upgrade()
    with db.session() as s:
        escalations.create_escalation(
            s, team_id="T1", brief=validate_draft(draft(Destination.LEADERSHIP), now=NOW), agent_user_id="U1", channel_id="C1", now=NOW
        )
    result = run(["export", "ESC-1", "--tz", "America/New_York"], base_env(database_url=url), tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ESCALATION: CSV export times out")
    assert "Routed to: Leadership" in result.stdout and "BUSINESS CONTEXT AND DECISION NEEDED" in result.stdout
    assert "(America/New_York)" in result.stdout
    missing = run(["export", "ESC-99"], base_env(database_url=url), tmp_path)
    assert missing.returncode == 1 and "no brief ESC-99" in missing.stderr
    wrong = run(["export", "banana"], base_env(database_url=url), tmp_path)
    assert wrong.returncode == 2 and "ESC-42" in wrong.stderr


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("ESCALATION_CHECKIN_HIGH", "2 hours", "ESCALATION_CHECKIN_HIGH '2 hours' is not a duration"),
        ("ESCALATION_CUSTOMER_UPDATE_HIGH", "8h-4h", "ESCALATION_CUSTOMER_UPDATE_HIGH a range needs its lower bound first"),
        ("ESCALATION_ACK_WINDOW_CRITICAL", "0m", "ESCALATION_ACK_WINDOW_CRITICAL a duration must be more than zero"),
        ("ESCALATION_SCHEDULER_TICK", "0", "ESCALATION_SCHEDULER_TICK"),
        ("ESCALATION_ACK_EMOJI", "eyes!!", "ESCALATION_ACK_EMOJI"),
    ],
)
def test_malformed_cadence_settings_stop_start_up(tmp_path, name, value, expected):
    result = run(["run", "--http"], base_env() | {name: value}, tmp_path)
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert expected in line and "Traceback" not in result.stderr


def test_cadence_settings_are_read(tmp_path):
    from bot.settings import Settings

    settings = Settings(
        _env_file=None,
        **(base_env() | {"ESCALATION_CHECKIN_HIGH": "90m", "ESCALATION_CUSTOMER_UPDATE_MEDIUM": "1bd-3bd", "ESCALATION_ACK_EMOJI": ":raised_hands:"}),
    )
    from bot.domain.brief import Severity

    assert str(settings.cadences[Severity.HIGH].checkin) == "1h30m"
    assert str(settings.cadences[Severity.MEDIUM].customer_update) == "1bd-3bd"
    assert settings.ack_emoji == "raised_hands"

"""Shared fixtures: databases (SQLite always, PostgreSQL when TEST_POSTGRES_URL is set), a frozen
clock, the stand-in Slack Web API, and the bot served over real HTTP on 127.0.0.1."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import settings as hypothesis_settings

from bot.clock import FrozenClock
from bot.domain.brief import Destination
from bot.settings import Settings
from bot.storage.db import Database
from tests.factories import NOW
from tests.support.fake_slack import FakeSlack
from tests.support.postgres import fresh_schema
from tests.support.slack_requests import SlackSender

SIGNING_SECRET = "0123456789abcdef0123456789abcdef"
CHANNELS = {
    Destination.SUPPORT_L2: ("C0SUPPORTL2", "support-l2"),
    Destination.ENGINEERING: ("C0ENGINEER", "eng-escalations"),
    Destination.PRODUCT: ("C0PRODUCT1", "product-escalations"),
    Destination.SECURITY: ("G0SECURITY", "security-escalations"),
    Destination.LEADERSHIP: ("C0LEADERS1", "leadership"),
}
AGENT = "U0AGENT"
TEAM = "T0001"
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")

# Fuzz tests draw the same examples on every run, so a green suite stays green and a red one is
# reproducible; HYPOTHESIS_PROFILE=explore draws new ones each run (to look for new bugs locally).
hypothesis_settings.register_profile("repeatable", derandomize=True, print_blob=True)
hypothesis_settings.register_profile("explore", derandomize=False, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


def _postgres_schema_url() -> Iterator[str]:
    """A fresh schema per test on the shared PostgreSQL database, dropped afterwards."""
    with fresh_schema(POSTGRES_URL) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> Iterator[str]:
    """Storage tests take this fixture to run on SQLite, and on PostgreSQL when it is configured."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'escalations.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("TEST_POSTGRES_URL is not set")
    yield from _postgres_schema_url()


@pytest.fixture
def db(database_url) -> Iterator[Database]:
    database = Database(database_url)
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(tmp_path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'escalations.db'}")
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


# --- Slack ---------------------------------------------------------------------------------------


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        for channel_id, name in CHANNELS.values():
            # U0ENGINEER is in every receiving team's channel: they may act on its briefs.
            slack.add_channel(channel_id, name, is_member=True, is_private=channel_id.startswith("G"), members=["U0ENGINEER"])
        slack.add_channel("C0SUPPORT", "support", is_member=True)  # where agents type /escalate
        slack.add_user(AGENT, "agent.alice", tz="Europe/Paris")
        slack.add_user("U0ENGINEER", "eng.bob", tz="America/New_York")
        yield slack


def settings_env(api_url: str | None, database_url: str) -> dict[str, str]:
    """The environment an admin would set, pointing at the stand-in Slack (if given)."""
    env = {
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "DATABASE_URL": database_url,
        "ESCALATION_POST_INTERVAL": "0",  # tests that measure pacing turn it on
        **{f"ESCALATION_CHANNEL_{d.name}": channel for d, (channel, _name) in CHANNELS.items()},
    }
    if api_url:
        env["SLACK_API_URL"] = api_url
    return env


def make_settings(fake_slack: FakeSlack, database_url: str, **overrides) -> Settings:
    return Settings(_env_file=None, **{**settings_env(fake_slack.base_url, database_url), **overrides})  # type: ignore[call-arg]


@dataclass
class RunningBot:
    url: str
    slack: FakeSlack
    db: Database
    clock: FrozenClock
    sender: SlackSender
    services: object


class _ServerThread:
    """uvicorn serving the real ASGI app on a free loopback port, in a thread."""

    def __init__(self, app) -> None:
        import uvicorn

        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the bot's HTTP server did not start")
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@pytest.fixture
def bot(fake_slack, tmp_path, clock) -> Iterator[RunningBot]:
    """The bot in HTTP mode on SQLite, talking to the stand-in Slack."""
    yield from _run_bot(fake_slack, f"sqlite:///{tmp_path / 'bot.db'}", clock)


@pytest.fixture
def bot_any_db(fake_slack, database_url, clock) -> Iterator[RunningBot]:
    """The same, on every configured database."""
    yield from _run_bot(fake_slack, database_url, clock)


def _run_bot(fake_slack: FakeSlack, database_url: str, clock: FrozenClock, **overrides) -> Iterator[RunningBot]:
    from bot.runtime.server import create_asgi_app
    from bot.services import build_services

    settings = make_settings(fake_slack, database_url, **overrides)
    database = Database(database_url)
    database.upgrade()
    services = build_services(settings, clock=clock, db=database)
    server = _ServerThread(create_asgi_app(settings, services=services, run_scheduler=False))  # tests tick by hand
    url = server.start()
    sender = SlackSender(url, SIGNING_SECRET, response_url_base=fake_slack.hooks_url)
    try:
        yield RunningBot(url=url, slack=fake_slack, db=database, clock=clock, sender=sender, services=services)
    finally:
        server.stop()
        database.dispose()
    # Every view and message the bot sent in the test passed Slack's Block Kit limits.
    fake_slack.assert_no_violations()

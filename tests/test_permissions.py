"""Who may act on a brief: the channel-members cache against the stand-in Slack, the rule itself,
and the ESCALATION_ADMINS setting."""

from __future__ import annotations

import pytest

from bot.clock import FrozenClock
from bot.domain.validation import validate_draft
from bot.settings import SettingsError, load_settings
from bot.slack_api.directory import ChannelMembers
from bot.slack_api.gateway import SlackGateway, make_web_client
from bot.storage import escalations, running_log
from bot.usecases.permissions import NOT_FOUND, Guard
from tests.conftest import settings_env
from tests.factories import NOW, draft

PEOPLE = [f"U{n:08d}" for n in range(2500)]


class Ticks:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def gateway(fake_slack) -> SlackGateway:
    fake_slack.add_channel("C0BIG", "big-team", members=PEOPLE)
    return SlackGateway(make_web_client("xoxb-test", fake_slack.base_url))


def test_members_are_read_across_every_page_once(fake_slack, gateway):
    members = ChannelMembers(gateway)
    assert members.contains("C0BIG", PEOPLE[-1]) is True  # 2,500 members: three pages of 1,000
    assert len(fake_slack.calls("conversations.members")) == 3
    assert members.contains("C0BIG", "U0STRANGER") is False
    assert members.contains("C0BIG", PEOPLE[0]) is True
    assert len(fake_slack.calls("conversations.members")) == 3  # cached


def test_a_stale_cache_admits_at_once_and_rechecks_a_refusal(fake_slack, gateway):
    ticks = Ticks()
    members = ChannelMembers(gateway, ttl=300, monotonic=ticks)
    members.warm(["C0BIG", "C0BIG"])
    calls = len(fake_slack.calls("conversations.members"))
    fake_slack.channel("C0BIG").members.append("U0NEWCOMER")
    assert members.contains("C0BIG", "U0NEWCOMER") is False  # fresh cache: no Slack call
    assert len(fake_slack.calls("conversations.members")) == calls
    ticks.now += 301
    assert members.contains("C0BIG", "U0NEWCOMER") is True  # stale and "no": asked Slack again
    assert len(fake_slack.calls("conversations.members")) == calls * 2
    ticks.now += 301
    assert members.contains("C0BIG", PEOPLE[5]) is True  # stale and "yes": answered from the cache...
    members.wait_for_refreshes()  # ...while it is refreshed behind (done before the stand-in Slack stops)
    assert len(fake_slack.calls("conversations.members")) == calls * 3
    assert members.contains("C0BIG", "U0NEWCOMER") is True and len(fake_slack.calls("conversations.members")) == calls * 3  # fresh again


def test_unreadable_membership_is_unknown_and_a_failure_keeps_what_was_known(fake_slack, gateway):
    members = ChannelMembers(gateway, monotonic=Ticks())
    fake_slack.fail("conversations.members", error="missing_scope")
    assert members.contains("C0BIG", PEOPLE[0]) is None
    assert members.contains("C0NOPE", PEOPLE[0]) is None  # channel_not_found
    assert members.contains("C0BIG", PEOPLE[0]) is True


def test_the_rule_and_its_refusals(fake_slack, gateway, db):
    brief = validate_draft(draft(now=NOW), now=NOW)
    with db.session() as s:
        row = escalations.create_escalation(s, team_id="T0001", brief=brief, agent_user_id="U0AGENT", channel_id="C0BIG", now=NOW).escalation
        row.receiving_owner_id = "U0OWNER"
        s.add(row)
        escalation_id = row.id
    guard = Guard(db, FrozenClock(NOW), ChannelMembers(gateway), admins=frozenset({"U0ADMIN"}))
    for allowed in ("U0AGENT", "U0OWNER", "U0ADMIN", PEOPLE[1234]):
        assert guard.refusal(escalation_id, allowed, "re-open") is None, allowed
    message = guard.refusal(escalation_id, "U0STRANGER", "re-open")
    assert message.startswith(":no_entry: Only the escalating agent, the receiving owner, members of <#C0BIG> and admins can re-open ESC-1")
    # ids in buttons can be replayed or forged: another workspace's brief, or none, reads as unknown
    assert guard.refusal(escalation_id, "U0AGENT", "re-open", team_id="T0OTHER") == NOT_FOUND
    assert guard.refusal(escalation_id + 99, "U0AGENT", "re-open") == NOT_FOUND
    with db.session() as s:
        [entry] = [e for e in running_log.log_entries(s, escalation_id) if e.kind == "refused"]
    assert entry.actor == "U0STRANGER" and entry.data == {"action": "re-open", "membership_known": True}


def test_admins_setting_is_a_validated_list_of_user_ids(tmp_path):
    env = settings_env(None, "sqlite:///x.db")
    assert load_settings(None, **env).admins == frozenset()
    settings = load_settings(None, **env, ESCALATION_ADMINS=" U0123ABCD, W0456EFGH ,,")
    assert settings.admins == frozenset({"U0123ABCD", "W0456EFGH"}) and settings.escalation_admins == "U0123ABCD,W0456EFGH"
    with pytest.raises(SettingsError, match=r"ESCALATION_ADMINS 'alice' is not a user ID: use Slack user IDs separated by commas"):
        load_settings(None, **env, ESCALATION_ADMINS="U0123ABCD,alice")


def test_a_background_refresh_that_breaks_keeps_the_stale_entry(caplog):
    """A refresh thread has nobody to report to: whatever escapes the gateway is logged there, the
    stale entry keeps admitting its members, and the next stale read tries again."""

    class Breaks:
        calls = 0

        def channel_members(self, channel: str) -> list[str]:
            self.calls += 1
            if self.calls > 1:
                raise ValueError("a truncated answer")
            return ["U0MEMBER"]

    ticks, gateway = Ticks(), Breaks()
    members = ChannelMembers(gateway, ttl=300, monotonic=ticks)  # type: ignore[arg-type]
    members.warm(["C0TEAM"])
    ticks.now += 301
    assert members.contains("C0TEAM", "U0MEMBER") is True
    members.wait_for_refreshes()
    assert gateway.calls == 2 and "refreshing the members of C0TEAM failed" in caplog.text
    assert members.contains("C0TEAM", "U0MEMBER") is True
    members.wait_for_refreshes()
    assert gateway.calls == 3


# --- the rule itself (bot.domain.visibility): pure ---------------------------------------------------


def _parties(destination: str, owner: str | None = "U0OWNER"):
    from bot.domain.visibility import Parties

    return Parties(1, "ESC-1", destination, "U0AGENT", owner, "C0CHAN")


@pytest.mark.parametrize(
    ("destination", "user", "member", "act", "see"),
    [
        # an ordinary brief: anyone finds it; the people involved act on it
        ("engineering", "U0AGENT", None, "allowed", True),
        ("engineering", "U0OWNER", None, "allowed", True),
        ("engineering", "U0ADMIN", None, "allowed", True),
        ("engineering", "U0MEMBER", True, "allowed", True),
        ("engineering", "U0BYSTANDER", False, "refused", True),
        ("engineering", "U0BYSTANDER", None, "unsure", True),
        # a security brief: to anyone not involved it does not exist, even when membership is unknown
        ("security", "U0AGENT", None, "allowed", True),
        ("security", "U0OWNER", None, "allowed", True),
        ("security", "U0ADMIN", None, "allowed", True),
        ("security", "U0MEMBER", True, "allowed", True),
        ("security", "U0BYSTANDER", False, "hidden", False),
        ("security", "U0BYSTANDER", None, "hidden", False),
    ],
)
def test_one_rule_for_seeing_and_acting(destination, user, member, act, see):
    from bot.domain.visibility import may_act, may_see, needs_membership

    parties, admins = _parties(destination), frozenset({"U0ADMIN"})
    assert may_act(parties, user, admins=admins, member=member).value == act
    assert may_see(parties, user, admins=admins, member=member) is see
    named = user in ("U0AGENT", "U0OWNER", "U0ADMIN")
    assert needs_membership(parties, user, admins, acting=True) is not named  # acting always needs it for others
    assert needs_membership(parties, user, admins, acting=False) is (not named and destination == "security")  # seeing: only a private brief


def test_a_private_brief_is_named_only_in_its_own_channel():
    from bot.domain.visibility import may_name_in

    assert may_name_in("security", "G0SEC", "G0SEC") and not may_name_in("security", "G0SEC", "C0PRODUCT")
    assert may_name_in("product", "C0PRODUCT", "C0ENG") and may_name_in("engineering", "C0ENG", "G0SEC")

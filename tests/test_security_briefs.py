"""A canary planted in a security brief reaches nobody who is not involved in it.

The canary is in the brief's summary, narrative and security package, in a team update, a thread
reply, a severity reason and the de-escalation findings. Ordinary briefs with the same symptom and
the same Zendesk ticket are filed before it and after it (both orders). Then a bystander (same
workspace, in no destination channel), through signed HTTP, tries every surface: `/escalate log`,
search, triage's "resolved before", list, stats, the Home tab, every button on the brief; the
scheduler sends nudges, the weekly digest, ticket notes and webhook calls. Every Slack call, every
answer and every outgoing HTTP body is then searched for the canary: it may appear only in the
security channel, in DMs to the agent or the receiving engineer, and in answers to them.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, time, timedelta

import pytest

from blocks import ids
from bot.domain.brief import Destination
from bot.domain.lifecycle import Deescalation, DeescalationReason
from bot.domain.triage import CRITERIA, GROUPS
from bot.usecases.permissions import no_such_ref
from tests.conftest import AGENT, CHANNELS, TEAM, _run_bot
from tests.e2e import wait_until
from tests.support.fake_ticketing import FakeWebhook, FakeZendesk
from tests.support.slack_requests import message_event, view_submission
from tests.test_follow_through import ENGINEER, post_brief, row
from tests.test_patterns_flow import EXPORT

CANARY = "zq7canary"
SECURITY = CHANNELS[Destination.SECURITY][0]
BYSTANDER = "U0BYSTANDER"
INVOLVED = {AGENT, ENGINEER}
TYPED_BY_THE_BYSTANDER = f"probe {CANARY}"  # searched for and described in triage: their own words may come back to them


@pytest.fixture
def stand_ins():
    with FakeZendesk() as zendesk, FakeWebhook() as webhook:
        zendesk.add_ticket(48213, status="open", priority="urgent", organization="Acme Corp")  # every factory draft cites ZD-48213
        yield zendesk, webhook


def _bot(fake_slack, tmp_path, clock, stand_ins, **settings):
    zendesk, webhook = stand_ins
    env = {
        "ZENDESK_URL": zendesk.base_url,
        "ZENDESK_EMAIL": zendesk.EMAIL,
        "ZENDESK_API_TOKEN": zendesk.TOKEN,
        "ESCALATION_WEBHOOK_URL": webhook.url,
        "ESCALATION_WEBHOOK_SECRET": webhook.SECRET,
        "ESCALATION_DIGEST_TZ": "UTC",
        **settings,
    }
    return _run_bot(fake_slack, f"sqlite:///{tmp_path / 'bot.db'}", clock, **env)


def security_brief(bot) -> int:
    return post_brief(
        bot,
        "high",
        Destination.SECURITY,
        summary=f"{EXPORT['summary']} ({CANARY})",
        narrative=f"{EXPORT['narrative']} The export also held {CANARY} rows of another tenant.",
        observations=f"Another tenant's rows ({CANARY}) appeared in the CSV.",
        affected_names="Umbrella",
    )


def ordinary_brief(bot, customer: str) -> int:
    bot.clock.advance(timedelta(minutes=30))
    return post_brief(bot, "high", Destination.PRODUCT, summary=EXPORT["summary"], narrative=EXPORT["narrative"], affected_names=customer)


def hook(bot, user: str) -> str:
    return f"{bot.slack.hooks_url}{user}/{uuid.uuid4().hex[:8]}"


def answers_to(bot, user: str) -> list:
    return [c for c in bot.slack.calls("response_url") if c.path.startswith(f"/hooks/{user}/")]


def command_as(bot, user: str, text: str) -> dict:
    before = len(answers_to(bot, user))
    assert (
        bot.sender.command(command="/escalate", text=text, user_id=user, team_id=TEAM, channel_id="C0SUPPORT", response_url=hook(bot, user)).status_code == 200
    )
    return wait_until(lambda: answers_to(bot, user)[before:], what=f"/escalate {text}")[0].args


def work_on_the_security_brief(bot, escalation_id: int) -> None:
    """What the receiving team and the agent write on it: every kind of log entry carries the canary."""
    services = bot.services
    services.follow_through.acknowledge(escalation_id, ENGINEER, team_id=TEAM)
    services.follow_through.post_update(escalation_id, ENGINEER, f"Confirmed: {CANARY} rows leaked via the shared link cache", team_id=TEAM)
    r = row(bot, escalation_id)
    reply = message_event(f"Rotated the link signing key after {CANARY}", channel=SECURITY, user=ENGINEER, thread_ts=r.message_ts, team_id=TEAM)
    assert bot.sender.event(reply, team_id=TEAM).status_code == 200
    wait_until(lambda: CANARY in (row(bot, escalation_id).last_update_text or "") and "Rotated" in row(bot, escalation_id).last_update_text, what="reply")
    bot.clock.advance(timedelta(hours=4, minutes=5))
    services.ticker.tick()  # nudges: check-in, customer update
    from bot.domain.brief import Severity

    services.follow_through.change_severity(escalation_id, ENGINEER, Severity.CRITICAL, f"Scope grew: {CANARY} in 3 tenants", team_id=TEAM)
    services.lifecycle.deescalate(
        escalation_id,
        AGENT,
        Deescalation(reason=DeescalationReason.WORKAROUND, findings=f"Disabling the link cache stops {CANARY}", customer_told=True),
        team_id=TEAM,
    )


def bystander_tries_everything(bot, escalation_id: int) -> dict[str, object]:
    """Every surface a bystander can reach, through signed HTTP. Returns what the log command said."""
    number = row(bot, escalation_id).number
    seen: dict[str, object] = {}
    seen["log"] = command_as(bot, BYSTANDER, f"log ESC-{number}")["text"]
    seen["log unknown"] = command_as(bot, BYSTANDER, "log ESC-999")["text"]
    for words in (TYPED_BY_THE_BYSTANDER, "export times out", "tenant rows"):
        seen[f"search {words}"] = command_as(bot, BYSTANDER, f"search {words}")
    seen["list"] = command_as(bot, BYSTANDER, "list")
    seen["stats"] = command_as(bot, BYSTANDER, "stats 30d")
    # Triage: "a documented fix addresses it" → keep, and resolved briefs like the symptom are offered.
    opened = bot.sender.command(command="/escalate", text="triage", user_id=BYSTANDER, team_id=TEAM, channel_id="C0SUPPORT", response_url=hook(bot, BYSTANDER))
    assert opened.status_code == 200
    view = wait_until(lambda: [c for c in bot.slack.calls("views.open") if c.args["view"]["callback_id"] == ids.VIEW_TRIAGE], what="triage")[-1].response[
        "view"
    ]
    values = {ids.BLOCK_TRIAGE_SYMPTOM: {ids.BLOCK_TRIAGE_SYMPTOM: f"{EXPORT['summary']} {TYPED_BY_THE_BYSTANDER}"}}
    group = next(i for i, g in enumerate(GROUPS) if any(c.id == "documented_fix" and c.group == g for c in CRITERIA))
    values[f"{ids.BLOCK_TRIAGE_GROUP_PREFIX}{group}"] = {f"{ids.BLOCK_TRIAGE_GROUP_PREFIX}{group}": ["documented_fix"]}
    body, ctype = view_submission(view, values, user_id=BYSTANDER, team_id=TEAM)
    assert bot.sender.post(body, ctype).status_code == 200
    assert bot.sender.event({"type": "app_home_opened", "user": BYSTANDER, "tab": "home"}, team_id=TEAM).status_code == 200
    wait_until(lambda: bot.slack.home_view(BYSTANDER), what="the bystander's Home tab")
    r = row(bot, escalation_id)
    message = bot.slack.message(r.channel_id, r.message_ts)
    for action in (ids.ACTION_VIEW_LOG, ids.ACTION_EXPORT, ids.ACTION_REOPEN, ids.ACTION_POST_UPDATE):
        before = len(answers_to(bot, BYSTANDER))
        bot.sender.action(
            action, value=str(escalation_id), message=message, channel_id=SECURITY, user_id=BYSTANDER, team_id=TEAM, response_url=hook(bot, BYSTANDER)
        )
        seen[action] = wait_until(lambda: answers_to(bot, BYSTANDER)[before:], what=action)[0].args["text"]  # noqa: B023
    return seen


def scheduler_sends_everything(bot) -> None:
    bot.clock.advance(timedelta(hours=5))
    bot.services.ticker.tick()  # nudges, ticket notes and webhook calls (the outbox)
    now = bot.clock.now()
    monday = datetime.combine(now.date() + timedelta(days=(7 - now.weekday()) % 7 or 7), time(9, 1), tzinfo=UTC)
    bot.clock.set(monday)
    report = bot.services.digest.tick()
    assert report.sent == 1, report
    bot.services.ticker.tick()


def leaks(bot, stand_ins) -> list[str]:
    """Every place the canary went that someone not involved can read."""
    found = []
    for call in bot.slack.calls():
        body = json.dumps(call.args, ensure_ascii=False) + call.raw_body.decode("utf-8", "replace")
        body = body.replace(TYPED_BY_THE_BYSTANDER, "")  # an echo of their own query is not a leak
        if CANARY not in body:
            continue
        if call.method == "response_url":
            if not any(call.path.startswith(f"/hooks/{user}/") for user in INVOLVED):
                found.append(f"response_url {call.path}: {call.args.get('text', '')[:120]}")
        elif call.method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            if call.args.get("channel") not in {SECURITY, *INVOLVED} or (call.method == "chat.postEphemeral" and call.args.get("user") not in INVOLVED):
                found.append(f"{call.method} to {call.args.get('channel')}: {call.args.get('text', '')[:120]}")
        else:
            found.append(f"{call.method}: {body[:160]}")
    for fake in stand_ins:
        found += [f"{type(fake).__name__} {r.method} {r.path}" for r in fake.calls() if CANARY in r.raw.decode("utf-8", "replace")]
    return found


@pytest.mark.parametrize("order", ["security brief first", "security brief last"])
def test_a_canary_in_a_security_brief_reaches_only_the_people_involved(fake_slack, tmp_path, clock, stand_ins, order):
    for bot in _bot(fake_slack, tmp_path, clock, stand_ins):
        if order == "security brief first":
            private = security_brief(bot)
            ordinary = [ordinary_brief(bot, c) for c in ("Globex", "Initech", "Hooli")]
        else:
            ordinary = [ordinary_brief(bot, c) for c in ("Globex", "Initech")]
            bot.clock.advance(timedelta(minutes=30))
            private = security_brief(bot)
        work_on_the_security_brief(bot, private)
        seen = bystander_tries_everything(bot, private)
        scheduler_sends_everything(bot)

        assert leaks(bot, stand_ins) == []
        assert seen["log"] == seen["log unknown"].replace("999", str(row(bot, private).number)) == no_such_ref(row(bot, private).number)
        assert {seen[a] for a in (ids.ACTION_VIEW_LOG, ids.ACTION_EXPORT, ids.ACTION_REOPEN, ids.ACTION_POST_UPDATE)} == {
            "That escalation does not exist in this workspace."
        }
        ref = f"ESC-{row(bot, private).number}"
        for o in ordinary:  # the ordinary briefs never name it: no pattern note, no related link, no ticket history
            r = row(bot, o)
            thread = [json.dumps(c.args) for c in bot.slack.calls("chat.postMessage") + bot.slack.calls("chat.update") if c.args.get("channel") == r.channel_id]
            assert not [t for t in thread if f"{ref}\\u" in t or f"{ref} " in t or f"{ref}*" in t or f"|{ref}>" in t or f"{ref}," in t or f"{ref})" in t]
        # The check is live: the canary did reach the security channel, and the webhook heard of the brief.
        assert any(CANARY in json.dumps(c.args) for c in bot.slack.calls("chat.postMessage") if c.args["channel"] == SECURITY)
        webhook_refs = [e["escalation"]["ref"] for e in stand_ins[1].entries()]
        assert ref in webhook_refs
        assert all(e.get("details_withheld") for e in stand_ins[1].entries() if e["escalation"]["ref"] == ref)


def test_with_the_setting_on_security_details_go_to_tickets_and_the_webhook(fake_slack, tmp_path, clock, stand_ins):
    zendesk, webhook = stand_ins
    for bot in _bot(fake_slack, tmp_path, clock, stand_ins, ESCALATION_SECURITY_DETAILS_OUTSIDE_SLACK="true"):
        private = security_brief(bot)
        bot.services.follow_through.acknowledge(private, ENGINEER, team_id=TEAM)
        bot.services.ticker.tick()
        assert any(CANARY in json.dumps(e) for e in webhook.entries())
        assert any(CANARY in r.raw.decode() for r in zendesk.calls("PUT"))


def test_by_default_a_security_brief_leaves_slack_as_its_id_severity_status_and_link(fake_slack, tmp_path, clock, stand_ins):
    zendesk, webhook = stand_ins
    for bot in _bot(fake_slack, tmp_path, clock, stand_ins):
        private = security_brief(bot)
        bot.services.follow_through.acknowledge(private, ENGINEER, team_id=TEAM)
        bot.services.ticker.tick()
        r = row(bot, private)
        entries = webhook.entries()
        assert [e["entry"]["kind"] for e in entries] == ["created", "posted", "acknowledged"]
        for e in entries:
            assert set(e) == {"event", "details_withheld", "entry", "escalation"} and set(e["entry"]) == {"id", "kind", "at"}
            assert set(e["escalation"]) == {"id", "ref", "team_id", "severity", "status", "link"}
        assert entries[-1]["escalation"]["link"] == f"https://slack.com/archives/{SECURITY}/p{r.message_ts.replace('.', '')}"
        notes = [json.loads(r.raw)["ticket"]["comment"]["body"] for r in zendesk.calls("PUT")]
        assert notes and all(n.startswith("ESC-1 (") and "Details are kept in Slack." in n for n in notes), notes

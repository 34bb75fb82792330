"""Every button, modal, command and event says who may use it (bot.usecases.permissions.ACCESS), and
every guarded one refuses the people who may not, through signed HTTP:

* a bystander (same workspace, not the agent, not the owner, in no destination channel, not an admin),
* a stranger from another workspace replaying the brief's ids,
* and, as the control that proves the request itself works, the escalating agent.

On an ordinary brief a bystander is told who may act; on a security brief the bystander gets, word
for word, what an ID that was never used gets. A refusal is ephemeral (or a DM after a modal), is
written to the brief's running log, and changes nothing else.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from blocks import ids
from blocks.complete_brief import complete_modal
from blocks.follow_through import note_modal, severity_modal
from blocks.lifecycle import close_modal, deescalate_modal
from blocks.move import move_modal
from bot.domain.brief import Destination, Severity
from bot.slack.listeners import register_all
from bot.storage import escalations, follow_ups, running_log
from bot.usecases.permissions import ACCESS, ACTION, NOT_FOUND, VIEW, Who
from tests.conftest import AGENT, CHANNELS, TEAM
from tests.e2e import wait_until
from tests.factories import NOW, draft
from tests.support.slack_requests import new_trigger_id, view_submission
from tests.test_follow_through import post_brief

BYSTANDER = "U0BYSTANDER"
OTHER_TEAM, STRANGER = "T0OTHER", "U0STRANGER"
UNKNOWN_ID = 987654
GUARDED = sorted(key for key, access in ACCESS.items() if access.who in (Who.INVOLVED, Who.AGENT))
D, C, M = ids.DEESCALATE_BLOCKS, ids.CLOSE_BLOCKS, ids.MOVE_BLOCKS

# How to send each guarded id about one brief: (the concrete action_id, the button's value) or a
# view and its values. A new guarded id without a recipe here fails test_every_guarded_id_has_a_recipe.
NOTE = {ids.BLOCK_NOTE: {ids.BLOCK_NOTE: "Can you share the HAR file?"}}
VIEW_RECIPES = {
    ids.VIEW_ASK_INFO: NOTE,
    ids.VIEW_POST_UPDATE: NOTE,
    ids.VIEW_LOG_CHECKIN: NOTE,
    ids.VIEW_LOG_CUSTOMER_UPDATE: NOTE,
    ids.VIEW_CHANGE_SEVERITY: {ids.BLOCK_SEVERITY: {ids.BLOCK_SEVERITY: "critical"}, ids.BLOCK_REASON: {ids.BLOCK_REASON: "Now 40 accounts"}},
    ids.VIEW_DEESCALATE: {
        D["reason"]: {D["reason"]: "workaround"},
        D["findings"]: {D["findings"]: "Clearing the cache unblocks them"},
        D["customer_told"]: {D["customer_told"]: "yes"},
    },
    # Completing a brief posted with *Post now*: the whole form, valid (the guard acts after validation).
    ids.VIEW_COMPLETE_BRIEF: {f: {f: ["yes"] if f == "reference_account" else v} for f, v in draft(Destination.SUPPORT_L2, now=NOW).items() if v},
    ids.VIEW_CLOSE: {
        C["confirmed"]: {C["confirmed"]: ["yes"]},
        C["what_happened"]: {C["what_happened"]: "A stale cache"},
        C["root_cause"]: {C["root_cause"]: "TTL too long"},
        C["next_time"]: {C["next_time"]: "Clear the cache first"},
    },
    ids.VIEW_MOVE: {
        M["destination"]: {M["destination"]: "product"},
        M["reason"]: {M["reason"]: "A capability gap, not a defect"},
        "use_case": {"use_case": "Export a year of invoices at once"},
        "request_frequency": {"request_frequency": "14 customers asked in the last 90 days"},
    },
}


def _view(callback_id: str, escalation_id: int) -> dict:
    if callback_id == ids.VIEW_CHANGE_SEVERITY:
        return severity_modal(escalation_id=escalation_id, ref="ESC-1", current=Severity.HIGH)
    if callback_id == ids.VIEW_DEESCALATE:
        return deescalate_modal(escalation_id=escalation_id, ref="ESC-1")
    if callback_id == ids.VIEW_CLOSE:
        return close_modal(escalation_id=escalation_id, ref="ESC-1")
    if callback_id == ids.VIEW_COMPLETE_BRIEF:
        return complete_modal(
            escalation_id=escalation_id, ref="ESC-1", destination=Destination.SUPPORT_L2, severity=Severity.HIGH, initial={}, missing=["narrative"]
        )
    if callback_id == ids.VIEW_MOVE:
        return move_modal(escalation_id=escalation_id, ref="ESC-1", source=Destination.ENGINEERING, target=Destination.PRODUCT)
    return note_modal(callback_id=callback_id, title="Note", label="Note", submit="Send", escalation_id=escalation_id, ref="ESC-1", placeholder="…")


class Requests:
    """Signed requests about one brief, each answered on a response_url that names its sender."""

    def __init__(self, bot) -> None:
        self.bot = bot

    def send(self, key: tuple[str, str], escalation_id: int, user: str, team: str, *, value: str | None = None) -> dict:
        kind, id_ = key
        bot, trigger = self.bot, new_trigger_id()
        r = _row(bot, escalation_id)
        if kind == VIEW:
            view = _view(id_, UNKNOWN_ID if value == "unknown" else escalation_id)
            body, ctype = view_submission(view, VIEW_RECIPES[id_], user_id=user, team_id=team, trigger_id=trigger)
            assert bot.sender.post(body, ctype).status_code == 200
        else:
            action_id = f"{ids.ACTION_SNOOZE_PREFIX}30" if id_ == ids.ACTION_SNOOZE_PATTERN else id_
            if value is None:
                value = str(_timers(bot, escalation_id)["checkin"].id if id_ == ids.ACTION_SNOOZE_PATTERN else escalation_id)
                value = f"{value}:{_partner(bot, escalation_id)}" if id_ in PAIRED else value
            elif value == "unknown":
                value = str(UNKNOWN_ID)
            message = bot.slack.message(r.channel_id, r.message_ts)
            hook = f"{bot.slack.hooks_url}{user}/{uuid.uuid4().hex[:8]}"
            response = bot.sender.action(
                action_id, value=value, message=message, channel_id=r.channel_id, user_id=user, team_id=team, trigger_id=trigger, response_url=hook
            )
            assert response.status_code == 200
        return {"kind": kind, "trigger": trigger, "user": user}

    def told(self, sent: dict, since: dict) -> list[str]:
        """What the sender was told since `since` (ephemeral answers, or DMs after a modal)."""
        bot, user = self.bot, sent["user"]
        answers = [c.args.get("text", "") for c in bot.slack.calls("response_url")[since["response_url"] :] if c.path.startswith(f"/hooks/{user}/")]
        dms = [c.args.get("text", "") for c in bot.slack.calls("chat.postMessage")[since["chat.postMessage"] :] if c.args.get("channel") == user]
        return answers + dms


# A suggestion's buttons name two briefs: "<the brief they sit on>:<the suggested brief>".
PAIRED = {ids.ACTION_PATTERN_SAME, ids.ACTION_PATTERN_NOT_RELATED}


def _partner(bot, escalation_id: int) -> int:
    """Another brief of the workspace, for a button that names two (the walk posts two; the replay one more)."""
    from sqlmodel import select

    from bot.storage.models import Escalation

    with bot.db.session() as s:
        return s.exec(select(Escalation.id).where(Escalation.team_id == TEAM, Escalation.id != escalation_id).order_by(Escalation.id)).first()


def _row(bot, escalation_id: int):
    with bot.db.session() as s:
        return escalations.get_escalation(s, escalation_id)


def _timers(bot, escalation_id: int):
    with bot.db.session() as s:
        return follow_ups.follow_ups(s, escalation_id)


def _log(bot, escalation_id: int) -> list[tuple[str, str]]:
    with bot.db.session() as s:
        return [(e.kind, e.actor) for e in running_log.log_entries(s, escalation_id)]


def _counts(bot) -> dict:
    return {m: len(bot.slack.calls(m)) for m in ("response_url", "chat.postMessage", "chat.update", "views.open")}


def _state(bot, escalation_id: int) -> tuple:
    r = _row(bot, escalation_id)
    plans = tuple(sorted((k, f.next_due_at, f.active, f.snoozed_until) for k, f in _timers(bot, escalation_id).items()))
    return r.status, r.severity, r.receiving_owner_id, r.last_update_text, plans


# --- the table -----------------------------------------------------------------------------------


class _Listening:
    """Enough of an app for listener modules to register on (nothing is served)."""

    def __getattr__(self, _name):
        return lambda *_a, **_k: lambda fn: fn


def test_the_table_lists_exactly_the_registered_listeners(bot):
    registered = register_all(_Listening(), bot.services)
    assert registered == set(ACCESS), {"no entry in ACCESS": registered - set(ACCESS), "entry without a listener": set(ACCESS) - registered}


def test_the_app_refuses_to_start_with_a_listener_the_table_does_not_list(bot, monkeypatch):
    from bot.slack.app import build_app
    from bot.usecases import permissions

    monkeypatch.delitem(permissions.ACCESS, (ACTION, ids.ACTION_EXPORT))

    async def build():
        build_app(bot.services, request_verification=False)

    with pytest.raises(RuntimeError, match="brief_export"):
        asyncio.run(build())


def test_every_guarded_id_has_a_recipe():
    for kind, id_ in GUARDED:
        assert kind == ACTION or id_ in VIEW_RECIPES, f"add a recipe for {kind} {id_} to this test"


# --- the walk --------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", GUARDED, ids=[f"{k}:{i}" for k, i in GUARDED])
def test_each_guarded_id_refuses_bystanders_and_other_workspaces_and_serves_the_agent(bot, key):
    requests = Requests(bot)
    ordinary = post_brief(bot, "high", Destination.ENGINEERING, summary="Exports time out for Acme")
    private = post_brief(bot, "high", Destination.SECURITY, summary="Tenant data visible to another tenant")

    # A bystander on an ordinary brief: told who may act; logged; nothing else changes.
    before, state, log = _counts(bot), _state(bot, ordinary), _log(bot, ordinary)
    sent = requests.send(key, ordinary, BYSTANDER, TEAM)
    [told] = wait_until(lambda: requests.told(sent, before), what="the refusal")
    assert told.startswith(":no_entry: Only the escalating agent"), told  # (AGENT ids: "… agent (<@U…>) and admins")
    assert _log(bot, ordinary) == [*log, ("refused", BYSTANDER)]
    assert _state(bot, ordinary) == state
    assert not [c for c in bot.slack.calls("views.open")[before["views.open"] :] if c.args.get("trigger_id") == sent["trigger"]]
    assert not [c for c in bot.slack.calls("chat.postMessage")[before["chat.postMessage"] :] if c.args["channel"] != BYSTANDER]
    assert len(bot.slack.calls("chat.update")) == before["chat.update"]

    # A bystander on a security brief: exactly what an unknown ID gets, and the attempt is logged.
    before, state, log = _counts(bot), _state(bot, private), _log(bot, private)
    sent = requests.send(key, private, BYSTANDER, TEAM)
    [told] = wait_until(lambda: requests.told(sent, before), what="the refusal")
    unknown_before = _counts(bot)
    unknown = requests.send(key, private, BYSTANDER, TEAM, value="unknown")
    [told_unknown] = wait_until(lambda: requests.told(unknown, unknown_before), what="the unknown-id answer")
    assert told == told_unknown == NOT_FOUND
    assert _log(bot, private) == [*log, ("refused", BYSTANDER)]
    assert _state(bot, private) == state
    assert not [c for c in bot.slack.calls("chat.postMessage")[before["chat.postMessage"] :] if c.args["channel"] != BYSTANDER]

    # Another workspace replaying the ids: unknown there; nothing logged on the brief.
    for brief in (ordinary, private):
        before, state, log = _counts(bot), _state(bot, brief), _log(bot, brief)
        sent = requests.send(key, brief, STRANGER, OTHER_TEAM)
        assert wait_until(lambda: requests.told(sent, before), what="the refusal") == [NOT_FOUND]  # noqa: B023
        assert (_log(bot, brief), _state(bot, brief)) == (log, state)

    # The agent, with the same request: served (a modal, an entry in the log, or an answer that is no refusal).
    before, log = _counts(bot), _log(bot, private)
    sent = requests.send(key, private, AGENT, TEAM)

    def served():
        opened = [c for c in bot.slack.calls("views.open")[before["views.open"] :] if c.args.get("trigger_id") == sent["trigger"]]
        logged = [e for e in _log(bot, private)[len(log) :] if e[0] != "refused"]
        return opened or logged or requests.told(sent, before)

    wait_until(served, what="the agent's request to be served")
    assert not [t for t in requests.told(sent, before) if t == NOT_FOUND or t.startswith(":no_entry:")]
    assert ("refused", AGENT) not in _log(bot, private)


def test_an_admin_and_a_channel_member_are_involved_in_a_security_brief(fake_slack, tmp_path, clock):
    from tests.conftest import _run_bot

    admin, member = "U0ADMIN", "U0SECMEMBER"
    fake_slack.channel(CHANNELS[Destination.SECURITY][0]).members.append(member)
    for bot in _run_bot(fake_slack, f"sqlite:///{tmp_path / 'bot.db'}", clock, ESCALATION_ADMINS=admin):
        private = post_brief(bot, "high", Destination.SECURITY, summary="Tenant data visible to another tenant")
        for user in (admin, member):
            before = _counts(bot)
            bot.sender.command(command="/escalate", text="log ESC-1", user_id=user, team_id=TEAM, channel_id="C0SUPPORT")
            view = wait_until(lambda: bot.slack.calls("views.open")[before["views.open"] :], what="the log")[-1]  # noqa: B023
            assert view.args["view"]["callback_id"] == ids.VIEW_RUNNING_LOG and "ESC-1" in json.dumps(view.args["view"])
        assert ("refused", admin) not in _log(bot, private) and ("refused", member) not in _log(bot, private)


@pytest.mark.parametrize("key", GUARDED, ids=[f"{k}:{i}" for k, i in GUARDED])
def test_a_replayed_signed_request_has_one_effect(bot, key):
    """An attacker (or Slack) delivering the same signed click or submission three times within its
    five minutes: the first acts, the repeats do nothing at all."""
    import time

    private = post_brief(bot, "high", Destination.SECURITY, summary="Tenant data visible to another tenant")
    kind, id_ = key
    if id_ in PAIRED:
        post_brief(bot, "high", Destination.ENGINEERING, summary="Exports time out for Acme")  # the suggested brief
    r = _row(bot, private)
    if kind == VIEW:
        body, ctype = view_submission(_view(id_, private), VIEW_RECIPES[id_], user_id=AGENT, team_id=TEAM)
    else:
        from tests.support.slack_requests import block_actions

        action_id = f"{ids.ACTION_SNOOZE_PREFIX}30" if id_ == ids.ACTION_SNOOZE_PATTERN else id_
        value = str(_timers(bot, private)["checkin"].id if id_ == ids.ACTION_SNOOZE_PATTERN else private)
        value = f"{value}:{_partner(bot, private)}" if id_ in PAIRED else value
        message = bot.slack.message(r.channel_id, r.message_ts)
        body, ctype = block_actions(
            action_id, value=value, message=message, channel_id=r.channel_id, user_id=AGENT, team_id=TEAM, response_url=f"{bot.slack.hooks_url}{AGENT}/x"
        )
    before = _counts(bot)
    assert bot.sender.post(body, ctype).status_code == 200
    wait_until(lambda: _counts(bot) != before or len(_log(bot, private)) > 2, what="the first delivery's effect")
    time.sleep(0.3)  # let the first delivery finish everything it does
    after_first, log_first, state_first = _counts(bot), _log(bot, private), _state(bot, private)
    for _ in range(2):
        assert bot.sender.post(body, ctype).status_code == 200
    time.sleep(0.5)
    assert (_counts(bot), _log(bot, private), _state(bot, private)) == (after_first, log_first, state_first)

"""Typed text that a database cannot store (issue 16, item 4), sent through signed HTTP: a NUL and a
lone surrogate in a brief, a note and a thread reply are removed (NUL) or replaced (U+FFFD), and the
same text ends up stored on SQLite and PostgreSQL alike."""

from __future__ import annotations

from sqlmodel import select

from blocks import ids
from bot.domain.brief import Destination
from bot.slack.typed_text import clean, storable
from bot.storage import escalations, running_log
from bot.storage.models import Escalation
from tests.conftest import AGENT
from tests.e2e import escalate, response_json, wait_until
from tests.test_follow_through import ENGINEER, click, post_brief, row, submit_note

NUL_NARRATIVE = (
    "Since Tuesday exports of reports over 10,000 rows fail after 60 seconds with a gateway timeout.\x00 "
    "It started after the 2026-11-24 release and 12 customers reported it. \ud83d and growing."
)


def _stored(bot) -> list[Escalation]:
    with bot.db.session() as s:
        return list(s.exec(select(Escalation)))


def test_a_brief_with_a_nul_and_a_lone_surrogate_is_stored_and_posted_on_every_database(bot_any_db):
    bot = bot_any_db
    _view, response = escalate(bot, Destination.ENGINEERING, narrative=NUL_NARRATIVE, summary="Export\x00 times out")
    assert response.status_code == 200 and response_json(response).get("response_action") != "errors"
    [stored] = wait_until(lambda: [e for e in _stored(bot) if e.message_ts], what="the brief stored and posted")
    assert stored.summary == "Export times out"
    assert "\x00" not in stored.narrative and "timeout. It started" in stored.narrative and "\ufffd and growing" in stored.narrative
    assert "\x00" not in str(stored.brief)


def test_a_note_and_a_thread_reply_with_a_nul_are_logged_on_every_database(bot_any_db):
    bot = bot_any_db
    escalation_id = post_brief(bot, "high")
    click(bot, ids.ACTION_POST_UPDATE, escalation_id, user=ENGINEER)
    submit_note(bot, ids.VIEW_POST_UPDATE, "Asked the export team\x00 for an ETA", user=ENGINEER)
    r = row(bot, escalation_id)
    reply = {"type": "message", "channel": r.channel_id, "user": AGENT, "text": "Any news\x00?", "ts": "1800000000.000900", "thread_ts": r.message_ts}
    assert bot.sender.event(reply).status_code == 200

    def texts() -> list[str]:
        with bot.db.session() as s:
            return [e.text for e in running_log.log_entries(s, escalation_id)]

    wait_until(lambda: {"Asked the export team for an ETA", "Any news?"} <= set(texts()), what="the note and the reply logged")
    with bot.db.session() as s:
        assert (
            escalations.get_escalation(s, escalation_id).last_update_text == "Asked the export team for an ETA"
        )  # the team's update; the agent's own reply is not one


def test_clean_changes_only_what_no_database_stores():
    body = {"a": "plain ✓ \U0001f600", "b": ["x\x00y", {"c": "\udc00"}], "n": 3}
    assert clean(body) == {"a": "plain ✓ \U0001f600", "b": ["xy", {"c": "\ufffd"}], "n": 3}
    assert storable("ok") == "ok"


def test_socket_mode_payloads_are_cleaned_before_the_listeners():
    import asyncio

    from slack_bolt.request.async_request import AsyncBoltRequest
    from slack_bolt.response import BoltResponse

    from bot.slack.typed_text import StorableText

    body = {"type": "view_submission", "view": {"state": {"values": {"note": {"note": {"type": "plain_text_input", "value": "a\x00b\udfff"}}}}}}
    request = AsyncBoltRequest(mode="socket_mode", body=body)
    seen = {}

    async def listeners() -> BoltResponse:
        seen.update(request.body)
        return BoltResponse(status=200)

    asyncio.run(StorableText().async_process(req=request, resp=BoltResponse(status=404), next=listeners))
    assert seen["view"]["state"]["values"]["note"]["note"]["value"] == "ab\ufffd"

"""Every part of a long brief reaches its thread: a part Slack refuses is posted again by the tick, in
order and once, and the brief says which parts are still missing until they are all in."""

from __future__ import annotations

import json
from datetime import timedelta

from blocks.brief_message import BriefState, brief_message
from bot.domain.brief import Destination
from bot.domain.validation import validate_draft
from bot.storage import escalations
from tests.conftest import AGENT, CHANNELS, TEAM
from tests.factories import NOW, draft

ENG = CHANNELS[Destination.ENGINEERING][0]


def long_fields() -> dict:
    words = " ".join(f"word{i}" for i in range(520))  # about 3,000 characters per field
    fields = dict.fromkeys(("operational_effect", "narrative", "last_update", "expectation", "ask", "repro_observed", "repro_ruled_out", "logs"), words[:2990])
    fields["actions_taken"] = "\n".join(f"step {i} " + "x" * 60 + f" -> outcome {i}" for i in range(35))[:3000]
    fields["repro_steps"] = "\n".join(f"Click button {i} " + "y" * 70 for i in range(35))[:3000]
    return fields


def notice(blocks: list[dict]) -> str:
    return next(e["text"] for b in blocks if b["type"] == "context" for e in b["elements"] if "Continued in the thread" in e.get("text", ""))


def test_the_brief_says_which_parts_are_not_in_the_thread_yet():
    brief = validate_draft(draft(Destination.ENGINEERING, **long_fields()), now=NOW)
    total = len(brief_message(ref="ESC-4", brief=brief, agent_user_id=AGENT, escalation_id=4, today=NOW.date()).continuations)
    assert total >= 2

    def shown(missing: int) -> str:
        state = BriefState(parts_missing=missing)
        return notice(brief_message(ref="ESC-4", brief=brief, agent_user_id=AGENT, escalation_id=4, today=NOW.date(), state=state).blocks)

    assert shown(0) == f"Continued in the thread ({total} more parts)."
    assert shown(1).endswith(f"Part {total} of {total} not in the thread yet: being posted again.")
    assert shown(total).endswith(f"Parts 1–{total} of {total} not in the thread yet: being posted again.")


def _post_long(bot):
    brief = validate_draft(draft(Destination.ENGINEERING, now=bot.clock.now(), **long_fields()), now=bot.clock.now())
    return bot.services.escalations.escalate(team_id=TEAM, agent_user_id=AGENT, brief=brief, source_channel_id="C0SUPPORT")


def _parts(bot, ts: str) -> list[int]:
    """The parts in the brief's thread, in the order Slack received them (by their metadata)."""
    calls = [c for c in bot.slack.calls("chat.postMessage") if c.args.get("thread_ts") == ts and c.ok]
    metadata = [json.loads(c.args["metadata"]) if isinstance(c.args.get("metadata"), str) else c.args.get("metadata") or {} for c in calls]
    return [m["event_payload"]["part"] for m in metadata if m.get("event_type") == "escalation_brief_part"]


def _row(bot, escalation_id: int):
    with bot.db.session() as s:
        return escalations.get_escalation(s, escalation_id)


def test_a_refused_part_is_posted_again_by_the_tick_in_order_and_the_notice_goes(bot_any_db):
    bot = bot_any_db

    # Slack answers the first thread part with a 500, then with a 429 (Retry-After 120).
    def in_thread(args: dict) -> bool:
        return bool(args.get("thread_ts"))

    bot.slack.fail("chat.postMessage", status=500, match=in_thread)
    bot.slack.fail("chat.postMessage", status=429, headers={"Retry-After": "120"}, match=in_thread)
    delivery = _post_long(bot)
    assert delivery.posted
    r = _row(bot, delivery.escalation_id)
    total = r.parts_total
    assert total >= 2 and r.parts_posted == 0 and r.next_delivery_at is not None
    assert "not in the thread yet" in notice(bot.slack.message(ENG, r.message_ts)["blocks"])

    bot.clock.advance(timedelta(seconds=r.next_delivery_at.timestamp() - bot.clock.now().timestamp() + 1))
    bot.services.ticker.tick()  # the 429: nothing posted, and no thread sleeps through its Retry-After
    r = _row(bot, delivery.escalation_id)
    assert r.parts_posted == 0 and r.next_delivery_at >= bot.clock.now() + timedelta(seconds=119)
    bot.clock.advance(timedelta(seconds=121))
    assert bot.services.ticker.tick().completed == 1
    parts_seen = _parts(bot, r.message_ts)
    assert parts_seen == list(range(1, total + 1))  # each part once, in order
    r = _row(bot, delivery.escalation_id)
    assert (r.parts_posted, r.next_delivery_at) == (total, None)
    assert notice(bot.slack.message(ENG, r.message_ts)["blocks"]) == f"Continued in the thread ({total} more parts)."
    bot.clock.advance(timedelta(hours=1))
    bot.services.ticker.tick()
    assert _parts(bot, r.message_ts) == parts_seen  # nothing posted twice


def test_a_part_whose_answer_was_lost_is_found_in_the_thread_not_posted_twice(bot):
    def in_thread(args: dict) -> bool:
        return bool(args.get("thread_ts"))

    # Slack takes the second part but the answer never comes back in time (the client times out).
    bot.slack.fail("chat.postMessage", match=lambda args: in_thread(args) and "(2/" in args.get("text", ""), delay=15, accept_first=True)
    delivery = _post_long(bot)
    r = _row(bot, delivery.escalation_id)
    assert r.parts_posted == 1
    bot.clock.advance(timedelta(minutes=20))
    bot.services.ticker.tick()
    r = _row(bot, delivery.escalation_id)
    assert r.parts_posted == r.parts_total
    in_slack = [
        m.get("metadata", {}).get("event_payload", {}).get("part")
        for m in bot.slack.messages(ENG)
        if m.get("thread_ts") == r.message_ts and m.get("ts") != r.message_ts
    ]
    assert sorted(in_slack) == list(range(1, r.parts_total + 1))

"""The running log shows the bot's own markup as Slack does, and what people typed as typed (issue 16,
item 5), opened through a signed click as the agent would."""

from __future__ import annotations

import json

from blocks import ids
from bot.domain.brief import Destination
from tests.conftest import AGENT, CHANNELS
from tests.e2e import wait_until
from tests.test_follow_through import ENGINEER, click, log_kinds, post_brief, row

ENG = CHANNELS[Destination.ENGINEERING][0]
TYPED = "See <https://evil.example|our docs> <!channel> & ping <@U0EVIL>"


def _log_view(bot, escalation_id: int) -> str:
    click(bot, ids.ACTION_VIEW_LOG, escalation_id, user=AGENT)
    call = wait_until(lambda: [c for c in bot.slack.calls("views.open") if c.args["view"]["callback_id"] == ids.VIEW_RUNNING_LOG], what="log view")[-1]
    return "\n".join(b["text"]["text"] for b in call.args["view"]["blocks"] if b["type"] == "section")


def test_the_bots_mentions_show_as_slack_shows_them_and_typed_text_stays_escaped(bot):
    escalation_id = post_brief(bot, "high")
    click(bot, ids.ACTION_ACKNOWLEDGE, escalation_id, user=ENGINEER)
    r = row(bot, escalation_id)
    reply = {"type": "message", "channel": r.channel_id, "user": ENGINEER, "text": TYPED, "ts": "1800000000.000901", "thread_ts": r.message_ts}
    assert bot.sender.event(reply).status_code == 200
    wait_until(lambda: {"acknowledged", "thread_reply"} <= set(log_kinds(bot, escalation_id)), what="ack and reply logged")

    text = _log_view(bot, escalation_id)
    assert f"Posted to <#{ENG}>" in text and "&lt;#" not in text.split("thread reply")[0]
    assert f"Acknowledged by <@{ENGINEER}> via button" in text
    assert "See &lt;https://evil.example|our docs&gt; &lt;!channel&gt; &amp; ping &lt;@U0EVIL&gt;" in text
    assert "<!channel>" not in text and "<https://evil" not in json.dumps(text)

"""The App Home tab and /escalate list (pure: pages of rows in, Block Kit out).

Each section shows one page of rows (two blocks a row) with Previous/Next buttons, so the view stays
far below Slack's 100-block limit however many briefs are open: 2 sections × (header, context,
PAGE_SIZE × 2, navigation) + 3 ≈ 50 blocks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from blocks import ids
from blocks.complete_brief import complete_button
from blocks.kit import Blocks, Labelled, View
from blocks.stats import duration
from blocks.text import archive_link, escape, plain, truncate
from bot.domain.brief import Destination, Severity, format_ref
from bot.domain.status import EscalationStatus
from bot.domain.worklists import Page, Row

PAGE_SIZE = 10
POST_NOW_MENTION = (
    ":rotating_light: Service down or data at risk? Pick *Critical* and tick *Post now*: the team sees the brief at once, "
    "and you complete it later, within 30 min by default (*Complete the brief* on the brief, in your DM or below)."
)
MOVE_MENTION = (
    ":twisted_rightwards_arrows: Not your team's? *Move* on the brief sends it to the right team with a reason: "
    "its log, timers and links go with it, and the list below follows it."
)
MINE, TEAM = ids.HOME_MINE, ids.HOME_TEAM  # the two lists (ids: they are in block ids and button values)
_SEVERITY_ICON = {"critical": ":red_circle:", "high": ":large_orange_circle:", "medium": ":large_yellow_circle:"}


def zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except Exception:  # noqa: BLE001 - an unknown zone shows UTC
        return ZoneInfo("UTC")


def local(when: datetime, tz: str) -> str:
    at = when.astimezone(zone(tz))
    return f"{at.strftime('%a %d %b %H:%M')} {at.tzname()}"


def _label(kind: Callable[[str], Labelled], value: str) -> str:
    try:
        return kind(value).label
    except ValueError:
        return value


def row_lines(row: Row, *, now: datetime, tz: str) -> str:
    ref = format_ref(row.number)
    link = f"<{archive_link(row.channel_id, row.message_ts)}|{ref}>" if row.message_ts else ref
    head = f"{':rotating_light: *OVERDUE* ' if row.overdue else ''}*{link}* {escape(truncate(row.summary, 150))}"
    if row.incomplete:
        head += " · :construction: *Incomplete*"
    facts = " · ".join(
        [
            f"{_SEVERITY_ICON.get(row.severity, '')} {_label(Severity, row.severity)}".strip(),
            _label(Destination, row.destination),
            _label(EscalationStatus, row.status),
            f"age {duration((now - row.since).total_seconds())}",
        ]
    )
    if row.next_checkin_at is None:
        checkin = "no check-in due"
    elif row.next_checkin_at < now:
        checkin = f"check-in *overdue* since {local(row.next_checkin_at, tz)}"
    else:
        checkin = f"next check-in {local(row.next_checkin_at, tz)}"
    left = (row.deadline_at - now).total_seconds()
    deadline = f"deadline *passed {duration(-left)} ago*" if left < 0 else f"deadline in {duration(left)} ({local(row.deadline_at, tz)})"
    return "\n".join([head, facts, f"{checkin} · {deadline}"])


def _row_blocks(row: Row, section: str, *, now: datetime, tz: str) -> Blocks:
    value = str(row.escalation_id)
    buttons: Blocks = []
    if row.message_ts:
        buttons.append(
            {
                "type": "button",
                "action_id": ids.ACTION_HOME_OPEN,
                "text": plain("Open brief"),
                "url": archive_link(row.channel_id, row.message_ts),
                "value": value,
            }
        )
    if section == MINE and row.status in (EscalationStatus.OPEN.value, EscalationStatus.ACKNOWLEDGED.value, EscalationStatus.FIXED_PENDING.value):
        buttons.append(
            {
                "type": "button",
                "action_id": ids.ACTION_LOG_CHECKIN,
                "text": plain("Log check-in"),
                "value": value,
                **({"style": "primary"} if row.overdue else {}),
            }
        )
    if section == MINE and row.incomplete:
        buttons.append(complete_button(row.escalation_id))
    if section == TEAM and row.status == EscalationStatus.OPEN.value:
        buttons.append({"type": "button", "action_id": ids.ACTION_ACKNOWLEDGE, "text": plain("Acknowledge"), "value": value, "style": "primary"})
    buttons.append({"type": "button", "action_id": ids.ACTION_VIEW_LOG, "text": plain("View log"), "value": value})
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": row_lines(row, now=now, tz=tz)}},
        {"type": "actions", "block_id": f"{ids.BLOCK_HOME_ROW_PREFIX}{section}_{row.escalation_id}", "elements": buttons},
    ]


def _section(title: str, empty: str, page: Page, section: str, offsets: dict[str, int], *, now: datetime, tz: str) -> Blocks:
    overdue = f", {page.overdue} overdue" if page.overdue else ""
    blocks: Blocks = [
        {"type": "header", "text": plain(f"{title} ({page.total} open{overdue})")},
    ]
    if not page.rows:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": empty}]})
        return blocks
    first, last = page.offset + 1, page.offset + len(page.rows)
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"{first}–{last} of {page.total}, overdue first, then the nearest deadline"}]})
    for row in page.rows:
        blocks.extend(_row_blocks(row, section, now=now, tz=tz))
    nav = []
    if page.offset > 0:
        nav.append(
            {
                "type": "button",
                "action_id": ids.ACTION_HOME_PREVIOUS,
                "text": plain("← Previous"),
                "value": json.dumps({**offsets, section: max(0, page.offset - page.limit)}),
            }
        )
    if page.has_more:
        nav.append(
            {
                "type": "button",
                "action_id": ids.ACTION_HOME_NEXT,
                "text": plain(f"Show more ({page.total - last} more)"),
                "value": json.dumps({**offsets, section: page.offset + page.limit}),
            }
        )
    if nav:
        blocks.append({"type": "actions", "block_id": f"{ids.BLOCK_HOME_NAV_PREFIX}{section}", "elements": nav})
    return blocks


def home_view(*, mine: Page, team: Page, now: datetime, tz: str, draft: Blocks | None = None) -> View:
    """`draft`: the viewer's own brief draft ("You have a draft from 14:02 — Continue", blocks.drafts), if any."""
    offsets = {MINE: mine.offset, TEAM: team.offset}
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Escalation Brief* · type `/escalate` to write a brief, `/escalate help` for every command."}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": POST_NOW_MENTION}]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": MOVE_MENTION}]},
        *(draft or []),
        *_section("My escalations", "Nothing open that you escalated.", mine, MINE, offsets, now=now, tz=tz),
        {"type": "divider"},
        *_section("Waiting on my team", "Nothing waiting on you or your channels.", team, TEAM, offsets, now=now, tz=tz),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Times in {escape(tz)}. Updated {local(now, tz)}."}]},
    ]
    return {"type": "home", "callback_id": "home", "private_metadata": json.dumps(offsets), "blocks": blocks}


def list_blocks(page: Page, *, now: datetime, tz: str) -> tuple[str, Blocks]:
    """/escalate list: my open briefs, as an ephemeral message (one page; the Home tab has the rest)."""
    if not page.rows:
        text = "You have no open escalations."
        return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    overdue = f", {page.overdue} overdue" if page.overdue else ""
    text = f"Your open escalations: {page.total}{overdue}"
    blocks: Blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{text}*, overdue first:"}}]
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": row_lines(row, now=now, tz=tz)}} for row in page.rows]
    if page.has_more:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"{page.total - len(page.rows)} more in the app's Home tab."}]})
    return text, blocks

"""Text helpers shared by every renderer: escaping, splitting long text, Slack date tokens."""

from __future__ import annotations

from datetime import UTC, datetime

from blocks.kit import Block
from bot.domain.brief import message_link

SECTION_TEXT_MAX = 3000
FIELD_TEXT_MAX = 2000


def plain(text: str, emoji: bool = True) -> Block:
    """A plain_text object (labels, titles, buttons, options)."""
    return {"type": "plain_text", "text": text, "emoji": emoji}


def escape(text: str) -> str:
    """Make typed text inert in mrkdwn: `<!channel>`, `<@U1>` and `<http://x|disguised>` show as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def chunks(text: str, limit: int) -> list[str]:
    """Split text into pieces of at most `limit` characters, preferring line then word boundaries.

    Never cuts text away: joining the pieces (with the boundary whitespace) gives it all back.
    """
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = rest.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        # Don't split an escape sequence such as &amp; in two.
        amp = rest.rfind("&", max(0, cut - 5), cut)
        if amp != -1 and ";" in rest[amp : cut + 5] and rest.find(";", amp) >= cut:
            cut = amp
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def slack_date(when: datetime, fmt: str = "{date_short_pretty} at {time}") -> str:
    """A date Slack shows in each reader's own time zone, with a UTC fallback for old clients."""
    when = when.astimezone(UTC)
    fallback = when.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(when.timestamp())}^{fmt}|{fallback}>"


def truncate(text: str, limit: int) -> str:
    """For labels and option text only (never for what the agent wrote)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def archive_link(channel_id: str, ts: str) -> str:
    """A link to a message that Slack resolves in the reader's workspace (no API call needed)."""
    return message_link(channel_id, ts)

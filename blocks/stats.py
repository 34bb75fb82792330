"""/escalate stats and the weekly digest as Block Kit (pure: figures in, blocks out).

Only totals and pattern lines appear: security briefs count in the totals, and the figures given
here never name one (bot.storage.stats leaves them out of the patterns).
"""

from __future__ import annotations

from collections.abc import Callable

from blocks.kit import Blocks, Labelled
from blocks.text import escape, slack_date, truncate
from bot.domain.brief import Destination, Severity
from bot.domain.product_areas import OTHER
from bot.domain.stats import Figures
from bot.domain.status import EscalationStatus

AREAS_SHOWN = 15  # product areas on the line, most briefs first (a section holds 3,000 characters)
DEFINITIONS = (
    "On time: an update made before the bot had to nudge for it (customer updates: before the end of the "
    "severity's range). Medians run from posting. Security briefs count in totals only."
)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    minutes = int(round(seconds / 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def percent(share: float | None) -> str:
    return "–" if share is None else f"{round(share * 100)}%"


def _label(kind: Callable[[str], Labelled], value: str) -> str:
    try:
        return kind(value).label
    except ValueError:
        return value.replace("_", " ").capitalize()


def _breakdown(counts: dict[str, int], kind: Callable[[str], Labelled], order: list[str], previous: dict[str, int] | None) -> str:
    keys = [k for k in order if k in counts] + sorted(k for k in counts if k not in order)
    if previous is not None:
        keys += [k for k in order if k in previous and k not in counts]
    if not keys:
        return "none"
    parts = []
    for key in keys:
        text = f"{_label(kind, key)} {counts.get(key, 0)}"
        if previous is not None:
            text += f" ({_delta(counts.get(key, 0), previous.get(key, 0))})"
        parts.append(text)
    return " · ".join(parts)


def _areas_line(counts: dict[str, int], previous: dict[str, int] | None) -> list[str]:
    """ "*By product area:* Billing 4 · Mobile app 2 · Other 1": most first; none when no brief has one."""
    if not counts and not previous:
        return []
    before = previous or {}
    keys = sorted(set(counts) | set(before), key=lambda k: (k == OTHER, -counts.get(k, 0), k.casefold()))[:AREAS_SHOWN]
    parts = [f"{escape(k)} {counts.get(k, 0)}" + (f" ({_delta(counts.get(k, 0), before.get(k, 0))})" if previous is not None else "") for k in keys]
    more = len(set(counts) | set(before)) - len(keys)
    return ["*By product area:* " + " · ".join(parts) + (f" · {more} more" if more > 0 else "")]


def _delta(now: int, before: int) -> str:
    diff = now - before
    return "±0" if diff == 0 else f"{diff:+d}"


def _versus(current: str, before: str | None) -> str:
    return current if before is None else f"{current} _(was {before})_"


def stats_blocks(figures: Figures, *, title: str, previous: Figures | None = None) -> tuple[str, Blocks]:
    """The figures of one window; with `previous`, each figure is set against the window before it."""
    prev = previous
    text = f"{title}: {figures.total} escalation{'s' if figures.total != 1 else ''}"
    period = f"{slack_date(figures.since, '{date_short}')} – {slack_date(figures.until, '{date_short} {time}')}"
    fields = [
        ("Escalations", _versus(str(figures.total), str(prev.total) if prev else None)),
        ("Deadline breaches", _versus(str(figures.deadline_breaches), str(prev.deadline_breaches) if prev else None)),
        (
            "Median time to acknowledge",
            _versus(f"{duration(figures.median_ack_seconds)} ({figures.acknowledged} acknowledged)", duration(prev.median_ack_seconds) if prev else None),
        ),
        (
            "Median time to resolve",
            _versus(f"{duration(figures.median_resolve_seconds)} ({figures.resolved} resolved)", duration(prev.median_resolve_seconds) if prev else None),
        ),
        (
            "Check-ins on time",
            _versus(
                f"{percent(figures.checkin_share)} ({figures.checkins_on_time} on time, {figures.checkins_missed} missed)",
                percent(prev.checkin_share) if prev else None,
            ),
        ),
        (
            "Customer updates on time",
            _versus(
                f"{percent(figures.customer_update_share)} ({figures.customer_updates_on_time} on time, {figures.customer_updates_missed} missed)",
                percent(prev.customer_update_share) if prev else None,
            ),
        ),
    ]
    blocks: Blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": truncate(title, 150)}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": period + (" · compared with the week before" if prev else "")}]},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{name}*\n{value}"} for name, value in fields]},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "\n".join(
                    [
                        "*By destination:* "
                        + _breakdown(figures.by_destination, Destination, [d.value for d in Destination], prev.by_destination if prev else None),
                        "*By severity:* " + _breakdown(figures.by_severity, Severity, [s.value for s in Severity], prev.by_severity if prev else None),
                        "*By status:* "
                        + _breakdown(figures.by_status, EscalationStatus, [s.value for s in EscalationStatus], prev.by_status if prev else None),
                        *_areas_line(figures.by_product_area, prev.by_product_area if prev else None),
                    ]
                ),
            },
        },
    ]
    if figures.patterns:
        lines = []
        for p in figures.patterns:
            flags = ", ".join(f for f, on in (("trending up", p.trending_up), ("resurfaced", p.resurfaced)) if on)
            related = f" (with {', '.join(p.related[:6])})" if p.related else ""
            lines.append(
                f"• *{p.ref}* {escape(truncate(p.summary, 120))}: {p.independent_reports} independent report{'s' if p.independent_reports != 1 else ''}{related}"
                + (f", {flags}" if flags else "")
            )
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "*Top recurring patterns*\n" + "\n".join(lines)}})
    else:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "*Top recurring patterns*\nNone flagged."}})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": DEFINITIONS}]})
    return text, blocks

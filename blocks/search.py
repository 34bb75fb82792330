"""/escalate search results, as Block Kit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from blocks.kit import Blocks
from blocks.text import archive_link, escape, slack_date, truncate


class SearchHit(Protocol):
    """What a search result shows (bot.usecases.search.Hit has it)."""

    @property
    def ref(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def destination(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def resolution(self) -> str | None: ...
    @property
    def lessons(self) -> str | None: ...
    @property
    def channel_id(self) -> str: ...
    @property
    def message_ts(self) -> str | None: ...
    @property
    def product_area(self) -> str | None: ...


def _status(status: str) -> str:
    return status.replace("_", " ").capitalize()


def search_results(words: str, hits: Sequence[SearchHit]) -> tuple[str, Blocks]:
    if not hits:
        text = f"No past escalations match “{escape(truncate(words, 100))}”."
        return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    text = f"{len(hits)} past escalation{'s' if len(hits) != 1 else ''} for “{escape(truncate(words, 100))}”, best match first:"
    blocks: Blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    for hit in hits:
        link = f"<{archive_link(hit.channel_id, hit.message_ts)}|{hit.ref}>" if hit.message_ts else hit.ref
        lines = [
            f"*{link}* {escape(truncate(hit.summary, 150))}",
            f"{hit.severity.capitalize()} · {hit.destination.replace('_', ' ').title()} · {_status(hit.status)} · {slack_date(hit.created_at, '{date_short}')}"
            + (f" · {escape(hit.product_area)}" if hit.product_area else ""),
        ]
        if hit.resolution:
            lines.append(f"_Resolution:_ {escape(truncate(hit.resolution, 600))}")
        if hit.lessons:
            lines.append(f"_Lessons learned:_ {escape(truncate(hit.lessons, 600))}")
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}})
    return text, blocks[:50]

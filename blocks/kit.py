"""The shapes the builders hand out: Block Kit payloads as JSON-ready dicts, and the labelled enums they show."""

from __future__ import annotations

from typing import Any, Protocol, TypeAlias

Block: TypeAlias = dict[str, Any]  # one Block Kit object: a block, an element, a text object or an option
Blocks: TypeAlias = list[Block]
View: TypeAlias = dict[str, Any]  # a modal or Home tab view, as views.open, views.update and views.publish take it


class Labelled(Protocol):
    """A member of one of the domain's enums: its stored value and the label people read."""

    @property
    def value(self) -> str: ...

    @property
    def label(self) -> str: ...

"""Product areas: the list an admin configures (`ESCALATION_PRODUCT_AREAS`), plus "Other".

The brief form offers them as a select; the choice is kept on the brief and in
`escalation.product_area`, where search (`area:Billing`), stats and pattern matching read it.
No areas configured: the form has no product-area field and briefs have no area.
"""

from __future__ import annotations

import re

OTHER = "Other"  # always offered after the configured areas: a brief that fits none of them
AREA_MAX = 40  # characters: a select option shows 75, the column holds 64, the list travels in the modal's metadata
AREAS_MAX = 50  # a select holds 100 options; the list travels in private_metadata (3,000 characters)
_KEY = re.compile(r"[\W_]+")


class ProductAreasError(ValueError):
    """The setting cannot be read; the message says which area and why."""


def parse_areas(text: str | None) -> tuple[str, ...]:
    """`Billing, Mobile app, SSO` → ("Billing", "Mobile app", "SSO"): trimmed, duplicates (any case)
    and "Other" (always added by the form) left out, in the admin's order."""
    areas: list[str] = []
    seen: set[str] = set()
    for part in (text or "").split(","):
        area = " ".join(part.split())
        if not area or area.casefold() in seen or area.casefold() == OTHER.casefold():
            continue
        if len(area) > AREA_MAX:
            raise ProductAreasError(f"{area[:20]!r}… is longer than {AREA_MAX} characters")
        seen.add(area.casefold())
        areas.append(area)
    if len(areas) > AREAS_MAX:
        raise ProductAreasError(f"{len(areas)} areas is more than the form can offer ({AREAS_MAX})")
    return tuple(areas)


def choices(areas: tuple[str, ...]) -> tuple[str, ...]:
    """What the form offers: the configured areas, then "Other"; nothing when none are configured."""
    return (*areas, OTHER) if areas else ()


def read_area(raw: str | None, areas: tuple[str, ...] | None = None) -> str | None:
    """The area as stored: one of `areas` in its configured spelling (any case typed), "Other", or
    None. `areas` None: any short plain value is kept (the form's select already limits it)."""
    value = " ".join((raw or "").split())
    if not value:
        return None
    if value.casefold() == OTHER.casefold():
        return OTHER
    if areas is not None:
        return next((a for a in areas if a.casefold() == value.casefold()), None)
    return value if len(value) <= AREA_MAX and value.isprintable() else None


def area_key(text: str) -> str:
    """How `area:` in a search names an area: case, spaces and punctuation aside (`area:mobile-app`)."""
    return _KEY.sub("", text.casefold())


def find_area(text: str, areas: tuple[str, ...]) -> str | None:
    """The configured area (or "Other") that `area:TEXT` names, or None."""
    key = area_key(text)
    return next((a for a in choices(areas) if area_key(a) == key), None) if key else None


def matching_hint(area: str | None) -> str | None:
    """The area pattern matching may compare: "Other" says nothing about where the problem is."""
    return None if area in (None, OTHER) else area


_FILTER = re.compile(r'(?<!\S)area:(?:"([^"]*)"|“([^”]*)”|(\S*))', re.I)


def split_area_filter(words: str) -> tuple[str | None, str]:
    """`/escalate search area:Billing export` → ("Billing", "export"); `area:"Mobile app"` for an area
    with spaces (or `area:mobile-app`). (None, words) when there is no `area:`."""
    match = _FILTER.search(words)
    if match is None:
        return None, words
    area = next((g for g in match.groups() if g is not None), "").strip()
    rest = " ".join((words[: match.start()] + " " + words[match.end() :]).split())
    return area, rest


def same_area(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and area_key(a) == area_key(b)

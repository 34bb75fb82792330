"""Moving a brief to another team: what the move form starts from, and the brief it produces.

Pure. The brief keeps everything the agent wrote; only its destination and that destination's
package change. The package is validated by the brief form's own rules (bot.domain.validation), as of
the moment the brief was filed (its hard deadline was in the future then, and still counts as given).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.domain.brief import Brief, Destination
from bot.domain.validation import PACKAGE_FIELDS, PACKAGE_REQUIRED, BriefInvalid, draft_of, validate_draft

REASON_MAX = 1000
_PACKAGES = {
    Destination.ENGINEERING: "engineering",
    Destination.PRODUCT: "product",
    Destination.SECURITY: "security",
    Destination.LEADERSHIP: "leadership",
    Destination.SUPPORT_L2: "support_l2",
}


def form_fields(target: Destination) -> tuple[str, ...]:
    """The brief fields the move form asks for: the target's package, and what it requires beyond it
    (Leadership needs the revenue exposure)."""
    extra = tuple(f for f in PACKAGE_REQUIRED[target] if f not in PACKAGE_FIELDS[target])
    return extra + PACKAGE_FIELDS[target]


def prefill(brief: Brief, target: Destination) -> dict[str, Any]:
    """The move form's starting values for `target`: what the brief already says in those fields, else
    the closest thing the brief has (the narrative as the use case or observations, the ask as the
    decision needed…), for the mover to correct rather than retype."""
    have = draft_of(brief)
    closest = {
        "customer_context": brief.impact.operational_effect,
        "use_case": brief.narrative,
        "observations": brief.narrative,
        "affected_parties": brief.impact.affected_names,
        "business_context": brief.narrative,
        "decision_needed": brief.request.ask,
    }
    values = {f: have.get(f, closest.get(f)) for f in form_fields(target)}
    return {k: v for k, v in values.items() if v not in (None, "")}


@dataclass(frozen=True)
class MovedBrief:
    brief: Brief
    reason: str


def moved_brief(brief: Brief, target: Destination, typed: dict[str, Any], reason: str, *, filed_at: datetime) -> MovedBrief | dict[str, str]:
    """The brief as `target` gets it, or field name → error (the form's own messages).

    `typed`: the move form's values for `form_fields(target)`; every other field stays as filed.
    """
    errors: dict[str, str] = {}
    if getattr(brief, "missing", ()):  # posted at once (*Post now*): the new team gets it whole
        return {"destination": "This brief is still incomplete: complete it first, then move it with the whole package."}
    reason = reason.strip()
    if not reason:
        errors["reason"] = "Say why it belongs with the other team: both teams read it."
    elif len(reason) > REASON_MAX:
        errors["reason"] = f"Keep the reason under {REASON_MAX} characters."
    asked = set(form_fields(target))
    draft = {k: v for k, v in draft_of(brief).items() if k not in asked and k not in _package_fields()}
    draft.update({k: v for k, v in typed.items() if k in asked})
    draft["destination"] = target.value
    filed = filed_at if filed_at.tzinfo else filed_at.replace(tzinfo=UTC)
    try:
        checked = validate_draft(draft, now=filed)
    except BriefInvalid as invalid:
        errors.update({k: v for k, v in invalid.errors.items() if k in asked} or {"destination": next(iter(invalid.errors.values()))})
        return errors
    if errors:
        return errors
    update: dict[str, Any] = dict.fromkeys(_PACKAGES.values())
    update[_PACKAGES[target]] = getattr(checked, _PACKAGES[target])
    update["destination"] = target
    if "arr_exposed" in asked:
        arr: dict[str, Any] = {"arr_exposed": checked.impact.arr_exposed}
        if "arr_exposed_note" in type(checked.impact).model_fields:  # the words typed beside the amount
            arr["arr_exposed_note"] = checked.impact.arr_exposed_note
        update["impact"] = brief.impact.model_copy(update=arr)
    return MovedBrief(brief.model_copy(update=update), reason)


def _package_fields() -> set[str]:
    return {f for fields in PACKAGE_FIELDS.values() for f in fields}

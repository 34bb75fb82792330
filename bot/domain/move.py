"""Moving a brief to another team: what the move form starts from, and the brief it produces.

Pure. The brief keeps everything the agent wrote; only its destination and that destination's
package change. The package is validated by the brief form's own rules (bot.domain.validation), as of
the moment the brief was filed (its hard deadline was in the future then, and still counts as given).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from bot.domain.brief import Brief, Destination, Money
from bot.domain.validation import PACKAGE_FIELDS, PACKAGE_REQUIRED, BriefInvalid, validate_draft

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


def _value(member: Enum | None) -> str | None:
    return str(member.value) if member is not None else None


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _money(value: Money | None) -> str | None:
    return f"{value.amount} {value.currency}" if value is not None else None


def draft_of(brief: Brief) -> dict[str, Any]:
    """The brief as the form's raw values (bot.domain.validation.Draft), so it validates again as it is."""
    impact, comms, request = brief.impact, brief.communication, brief.request
    draft: dict[str, Any] = {
        "destination": brief.destination.value,
        "severity": brief.severity.value,
        "summary": brief.summary,
        "affected_customers": str(impact.affected_customers),
        "affected_names": impact.affected_names,
        "growth": _value(impact.growth),
        "depth": _value(impact.depth),
        "operational_effect": impact.operational_effect,
        "since": _iso(impact.since),
        "critical_when": impact.critical_when,
        "arr_exposed": _money(impact.arr_exposed),
        "pipeline_at_risk": _money(impact.pipeline_at_risk),
        "reputation": _value(impact.reputation),
        "reference_account": impact.reference_account,
        "sla_position": _value(impact.sla_position),
        "penalties": impact.penalties,
        "narrative": brief.narrative,
        "actions_taken": "\n".join(f"{a.what} -> {a.outcome}" for a in brief.actions_taken),
        "last_update_on": _iso(comms.last_update_on),
        "last_update": comms.last_update,
        "expectation": comms.expectation,
        "escalation_risk": _value(comms.escalation_risk),
        "request_kind": _value(request.kind),
        "ask": request.ask,
        "deadline": int(request.deadline.timestamp()),
        "references": "\n".join(brief.references) or None,
        "product_area": getattr(brief, "product_area", None),
    }
    if brief.engineering is not None:
        eng, repro = brief.engineering, brief.engineering.reproduction
        draft.update(
            eng_kind=_value(eng.kind),
            repro_baseline=repro.baseline,
            repro_steps="\n".join(repro.steps) or None,
            repro_expected=repro.expected,
            repro_observed=repro.observed,
            repro_environment=repro.environment,
            repro_frequency=_value(repro.frequency),
            repro_ruled_out=repro.ruled_out,
            logs=eng.logs,
            timeline_commitments=eng.timeline_commitments,
        )
    if brief.product is not None:
        draft.update(brief.product.model_dump())
    if brief.security is not None:
        draft.update(observations=brief.security.observations, affected_parties=brief.security.affected_parties)
        draft.update(containment=brief.security.containment, urgency=_value(brief.security.urgency))
    if brief.leadership is not None:
        draft.update(brief.leadership.model_dump())
    if brief.support_l2 is not None:
        draft.update(brief.support_l2.model_dump())
    return {k: v for k, v in draft.items() if v is not None}


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

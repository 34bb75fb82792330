"""From what the agent typed (a `Draft` of raw values) to a valid `Brief`, or errors per field.

The field names of `Draft` are the single vocabulary shared by the modal (its block ids), this
validator (its error keys) and the tests, so an error always lands on the field that caused it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.domain.brief import (
    ActionTaken,
    Brief,
    BusinessImpact,
    CustomerCommunication,
    Depth,
    Destination,
    EngineeringKind,
    EngineeringPackage,
    Frequency,
    Growth,
    LeadershipPackage,
    Likelihood,
    Money,
    ProductPackage,
    Reproduction,
    ReputationRisk,
    Request,
    RequestKind,
    SecurityPackage,
    Severity,
    SlaPosition,
    SupportL2Package,
    Urgency,
)
from bot.domain.product_areas import read_area
from bot.domain.quantities import QuantityError, contains_number, read_count, read_money

SUMMARY_MAX = 150
TEXT_MAX = 3000  # Slack's plain_text_input ceiling; the parser enforces it too, whatever the client sent.
DEADLINE_MIN_LEAD = timedelta(minutes=5)


class Draft(BaseModel):
    """Raw modal values, every one optional: validation decides what is required."""

    model_config = ConfigDict(extra="ignore")

    destination: str | None = None
    severity: str | None = None
    summary: str | None = None
    product_area: str | None = None  # the form's select (shown only when ESCALATION_PRODUCT_AREAS is set)
    # Business impact
    affected_customers: str | None = None
    affected_names: str | None = None
    growth: str | None = None
    depth: str | None = None
    operational_effect: str | None = None
    since: str | None = None  # YYYY-MM-DD
    critical_when: str | None = None
    arr_exposed: str | None = None
    pipeline_at_risk: str | None = None
    reputation: str | None = None
    reference_account: bool = False
    sla_position: str | None = None
    penalties: str | None = None
    # Narrative and actions
    narrative: str | None = None
    actions_taken: str | None = None
    # Customer communication
    last_update_on: str | None = None  # YYYY-MM-DD
    last_update: str | None = None
    expectation: str | None = None
    escalation_risk: str | None = None
    # Request
    request_kind: str | None = None
    ask: str | None = None
    deadline: int | None = None  # Unix seconds from Slack's datetimepicker
    references: str | None = None
    # Engineering
    eng_kind: str | None = None
    repro_baseline: str | None = None
    repro_steps: str | None = None
    repro_expected: str | None = None
    repro_observed: str | None = None
    repro_environment: str | None = None
    repro_frequency: str | None = None
    repro_ruled_out: str | None = None
    logs: str | None = None
    timeline_commitments: str | None = None
    # Product
    use_case: str | None = None
    request_frequency: str | None = None
    competitive_context: str | None = None
    # Security
    observations: str | None = None
    affected_parties: str | None = None
    containment: str | None = None
    urgency: str | None = None
    # Leadership
    business_context: str | None = None
    decision_needed: str | None = None
    # Support L2
    customer_context: str | None = None
    # *Post now, complete within 30 min* (Critical, or ESCALATION_POST_NOW_SEVERITIES): only POST_NOW_REQUIRED now
    post_now: bool = False


FIELDS = tuple(Draft.model_fields)

# Required for every destination.
COMMON_REQUIRED = (
    "destination",
    "severity",
    "summary",
    "affected_customers",
    "depth",
    "operational_effect",
    "since",
    "sla_position",
    "narrative",
    "actions_taken",
    "last_update_on",
    "last_update",
    "expectation",
    "request_kind",
    "ask",
    "deadline",
)

# The method's package contents, per destination: what the receiving team cannot work without.
PACKAGE_REQUIRED: dict[Destination, tuple[str, ...]] = {
    Destination.SUPPORT_L2: ("customer_context",),
    Destination.ENGINEERING: ("eng_kind",),
    Destination.PRODUCT: ("use_case", "request_frequency"),
    Destination.SECURITY: ("observations", "affected_parties", "containment", "urgency"),
    Destination.LEADERSHIP: ("business_context", "decision_needed", "arr_exposed"),
}
DEFECT_REQUIRED = ("repro_steps", "repro_expected", "repro_observed")
# What a brief posted at once must have; the rest of required_fields() is due within 30 minutes.
POST_NOW_REQUIRED = ("destination", "severity", "summary", "affected_customers", "ask", "deadline")
POST_NOW_DEFAULT = frozenset({Severity.CRITICAL})

# Which optional fields each destination's modal shows, beyond the common ones.
PACKAGE_FIELDS: dict[Destination, tuple[str, ...]] = {
    Destination.SUPPORT_L2: ("customer_context",),
    Destination.ENGINEERING: (
        "eng_kind",
        "repro_baseline",
        "repro_steps",
        "repro_expected",
        "repro_observed",
        "repro_environment",
        "repro_frequency",
        "repro_ruled_out",
        "logs",
        "timeline_commitments",
    ),
    Destination.PRODUCT: ("use_case", "request_frequency", "competitive_context"),
    Destination.SECURITY: ("observations", "affected_parties", "containment", "urgency"),
    Destination.LEADERSHIP: ("business_context", "decision_needed"),
}


class BriefInvalid(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def required_fields(destination: Destination | None, eng_kind: str | None = None, *, post_now: bool = False) -> set[str]:
    if post_now:
        return set(POST_NOW_REQUIRED)
    fields = set(COMMON_REQUIRED)
    if destination is not None:
        fields.update(PACKAGE_REQUIRED[destination])
        if destination is Destination.ENGINEERING and eng_kind in (None, EngineeringKind.DEFECT.value):
            fields.update(DEFECT_REQUIRED)
    return fields


_LIST_MARKER = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s*")
_ARROW = re.compile(r"\s*(?:->|→|=>|—>|-->)\s*")


def split_lines(text: str | None) -> list[str]:
    """Multi-line input → items, dropping blank lines and the agent's own numbering or bullets."""
    return [_LIST_MARKER.sub("", line).strip() for line in (text or "").splitlines() if line.strip()]


def parse_actions(text: str) -> list[ActionTaken]:
    """`what was tried -> outcome`, one per line (the method's ACTIONS ALREADY TAKEN)."""
    actions = []
    for number, line in enumerate(split_lines(text), start=1):
        parts = _ARROW.split(line, maxsplit=1)
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            raise ValueError(f"Line {number} has no outcome. Write each action as: what you tried -> what happened.")
        actions.append(ActionTaken(what=parts[0].strip(), outcome=parts[1].strip()))
    if not actions:
        raise ValueError("List at least one thing you tried, as: what you tried -> what happened.")
    return actions


def _read_draft(values: dict[str, Any]) -> Draft:
    """A Draft from raw values, or BriefInvalid naming each field whose value had the wrong type
    (a client, an old modal or a forged request can send anything)."""
    try:
        return Draft.model_validate(values)
    except ValidationError as exc:
        bad = {str(e["loc"][0]) for e in exc.errors() if e.get("loc")}
        errors = {name: "This value could not be read. Enter it again." for name in bad if name in FIELDS}
        raise BriefInvalid(errors or {"summary": "This form could not be read. Close it and start again."}) from None


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


_E = TypeVar("_E", bound=Enum)


def _enum(errors: dict[str, str], field: str, raw: str | None, enum: type[_E], message: str) -> _E | None:
    if raw is None:
        return None
    try:
        return enum(raw)
    except ValueError:
        errors[field] = message
        return None


def _date(errors: dict[str, str], field: str, raw: str | None) -> date | None:
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except (TypeError, ValueError):
        errors[field] = "Pick a date."
        return None


def validate_draft(
    draft: Draft | dict[str, Any], *, now: datetime, default_currency: str = "USD", post_now_severities: frozenset[Severity] = POST_NOW_DEFAULT
) -> Brief:
    """Return a valid Brief or raise BriefInvalid with one plain-language message per field.

    With *Post now* ticked on a severity that offers it, only POST_NOW_REQUIRED must be there: the
    Brief comes back with `missing` naming the other required fields left empty (what is given is
    still checked). Ticked on another severity, it changes nothing: the whole form is required."""
    if isinstance(draft, dict):
        draft = _read_draft(draft)
    raw = {name: _clean(getattr(draft, name)) for name in FIELDS}
    errors: dict[str, str] = {}

    for name, value in raw.items():
        if isinstance(value, str) and len(value) > TEXT_MAX:
            errors[name] = f"Keep this under {TEXT_MAX} characters (it has {len(value)}); attach the rest as a file or link."

    destination = _enum(errors, "destination", raw["destination"], Destination, "Pick a destination from the list.")
    severity = _enum(errors, "severity", raw["severity"], Severity, "Pick Critical, High or Medium.")

    post_now = bool(raw["post_now"]) and severity in post_now_severities
    for name in sorted(required_fields(destination, raw["eng_kind"], post_now=post_now)):
        if raw[name] in (None, "") and name not in errors:
            errors[name] = _REQUIRED_MESSAGES.get(name, "Required.")

    summary = raw["summary"]
    if summary and ("\n" in summary or len(summary) > SUMMARY_MAX):
        errors["summary"] = f"One line of at most {SUMMARY_MAX} characters; put the detail in the narrative."

    # A number may carry words ("$250k in open deals"): the number is kept, the words as its note.
    affected: int | None = None
    notes: dict[str, str | None] = {}
    if raw["affected_customers"] is not None:
        try:
            affected, notes["affected_customers"] = read_count(raw["affected_customers"])
        except QuantityError as exc:
            errors["affected_customers"] = str(exc)

    money = {}
    for name in ("arr_exposed", "pipeline_at_risk"):
        if raw[name] is not None:
            try:
                money[name], notes[name] = read_money(raw[name], default_currency)
            except QuantityError as exc:
                errors[name] = str(exc)

    today = now.date()
    since = _date(errors, "since", raw["since"])
    if since and since > today + timedelta(days=1):
        errors["since"] = "This date is in the future: when did the problem begin?"
    last_update_on = _date(errors, "last_update_on", raw["last_update_on"])
    if last_update_on and last_update_on > today + timedelta(days=1):
        errors["last_update_on"] = "This date is in the future: when did you last update the customer?"

    deadline = None
    if raw["deadline"] is not None:
        try:
            deadline = datetime.fromtimestamp(int(raw["deadline"]), tz=UTC)
        except (TypeError, ValueError, OverflowError, OSError):
            errors["deadline"] = "Pick a date and time."
        else:
            if deadline < now + DEADLINE_MIN_LEAD:
                errors["deadline"] = "The hard deadline must be in the future (at least 5 minutes from now)."

    actions = []
    if raw["actions_taken"] is not None and "actions_taken" not in errors:
        try:
            actions = parse_actions(raw["actions_taken"])
        except ValueError as exc:
            errors["actions_taken"] = str(exc)

    enums: dict[str, tuple[type[Enum], str]] = {
        "depth": (Depth, "Pick how blocked the customers are."),
        "growth": (Growth, "Pick from the list."),
        "sla_position": (SlaPosition, "Pick Compliant, At risk or Breached."),
        "reputation": (ReputationRisk, "Pick from the list."),
        "escalation_risk": (Likelihood, "Pick Low, Medium or High."),
        "request_kind": (RequestKind, "Pick what you are asking for."),
        "eng_kind": (EngineeringKind, "Pick what kind of engineering problem this is."),
        "repro_frequency": (Frequency, "Pick how often it happens."),
        "urgency": (Urgency, "Pick how urgent this is."),
    }
    parsed = {name: _enum(errors, name, raw[name], enum, msg) for name, (enum, msg) in enums.items()}

    steps = split_lines(raw["repro_steps"])
    if raw["repro_steps"] is not None and not steps and "repro_steps" not in errors:
        errors["repro_steps"] = "List the steps, one per line, with the literal inputs used."
    if destination is Destination.PRODUCT and raw["request_frequency"] and not contains_number(raw["request_frequency"]):
        errors["request_frequency"] = "How often, in numbers: e.g. “14 customers asked in the last 90 days”."

    if errors:
        raise BriefInvalid(errors)

    assert destination and severity and affected is not None and deadline  # for type checkers
    full = required_fields(destination, raw["eng_kind"])
    missing = tuple(name for name in FIELDS if post_now and name in full and raw[name] in (None, ""))
    brief = Brief(
        destination=destination,
        severity=severity,
        summary=summary,
        impact=BusinessImpact(
            affected_customers=affected,
            affected_customers_note=notes.get("affected_customers"),
            affected_names=raw["affected_names"],
            growth=parsed["growth"],
            depth=parsed["depth"],
            operational_effect=raw["operational_effect"],
            since=since,
            critical_when=raw["critical_when"],
            arr_exposed=money.get("arr_exposed"),
            arr_exposed_note=notes.get("arr_exposed"),
            pipeline_at_risk=money.get("pipeline_at_risk"),
            pipeline_at_risk_note=notes.get("pipeline_at_risk"),
            reputation=parsed["reputation"],
            reference_account=bool(raw["reference_account"]),
            sla_position=parsed["sla_position"],
            penalties=raw["penalties"],
        ),
        narrative=raw["narrative"] or "",
        actions_taken=actions,
        communication=CustomerCommunication(
            last_update_on=last_update_on,
            last_update=raw["last_update"],
            expectation=raw["expectation"],
            escalation_risk=parsed["escalation_risk"],
        ),
        request=Request(kind=parsed["request_kind"], ask=raw["ask"], deadline=deadline),
        references=split_lines(raw["references"]),
        product_area=read_area(raw["product_area"]),
        missing=missing,
    )
    package = _package(destination, raw, parsed, steps)
    return brief.model_copy(update=package)


def _package(destination: Destination, raw: dict[str, Any], parsed: dict[str, Any], steps: list[str]) -> dict[str, Any]:
    if destination is Destination.ENGINEERING:
        return {
            "engineering": EngineeringPackage(
                kind=parsed["eng_kind"],
                reproduction=Reproduction(
                    baseline=raw["repro_baseline"],
                    steps=steps,
                    expected=raw["repro_expected"],
                    observed=raw["repro_observed"],
                    environment=raw["repro_environment"],
                    frequency=parsed["repro_frequency"],
                    ruled_out=raw["repro_ruled_out"],
                ),
                logs=raw["logs"],
                timeline_commitments=raw["timeline_commitments"],
            )
        }
    if destination is Destination.PRODUCT:
        return {
            "product": ProductPackage(
                use_case=raw["use_case"],
                request_frequency=raw["request_frequency"],
                competitive_context=raw["competitive_context"],
            )
        }
    if destination is Destination.SECURITY:
        return {
            "security": SecurityPackage(
                observations=raw["observations"],
                affected_parties=raw["affected_parties"],
                containment=raw["containment"],
                urgency=parsed["urgency"],
            )
        }
    if destination is Destination.LEADERSHIP:
        return {"leadership": LeadershipPackage(business_context=raw["business_context"], decision_needed=raw["decision_needed"])}
    return {"support_l2": SupportL2Package(customer_context=raw["customer_context"])}


_REQUIRED_MESSAGES = {
    "destination": "Pick where this escalation goes.",
    "severity": "Pick a severity.",
    "summary": "Write a one-line summary.",
    "affected_customers": "How many customers are affected? A number.",
    "depth": "Pick how blocked they are.",
    "operational_effect": "Say what is broken for them.",
    "since": "When did it begin?",
    "sla_position": "Pick the SLA position.",
    "narrative": "Describe what is happening, since when, how it shows and how wide it is.",
    "actions_taken": "List what you tried and what happened, one per line.",
    "last_update_on": "When did you last update the customer?",
    "last_update": "Summarise your last update to the customer.",
    "expectation": "What does the customer believe will happen, and by when?",
    "request_kind": "Pick what you are asking for.",
    "ask": "Say precisely what you need from the receiving team.",
    "deadline": "Every escalation needs a hard deadline.",
    "customer_context": "Give the customer context: plan, setup, who is affected.",
    "eng_kind": "Pick what kind of engineering problem this is.",
    "repro_steps": "A defect needs reproduction steps, one per line, with literal inputs.",
    "repro_expected": "What should have happened?",
    "repro_observed": "What happened instead? Exact error text if any.",
    "use_case": "Describe the customer's use case.",
    "request_frequency": "How often is this requested? Numbers, e.g. 14 customers in 90 days.",
    "observations": "What did you observe?",
    "affected_parties": "Which parties and systems are affected?",
    "containment": "What containment was already taken? Write “none yet” if none.",
    "urgency": "Pick how urgent this is.",
    "business_context": "Give the complete business context.",
    "decision_needed": "Name the specific decision or intervention you need.",
    "arr_exposed": "Leadership needs the revenue exposure: ARR at risk, e.g. $120k.",
}


def draft_of(brief: Brief) -> dict[str, Any]:
    """The brief as the form's raw values (Draft): validate_draft's inverse, so it validates again to
    the same brief. Pre-fills the forms that start from a brief (completing it, moving it). Only given
    fields: a field the brief lacks (an incomplete brief's) is left out."""
    impact, comms, request = brief.impact, brief.communication, brief.request

    def value(member: Enum | None) -> str | None:
        return str(member.value) if member is not None else None

    def money(m: Money | None, note: str | None = None) -> str | None:
        return None if m is None else _with_note(f"{m.amount} {m.currency}", note, lambda text: read_money(text, m.currency)[0] == m)

    def count(n: int, note: str | None) -> str:
        return _with_note(str(n), note, lambda text: read_count(text)[0] == n)

    def iso(day: date | None) -> str | None:
        return day.isoformat() if day is not None else None

    draft: dict[str, Any] = {
        "destination": brief.destination.value,
        "severity": brief.severity.value,
        "summary": brief.summary,
        "product_area": brief.product_area,
        "affected_customers": count(impact.affected_customers, impact.affected_customers_note),
        "affected_names": impact.affected_names,
        "growth": value(impact.growth),
        "depth": value(impact.depth),
        "operational_effect": impact.operational_effect,
        "since": iso(impact.since),
        "critical_when": impact.critical_when,
        "arr_exposed": money(impact.arr_exposed, impact.arr_exposed_note),
        "pipeline_at_risk": money(impact.pipeline_at_risk, impact.pipeline_at_risk_note),
        "reputation": value(impact.reputation),
        "reference_account": impact.reference_account,
        "sla_position": value(impact.sla_position),
        "penalties": impact.penalties,
        "narrative": brief.narrative,
        "actions_taken": "\n".join(f"{a.what} -> {a.outcome}" for a in brief.actions_taken),
        "last_update_on": iso(comms.last_update_on),
        "last_update": comms.last_update,
        "expectation": comms.expectation,
        "escalation_risk": value(comms.escalation_risk),
        "request_kind": value(request.kind),
        "ask": request.ask,
        "deadline": int(request.deadline.timestamp()),
        "references": "\n".join(brief.references),
    }
    if brief.engineering is not None:
        eng, repro = brief.engineering, brief.engineering.reproduction
        draft.update(
            eng_kind=value(eng.kind),
            repro_baseline=repro.baseline,
            repro_steps="\n".join(f"{i}. {step}" for i, step in enumerate(repro.steps, 1)),  # split_lines drops the numbers again
            repro_expected=repro.expected,
            repro_observed=repro.observed,
            repro_environment=repro.environment,
            repro_frequency=value(repro.frequency),
            repro_ruled_out=repro.ruled_out,
            logs=eng.logs,
            timeline_commitments=eng.timeline_commitments,
        )
    for package in (brief.product, brief.leadership, brief.support_l2):
        if package is not None:
            draft.update(package.model_dump())
    if brief.security is not None:
        draft.update(brief.security.model_dump(), urgency=value(brief.security.urgency))
    return {k: v for k, v in draft.items() if v not in (None, "")}


def _with_note(number: str, note: str | None, reads_back: Callable[[str], bool]) -> str:
    """A quantity as typed again: the note alone when it is the whole phrase the agent typed ("about
    300 users", "$100k-$150k": it reads back to the same number), else the number then the note
    ("250000 USD in open deals"). Either way it validates to the same number and note."""
    if not note:
        return number
    try:
        if reads_back(note):
            return note
    except QuantityError:
        pass
    return f"{number} {note}"

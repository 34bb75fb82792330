"""Decide: escalate or keep it in support, and if escalating, to whom and how severe.

The method's criteria are data (tables below), not branches: each criterion has an id (the value
of its checkbox), the method's wording, its group, and what it implies for the decision, the
destination and the severity. `decide` reads the tables; a test per rule proves each one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from bot.domain.brief import Destination, Severity


class Side(str, Enum):
    KEEP = "keep"
    ESCALATE = "escalate"
    CONTEXT = "context"  # no decision of its own: only shapes destination or severity


@dataclass(frozen=True)
class Criterion:
    id: str
    text: str  # ≤ 75 characters: it is a checkbox option
    group: str
    side: Side
    destination: Destination | None = None  # where this criterion points, if anywhere
    severity: Severity | None = None  # the least severity it implies, if any


K, E, C = Side.KEEP, Side.ESCALATE, Side.CONTEXT
ENG, PROD, SEC, LEAD, L2 = Destination.ENGINEERING, Destination.PRODUCT, Destination.SECURITY, Destination.LEADERSHIP, Destination.SUPPORT_L2
CRIT, HIGH, MED = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM

CRITERIA: tuple[Criterion, ...] = (
    # Keep it in support when…
    Criterion("documented_fix", "A documented fix or known workaround addresses it", "Keep it in support when", K),
    Criterion("config_error", "The root cause is a configuration or setup error we can correct", "Keep it in support when", K),
    Criterion("coaching", "The customer needs coaching or training, not a product change", "Keep it in support when", K),
    Criterion("documented_limitation", "The limitation is documented and an alternative path exists", "Keep it in support when", K),
    Criterion("resolved_before", "Tickets with the same profile were resolved at the support tier", "Keep it in support when", K),
    # Escalate when… (the method's six reasons, each with its sub-points)
    Criterion("confirmed_defect", "A confirmed defect needs a code-level fix", "Technical barrier", E, ENG),
    Criterion("infra_investigation", "Infrastructure-level investigation is required", "Technical barrier", E, ENG),
    Criterion("data_loss", "Data has been lost or corrupted", "Technical barrier", E, ENG, CRIT),
    Criterion("exceeds_tooling", "It exceeds support tooling or access", "Diagnostic ceiling", E, L2),
    Criterion("custom_deployment", "It involves a custom deployment", "Diagnostic ceiling", E, L2),
    Criterion("db_inspection", "It needs database-level inspection", "Diagnostic ceiling", E, ENG),
    Criterion("multiple_customers", "Multiple customers report the same problem", "Widespread harm", E, None, HIGH),
    Criterion("production_down", "Production is down", "Widespread harm", E, ENG, CRIT),
    Criterion("data_integrity", "Data integrity is compromised", "Widespread harm", E, ENG, CRIT),
    Criterion("security_threat", "A security threat exists (exposure, unauthorized access)", "Widespread harm", E, SEC, CRIT),
    Criterion("high_value_account", "A high-value account is at risk", "Business stakes", E, None, HIGH),
    Criterion("sla_breach", "An SLA has been breached or is about to be", "Business stakes", E, None, HIGH),
    Criterion("leadership_requested", "The customer is asking for leadership involvement", "Business stakes", E, LEAD),
    Criterion("past_sla", "It has sat open past SLA", "Stalled progress", E, L2, HIGH),
    Criterion("long_wait", "The customer has waited an unreasonable time", "Stalled progress", E, L2),
    Criterion("not_advancing", "Standard troubleshooting is not advancing", "Stalled progress", E, L2),
    Criterion("three_reports", "Three or more independent reports of the same symptom", "Recurring pattern", E, ENG, HIGH),
    Criterion("resurfaced", "A previously patched issue has resurfaced", "Recurring pattern", E, ENG),
    Criterion("trending_up", "Severity is trending upward over time", "Recurring pattern", E, None, HIGH),
    # What kind of help: shapes where it goes and how severe it is.
    Criterion("capability_gap", "A capability gap or workflow mismatch is causing pain", "What kind of help", C, PROD),
    Criterion("design_decision", "A design-level or cross-customer priority decision is needed", "What kind of help", C, PROD),
    Criterion("policy_exception", "A policy exception or cross-functional decision is needed", "What kind of help", C, LEAD),
    Criterion("legal_risk", "There is legal or reputational risk", "What kind of help", C, LEAD, HIGH),
    Criterion("core_blocked", "Core functionality is broken or a key customer is fully blocked", "How bad is it", C, None, HIGH),
    Criterion("workaround", "A viable workaround exists", "How bad is it", C),
)
BY_ID = {c.id: c for c in CRITERIA}
GROUPS: tuple[str, ...] = tuple(dict.fromkeys(c.group for c in CRITERIA))

# When criteria point at several destinations, the most specific wins: security skips every tier;
# leadership decides what no team can; product owns capability; engineering owns defects.
DESTINATION_PRIORITY = (SEC, LEAD, PROD, ENG, L2)
# Critical: several high-value accounts hit at once (the method's "multiple high-value accounts impacted").
CRITICAL_COMBINATIONS = ({"multiple_customers", "high_value_account"},)


@dataclass(frozen=True)
class Decision:
    escalate: bool
    reasons: tuple[Criterion, ...]  # the criteria the decision rests on
    destination: Destination | None
    destination_why: str
    severity: Severity | None
    severity_why: str
    cautions: tuple[Criterion, ...] = ()  # keep-side criteria that were outweighed


def decide(checked: set[str] | list[str]) -> Decision:
    chosen = [BY_ID[c] for c in dict.fromkeys(checked) if c in BY_ID]
    escalating = tuple(c for c in chosen if c.side is Side.ESCALATE)
    keeping = tuple(c for c in chosen if c.side is Side.KEEP)
    context = tuple(c for c in chosen if c.side is Side.CONTEXT)
    if not escalating:
        why = keeping or context
        return Decision(False, tuple(why), None, "Keep it in support.", None, "", ())
    destination, destination_why = _destination(escalating + context)
    severity, severity_why = _severity(chosen)
    return Decision(True, escalating, destination, destination_why, severity, severity_why, keeping)


def _destination(criteria: tuple[Criterion, ...]) -> tuple[Destination, str]:
    pointing = {c.destination: c for c in reversed(criteria) if c.destination is not None}
    for destination in DESTINATION_PRIORITY:
        if destination in pointing:
            reason = pointing[destination].text
            if destination is SEC:
                return destination, f"{reason}: security escalations skip tier progression."
            return destination, reason + "."
    return L2, "Deeper investigation or specialised expertise is needed first."


def _severity(chosen: list[Criterion]) -> tuple[Severity, str]:
    ids = {c.id for c in chosen}
    for combination in CRITICAL_COMBINATIONS:
        if combination <= ids:
            return CRIT, "Several high-value accounts are impacted."
    for level in (CRIT, HIGH):
        hit = [c for c in chosen if c.severity is level]
        if hit:
            definition = level.definition
            return level, f"{hit[0].text} ({level.label}: {definition[0].lower() + definition[1:]})."
    if "workaround" in ids:
        return MED, "A viable workaround exists: resolve within the week."
    return MED, "Real impact, not time-critical: resolve within the week."

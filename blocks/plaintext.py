"""The brief as plain text, in exactly the method's document structure, for pasting into a ticket."""

from __future__ import annotations

from blocks import facts
from bot.domain.brief import Brief
from bot.domain.complete_brief import missing_text


def brief_text(brief: Brief, *, ref: str | None = None, tz: str = "UTC") -> str:
    impact, comms, request = brief.impact, brief.communication, brief.request
    lines = [
        f"ESCALATION: {brief.summary}" + (f" ({ref})" if ref else ""),
        f"Severity: {brief.severity.label}",
        f"Routed to: {facts.routed_to(brief)}",
        *([f"Product area: {brief.product_area}"] if brief.product_area else []),
        *([f"INCOMPLETE: {missing_text(brief.missing)} missing"] if brief.missing else []),
        "",
        "BUSINESS IMPACT",
        f"- Affected customers: {facts.affected(impact)}",
        f"- Operational effect: {impact.operational_effect or facts.NOT_GIVEN} ({impact.depth.label.lower() if impact.depth else facts.NOT_GIVEN})",
        f"- Revenue exposure: {facts.revenue(impact) or 'none stated'}",
        f"- SLA position: {facts.sla(impact)}",
        f"- Duration: {facts.duration(impact)}",
    ]
    if rep := facts.reputation(impact):
        lines.append(f"- Reputation: {rep}")
    lines += ["", "PROBLEM NARRATIVE", brief.narrative or facts.NOT_GIVEN]
    if brief.engineering:
        repro = brief.engineering.reproduction
        lines += ["", "REPRODUCTION PROCEDURE (for defects)"]
        if repro.baseline:
            lines.append(f"Baseline state: {repro.baseline}")
        lines += [f"{i}. {step}" for i, step in enumerate(repro.steps, 1)]
        lines += [f"{label}: {text}" for label, text in facts.package_lines(brief) if label != "Baseline state"]
        if brief.engineering.logs:
            lines += ["Logs and error output:", brief.engineering.logs]
    elif pairs := facts.package_lines(brief):
        lines += ["", facts.package_title(brief.destination).upper()]
        lines += [f"{label}: {text}" for label, text in pairs]
    lines += ["", "ACTIONS ALREADY TAKEN"]
    lines += [f"{i}. {a.what} -> {a.outcome}" for i, a in enumerate(brief.actions_taken, 1)] or [facts.NOT_GIVEN]
    lines += [
        "",
        "CUSTOMER COMMUNICATION STATUS",
        f"- Most recent update: {comms.last_update_on.isoformat() if comms.last_update_on else facts.NOT_GIVEN}: {comms.last_update or facts.NOT_GIVEN}",
        f"- Customer expectation: {comms.expectation or facts.NOT_GIVEN}",
        f"- Further escalation risk: {comms.escalation_risk.label if comms.escalation_risk else 'not assessed'}",
        "",
        "REQUEST",
        f"- {request.kind.label if request.kind else 'Request'}: {request.ask}",
        f"- Hard deadline: {facts.deadline_local(request.deadline, tz)}",
        "",
        "ATTACHMENTS AND REFERENCES",
    ]
    lines += [f"- {r}" for r in brief.references] or ["- none"]
    return "\n".join(lines) + "\n"

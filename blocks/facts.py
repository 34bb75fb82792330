"""The brief's facts as short plain-text lines, shared by the Block Kit message and the text export,
so both always say the same thing. Nothing here is escaped: callers escape for mrkdwn."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.domain.brief import Brief, BusinessImpact, Destination

NOT_GIVEN = "not given yet"  # a field a brief posted with *Post now* still lacks (Brief.missing)


def noted(value: str, note: str | None) -> str:
    """A number with the words the agent typed beside it: "250,000 USD — in open deals"."""
    return f"{value} — {note}" if note else value


def affected(impact: BusinessImpact) -> str:
    n = impact.affected_customers
    text = noted(f"{n:,} customer{'s' if n != 1 else ''}", impact.affected_customers_note)
    if impact.growth is not None:
        text += f" ({impact.growth.label.lower()})"
    if impact.affected_names:
        text += f": {impact.affected_names}"
    return text


def duration(impact: BusinessImpact, today: date | None = None) -> str:
    if impact.since is None:
        return NOT_GIVEN + (f"; becomes critical: {impact.critical_when}" if impact.critical_when else "")
    text = f"since {impact.since.isoformat()}"
    if today is not None and today >= impact.since:
        days = (today - impact.since).days
        text += f" ({days} day{'s' if days != 1 else ''})" if days else " (today)"
    if impact.critical_when:
        text += f"; becomes critical: {impact.critical_when}"
    return text


def revenue(impact: BusinessImpact) -> str | None:
    parts = []
    if impact.arr_exposed is not None:
        parts.append(noted(f"{impact.arr_exposed} ARR exposed", impact.arr_exposed_note))
    if impact.pipeline_at_risk is not None:
        parts.append(noted(f"{impact.pipeline_at_risk} pipeline at risk", impact.pipeline_at_risk_note))
    return "; ".join(parts) or None


def reputation(impact: BusinessImpact) -> str | None:
    parts = []
    if impact.reputation is not None:
        parts.append(f"press/social risk: {impact.reputation.label.lower()}")
    if impact.reference_account:
        parts.append("reference account involved")
    return "; ".join(parts) or None


def sla(impact: BusinessImpact) -> str:
    text = impact.sla_position.label if impact.sla_position else NOT_GIVEN
    if impact.penalties:
        text += f"; penalties: {impact.penalties}"
    return text


def deadline_local(when: datetime, tz: str = "UTC") -> str:
    try:
        zone = ZoneInfo(tz)
    except Exception:  # noqa: BLE001 - an unknown zone name falls back to UTC, labelled as such
        zone, tz = ZoneInfo("UTC"), "UTC"
    local = when.astimezone(zone)
    return f"{local.strftime('%Y-%m-%d %H:%M')} ({tz})"


def routed_to(brief: Brief) -> str:
    return brief.destination.label


def actions_label(destination: Destination) -> str:
    # For Support L2 the method calls this list "troubleshooting already performed".
    return "Troubleshooting already performed" if destination is Destination.SUPPORT_L2 else "Actions already taken"


def package_title(destination: Destination) -> str:
    return {
        Destination.SUPPORT_L2: "Customer context",
        Destination.ENGINEERING: "Reproduction procedure",
        Destination.PRODUCT: "Use case and demand",
        Destination.SECURITY: "Security details",
        Destination.LEADERSHIP: "Business context and decision needed",
    }[destination]


def package_lines(brief: Brief) -> list[tuple[str, str]]:
    """(label, text) pairs for the destination's package, in the method's order; empty ones left out."""
    pairs: list[tuple[str, str | None]] = []
    if brief.support_l2:
        pairs = [("Customer context", brief.support_l2.customer_context)]
    elif brief.product:
        p = brief.product
        pairs = [("Use case", p.use_case), ("Request frequency", p.request_frequency), ("Competitive context", p.competitive_context)]
    elif brief.security:
        s = brief.security
        pairs = [
            ("Observations", s.observations),
            ("Affected parties and systems", s.affected_parties),
            ("Containment already taken", s.containment),
            ("Urgency", s.urgency.label if s.urgency else None),
        ]
    elif brief.leadership:
        lead = brief.leadership
        pairs = [("Business context", lead.business_context), ("Decision or intervention needed", lead.decision_needed)]
    elif brief.engineering:
        e, r = brief.engineering, brief.engineering.reproduction
        pairs = [
            ("Kind", e.kind.label if e.kind else None),
            ("Baseline state", r.baseline),
            ("Expected outcome", r.expected),
            ("Observed outcome", r.observed),
            ("Environment", r.environment),
            ("Frequency", r.frequency.label if r.frequency else None),
            ("Ruled out", r.ruled_out),
            ("Customer-facing timeline commitments", e.timeline_commitments),
        ]
    return [(label, text) for label, text in pairs if text]

"""File now, complete later: a Critical brief posted before every required field was filled in.

The method asks for speed on Critical (service down, data at risk): with *Post now, complete within
30 min* only the summary, severity, destination, affected count, the ask and the deadline are
required (bot.domain.validation.POST_NOW_REQUIRED). The brief is posted at once and says what is
missing; the agent is reminded at fixed moments after the post (15 and 30 min by default) until
they complete it. Pure: field names in, plain words out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from typing import Any

from bot.domain.brief import Brief, Money, Severity

DEFAULT_REMINDERS = (timedelta(minutes=15), timedelta(minutes=30))
MAX_REMINDER = timedelta(hours=24)


@dataclass(frozen=True)
class PostNow:
    """Which severities offer *Post now* (ESCALATION_POST_NOW_SEVERITIES) and when the agent is reminded
    after the post (ESCALATION_COMPLETE_REMINDERS); the last reminder is the time to complete it."""

    severities: frozenset[Severity] = frozenset({Severity.CRITICAL})
    reminders: tuple[timedelta, ...] = field(default=DEFAULT_REMINDERS)

    @property
    def within_minutes(self) -> int:
        return int(self.reminders[-1].total_seconds() // 60)

    @property
    def within(self) -> timedelta:
        return self.reminders[-1]

    def offered_for(self, severity: str | Severity | None) -> bool:
        try:
            return severity is not None and Severity(severity) in self.severities
        except ValueError:
            return False


# What the agent reads for each missing Draft field, grouped as the form groups them (one mention
# per group, in the form's order): "Incomplete: impact, reproduction steps… missing".
_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("impact (depth, effect, since when, SLA)", ("depth", "operational_effect", "since", "sla_position")),
    ("ARR exposed", ("arr_exposed",)),
    ("narrative", ("narrative",)),
    ("kind of problem", ("eng_kind",)),
    ("reproduction steps", ("repro_steps", "repro_expected", "repro_observed")),
    ("use case and demand", ("use_case", "request_frequency")),
    ("security details", ("observations", "affected_parties", "containment", "urgency")),
    ("business context and decision", ("business_context", "decision_needed")),
    ("customer context", ("customer_context",)),
    ("actions taken", ("actions_taken",)),
    ("customer communication", ("last_update_on", "last_update", "expectation")),
    ("request type", ("request_kind",)),
)


def missing_labels(missing: Iterable[str]) -> list[str]:
    """The groups of fields still missing, in the form's order; a field of no group by its own name."""
    missing = list(missing)
    known = {field for _label, fields in _GROUPS for field in fields}
    labels = [label for label, fields in _GROUPS if any(f in missing for f in fields)]
    return labels + [f.replace("_", " ") for f in missing if f not in known]


def missing_text(missing: Iterable[str]) -> str:
    """`reproduction steps, impact (…), narrative`: one line, for the marker and the reminders."""
    return ", ".join(missing_labels(missing))


def parse_reminders(text: str) -> tuple[timedelta, ...]:
    """`15,30` (minutes after the first post, increasing) → the reminder offsets; ValueError otherwise.
    The last one is the time the agent has to complete the brief."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts or not all(p.isdigit() and len(p) <= 5 for p in parts):
        raise ValueError(f"'{text}' is not a list of minutes such as 15,30")
    offsets = tuple(timedelta(minutes=int(p)) for p in parts)
    if offsets[0] <= timedelta(0) or any(b <= a for a, b in zip(offsets, offsets[1:], strict=False)) or offsets[-1] > MAX_REMINDER:
        raise ValueError(f"'{text}': give increasing minutes, more than 0 and at most {int(MAX_REMINDER.total_seconds() // 60)}, such as 15,30")
    return offsets


def draft_of(brief: Brief) -> dict[str, Any]:
    """What a brief says, as the form's raw values (bot.domain.validation.Draft), to pre-fill the form
    that completes it: every given field, none of the missing ones."""
    impact, comms, request = brief.impact, brief.communication, brief.request

    def value(member: Enum | None) -> str | None:
        return member.value if member is not None else None

    def money(m: Money | None) -> str | None:
        return f"{m.amount} {m.currency}" if m is not None else None

    draft: dict[str, Any] = {
        "destination": brief.destination.value,
        "severity": brief.severity.value,
        "summary": brief.summary,
        "affected_customers": str(impact.affected_customers),
        "affected_names": impact.affected_names,
        "growth": value(impact.growth),
        "depth": value(impact.depth),
        "operational_effect": impact.operational_effect,
        "since": impact.since.isoformat() if impact.since else None,
        "critical_when": impact.critical_when,
        "arr_exposed": money(impact.arr_exposed),
        "pipeline_at_risk": money(impact.pipeline_at_risk),
        "reputation": value(impact.reputation),
        "reference_account": impact.reference_account or None,
        "sla_position": value(impact.sla_position),
        "penalties": impact.penalties,
        "narrative": brief.narrative,
        "actions_taken": "\n".join(f"{a.what} -> {a.outcome}" for a in brief.actions_taken),
        "last_update_on": comms.last_update_on.isoformat() if comms.last_update_on else None,
        "last_update": comms.last_update,
        "expectation": comms.expectation,
        "escalation_risk": value(comms.escalation_risk),
        "request_kind": value(request.kind),
        "ask": request.ask,
        "deadline": str(int(request.deadline.timestamp())),
        "references": "\n".join(brief.references),
    }
    if brief.engineering is not None:
        eng, repro = brief.engineering, brief.engineering.reproduction
        draft.update(
            eng_kind=value(eng.kind),
            repro_baseline=repro.baseline,
            repro_steps="\n".join(f"{i}. {step}" for i, step in enumerate(repro.steps, 1)),
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

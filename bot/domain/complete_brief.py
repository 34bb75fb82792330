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

from bot.domain.brief import Severity

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

"""Ending an escalation, in the method's words: why it is pulled back (de-escalation) and what
future agents learn from it (resolution). Pure: what people typed in, field errors or values out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import Enum


class DeescalationReason(str, Enum):
    """The method's four reasons to pull an escalation back."""

    SUPPORT_CAN_FIX = "support_can_fix"
    WORKAROUND = "workaround"
    SELF_RESOLVED = "self_resolved"
    SEVERITY_CHANGED = "severity_changed"

    @property
    def label(self) -> str:
        return {
            "support_can_fix": "Support can address the cause directly",
            "workaround": "A workaround fully unblocks the customer",
            "self_resolved": "The problem self-resolved",
            "severity_changed": "New information changes the severity",
        }[self.value]

    @property
    def needs_root_cause(self) -> bool:
        # "The problem self-resolves (but still document the root cause)."
        return self is DeescalationReason.SELF_RESOLVED


@dataclass(frozen=True)
class Deescalation:
    reason: DeescalationReason
    findings: str
    customer_told: bool
    root_cause: str | None = None

    @property
    def resolution(self) -> str:
        """What future agents read in search and triage."""
        text = f"De-escalated ({self.reason.label.lower()}): {self.findings}"
        return text + (f"\nRoot cause: {self.root_cause}" if self.root_cause else "")


@dataclass(frozen=True)
class Lessons:
    what_happened: str
    root_cause: str
    next_time: str  # what future agents should do

    @property
    def resolution(self) -> str:
        return f"What happened: {self.what_happened}\nRoot cause: {self.root_cause}"


def deescalation_from(reason: str, findings: str, customer_told: str, root_cause: str) -> Deescalation | dict[str, str]:
    """Field name → error, or the de-escalation (the modal maps field names to its blocks)."""
    errors: dict[str, str] = {}
    try:
        why = DeescalationReason(reason)
    except ValueError:
        why = None
        errors["reason"] = "Pick the reason the escalation is pulled back."
    if not findings.strip():
        errors["findings"] = "Say what was found: future agents will read it."
    if customer_told not in ("yes", "no"):
        errors["customer_told"] = "Say whether the customer has been told."
    if why is not None and why.needs_root_cause and not root_cause.strip():
        errors["root_cause"] = "Even when it self-resolved, document the root cause."
    if errors:
        return errors
    assert why is not None
    return Deescalation(why, findings.strip(), customer_told == "yes", root_cause.strip() or None)


def lessons_from(what_happened: str, root_cause: str, next_time: str, *, confirmed: bool) -> Lessons | dict[str, str]:
    """Field name → error, or the lessons learned. The method closes only once the agent has
    confirmed the fix with the customer (`confirmed`)."""
    errors = {}
    if not confirmed:
        errors["confirmed"] = "Confirm the fix with the customer before closing."
    if not what_happened.strip():
        errors["what_happened"] = "Say what happened."
    if not root_cause.strip():
        errors["root_cause"] = "Say what the root cause was (or what is known of it)."
    if not next_time.strip():
        errors["next_time"] = "Say what future agents should do when they see this."
    return errors or Lessons(what_happened.strip(), root_cause.strip(), next_time.strip())


def humanise(span: timedelta) -> str:
    """A duration as people say it: "45 min", "3 h 20 min", "2 d 4 h"."""
    minutes = max(0, int(span.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min" if mins else "less than a minute"

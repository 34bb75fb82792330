"""The escalation brief: the method's fixed document structure as typed data.

Nothing here knows about Slack or the database. A `Brief` is what an agent submitted and what
every renderer (Block Kit message, plain-text export) reads; it is only ever built by
`bot.domain.validation.validate_draft`, so a `Brief` in hand is a valid one.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field


class Severity(str, Enum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def definition(self) -> str:
        # The method's "Quick Severity Definitions", short enough for a Slack option description (75).
        return _SEVERITY_DEFINITIONS[self]

    @property
    def emoji(self) -> str:
        return {"critical": ":red_circle:", "high": ":large_orange_circle:", "medium": ":large_yellow_circle:"}[self.value]


_SEVERITY_DEFINITIONS = {
    Severity.CRITICAL: "Service down, data at risk, security incident, or several key accounts hit",
    Severity.HIGH: "Core function broken, key customer blocked, or SLA threshold approaching",
    Severity.MEDIUM: "Real impact, but a viable workaround exists; resolve this week",
}


class Destination(str, Enum):
    SUPPORT_L2 = "support_l2"
    ENGINEERING = "engineering"
    PRODUCT = "product"
    SECURITY = "security"
    LEADERSHIP = "leadership"

    @property
    def label(self) -> str:
        return _DESTINATION_LABELS[self]

    @property
    def when(self) -> str:
        """The method's trigger for this destination, as an option description (≤ 75 chars)."""
        return _DESTINATION_TRIGGERS[self]


_DESTINATION_LABELS = {
    Destination.SUPPORT_L2: "Support L2",
    Destination.ENGINEERING: "Engineering",
    Destination.PRODUCT: "Product",
    Destination.SECURITY: "Security",
    Destination.LEADERSHIP: "Leadership",
}

_DESTINATION_TRIGGERS = {
    Destination.SUPPORT_L2: "Deeper investigation, product expertise or advanced debugging needed",
    Destination.ENGINEERING: "Confirmed defect, infrastructure fault, code change or system inspection",
    Destination.PRODUCT: "Capability gap, design decision, workflow mismatch, competing priorities",
    Destination.SECURITY: "Data exposure, unauthorized access, vulnerability, compliance risk",
    Destination.LEADERSHIP: "Churn risk, strategic SLA breach, policy exception, legal or PR risk",
}


class _LabelledEnum(str, Enum):
    @property
    def label(self) -> str:
        return _LABELS[self]


class RequestKind(_LabelledEnum):
    INVESTIGATE = "investigate"
    FIX = "fix"
    DECIDE = "decide"
    APPROVE_EXCEPTION = "approve_exception"


class Depth(_LabelledEnum):
    FULLY_BLOCKED = "fully_blocked"
    DEGRADED = "degraded"
    INCONVENIENCED = "inconvenienced"


class Growth(_LabelledEnum):
    GROWING = "growing"
    STABLE = "stable"
    UNKNOWN = "unknown"


class SlaPosition(_LabelledEnum):
    COMPLIANT = "compliant"
    AT_RISK = "at_risk"
    BREACHED = "breached"


class Likelihood(_LabelledEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class ReputationRisk(_LabelledEnum):
    NONE = "none"
    POSSIBLE = "possible"
    LIKELY = "likely"
    PUBLIC = "public"


class Frequency(_LabelledEnum):
    EVERY_TIME = "every_time"
    INTERMITTENT = "intermittent"
    CONDITIONS = "conditions"


class EngineeringKind(_LabelledEnum):
    DEFECT = "defect"
    INFRASTRUCTURE = "infrastructure"
    CODE_CHANGE = "code_change"
    INSPECTION = "inspection"


class Urgency(_LabelledEnum):
    IMMEDIATE = "immediate"
    HOURS = "hours"
    DAY = "day"


_LABELS: dict[Enum, str] = {
    RequestKind.INVESTIGATE: "Investigate",
    RequestKind.FIX: "Ship a fix",
    RequestKind.DECIDE: "Make a decision",
    RequestKind.APPROVE_EXCEPTION: "Approve an exception",
    Depth.FULLY_BLOCKED: "Fully blocked",
    Depth.DEGRADED: "Degraded",
    Depth.INCONVENIENCED: "Inconvenienced",
    Growth.GROWING: "Growing",
    Growth.STABLE: "Stable",
    Growth.UNKNOWN: "Not known yet",
    SlaPosition.COMPLIANT: "Compliant",
    SlaPosition.AT_RISK: "At risk",
    SlaPosition.BREACHED: "Breached",
    Likelihood.LOW: "Low",
    Likelihood.MEDIUM: "Medium",
    Likelihood.HIGH: "High",
    ReputationRisk.NONE: "None seen",
    ReputationRisk.POSSIBLE: "Possible",
    ReputationRisk.LIKELY: "Likely",
    ReputationRisk.PUBLIC: "Already public",
    Frequency.EVERY_TIME: "Every time",
    Frequency.INTERMITTENT: "Intermittent",
    Frequency.CONDITIONS: "Only under specific conditions",
    EngineeringKind.DEFECT: "Confirmed defect",
    EngineeringKind.INFRASTRUCTURE: "Infrastructure fault",
    EngineeringKind.CODE_CHANGE: "Code change required",
    EngineeringKind.INSPECTION: "System-level inspection needed",
    Urgency.IMMEDIATE: "Immediate: active or ongoing",
    Urgency.HOURS: "Within hours",
    Urgency.DAY: "Within a day",
}


class Money(BaseModel):
    model_config = ConfigDict(frozen=True)

    amount: Decimal
    currency: str  # ISO 4217 code

    def __str__(self) -> str:
        whole = self.amount == self.amount.to_integral_value()
        number = f"{self.amount:,.0f}" if whole else f"{self.amount:,.2f}"
        return f"{number} {self.currency}"


class ActionTaken(BaseModel):
    model_config = ConfigDict(frozen=True)

    what: str
    outcome: str


class Reproduction(BaseModel):
    """The method's reproduction procedure (for Engineering)."""

    model_config = ConfigDict(frozen=True)

    baseline: str | None = None
    steps: list[str] = Field(default_factory=list)
    expected: str | None = None
    observed: str | None = None
    environment: str | None = None
    frequency: Frequency | None = None
    ruled_out: str | None = None


class BusinessImpact(BaseModel):
    """The method's six dimensions, each as a number or a fixed choice where it can be."""

    model_config = ConfigDict(frozen=True)

    # Breadth
    affected_customers: int
    affected_customers_note: str | None = None  # words typed beside the number ("about 300 users"); older briefs have none
    affected_names: str | None = None
    growth: Growth | None = None
    # Depth (None, like every field below without a default, only on a brief posted before it was complete: `Brief.missing`)
    depth: Depth | None = None
    operational_effect: str | None = None
    # Duration
    since: date | None = None
    critical_when: str | None = None
    # Revenue
    arr_exposed: Money | None = None
    arr_exposed_note: str | None = None  # "across two renewals"
    pipeline_at_risk: Money | None = None
    pipeline_at_risk_note: str | None = None  # "in open deals"
    # Reputation
    reputation: ReputationRisk | None = None
    reference_account: bool = False
    # Contractual
    sla_position: SlaPosition | None = None
    penalties: str | None = None


class CustomerCommunication(BaseModel):
    model_config = ConfigDict(frozen=True)

    last_update_on: date | None = None  # None only on an incomplete brief (so are the two below)
    last_update: str | None = None
    expectation: str | None = None
    escalation_risk: Likelihood | None = None


class Request(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: RequestKind | None = None  # None only on an incomplete brief
    ask: str
    deadline: datetime  # aware, UTC


class EngineeringPackage(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: EngineeringKind | None = None  # None only on an incomplete brief
    reproduction: Reproduction = Field(default_factory=Reproduction)
    logs: str | None = None
    timeline_commitments: str | None = None


class ProductPackage(BaseModel):
    model_config = ConfigDict(frozen=True)

    use_case: str | None = None  # None only on an incomplete brief (so are the package fields below)
    request_frequency: str | None = None
    competitive_context: str | None = None


class SecurityPackage(BaseModel):
    model_config = ConfigDict(frozen=True)

    observations: str | None = None
    affected_parties: str | None = None
    containment: str | None = None
    urgency: Urgency | None = None


class LeadershipPackage(BaseModel):
    model_config = ConfigDict(frozen=True)

    business_context: str | None = None
    decision_needed: str | None = None


class SupportL2Package(BaseModel):
    model_config = ConfigDict(frozen=True)

    customer_context: str | None = None


class Brief(BaseModel):
    """A validated escalation brief: complete, unless `missing` names what a Critical brief posted
    at once (*Post now, complete within 30 min*) still lacks; those fields are then None or empty."""

    model_config = ConfigDict(frozen=True)

    destination: Destination
    severity: Severity
    summary: str
    impact: BusinessImpact
    narrative: str = ""
    actions_taken: list[ActionTaken] = Field(default_factory=list)
    communication: CustomerCommunication = Field(default_factory=CustomerCommunication)
    request: Request
    references: list[str] = Field(default_factory=list)
    product_area: str | None = None  # one of ESCALATION_PRODUCT_AREAS or "Other" (bot.domain.product_areas); older briefs have none
    engineering: EngineeringPackage | None = None
    product: ProductPackage | None = None
    security: SecurityPackage | None = None
    leadership: LeadershipPackage | None = None
    support_l2: SupportL2Package | None = None
    # Draft field names still required (bot.domain.validation), in the form's order; () when complete.
    missing: tuple[str, ...] = ()

    @property
    def incomplete(self) -> bool:
        return bool(self.missing)


def format_ref(number: int, prefix: str = "ESC") -> str:
    """The short ID used everywhere a person sees the brief: ESC-42."""
    return f"{prefix}-{number}"


def message_link(channel_id: str, ts: str) -> str:
    """A link to a Slack message that Slack resolves in the reader's workspace (no API call needed)."""
    return f"https://slack.com/archives/{channel_id}/p{ts.replace('.', '')}"


def parse_ref(text: str, prefix: str = "ESC") -> int | None:
    """`ESC-42`, `esc-42`, `42` → 42; anything else → None."""
    cleaned = text.strip().upper()
    if cleaned.startswith(prefix.upper() + "-"):
        cleaned = cleaned[len(prefix) + 1 :]
    return int(cleaned) if cleaned.isdigit() and int(cleaned) > 0 else None

"""Realistic, valid brief drafts for every destination, as an agent would type them."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from bot.domain.brief import Destination


def last_friday_at_ten(now: datetime) -> datetime:
    """The latest Friday 10:00 UTC not after `now`: a recent date, so factory data never rots."""
    day = now.date() - timedelta(days=(now.weekday() - 4) % 7)
    at = datetime.combine(day, time(10), tzinfo=UTC)
    return at if at <= now else at - timedelta(days=7)


# The frozen clock of in-process tests (tests/conftest.py). A Friday, because business-day cadences
# are tested across a weekend; taken from the real clock, because a fixed date made every test that
# runs the bot on the real clock fail once the calendar passed it (a draft's deadline is NOW + 2 days).
# A test that runs the bot on the real clock builds its draft with `now=datetime.now(timezone.utc)`.
NOW = last_friday_at_ten(datetime.now(UTC))


def common(now: datetime = NOW, **overrides: Any) -> dict[str, Any]:
    draft = {
        "severity": "high",
        "summary": "CSV export times out for reports over 10k rows",
        "affected_customers": "12",
        "affected_names": "Acme Corp, Globex",
        "growth": "growing",
        "depth": "fully_blocked",
        "operational_effect": "Finance teams cannot export month-end reports; close is blocked.",
        "since": (now - timedelta(days=3)).date().isoformat(),
        "critical_when": "Month-end close on 2026-11-30",
        "arr_exposed": "$48k",
        "pipeline_at_risk": "120000 EUR",
        "reputation": "possible",
        "reference_account": True,
        "sla_position": "at_risk",
        "penalties": "10% service credit after 24 h",
        "narrative": (
            "Since Tuesday, exports of reports with more than 10,000 rows fail after 60 seconds with a gateway "
            "timeout. It started after the 2026-11-24 release. Smaller exports work. 12 enterprise customers have "
            "reported it and the number is growing."
        ),
        "actions_taken": "Cleared cache and retried -> same timeout\nTried Firefox and Chrome -> same timeout\n"
        "Split the export by month -> works, but customers need one file",
        "last_update_on": (now - timedelta(days=1)).date().isoformat(),
        "last_update": "Told Acme we reproduced it and escalated to engineering.",
        "expectation": "A fix or workaround by Monday 09:00 their time",
        "escalation_risk": "high",
        "request_kind": "fix",
        "ask": "Find why exports over 10k rows time out and ship a fix before month-end close.",
        "deadline": int((now + timedelta(days=2)).timestamp()),
        "references": "ZD-48213\nhttps://acme.zendesk.com/agent/tickets/48213\nhttps://example.slack.com/archives/C1/p1700000000000100",
    }
    draft.update(overrides)
    return draft


PACKAGES: dict[Destination, dict[str, Any]] = {
    Destination.SUPPORT_L2: {"customer_context": "Enterprise plan, SSO via Okta, 340 seats; first report of this kind."},
    Destination.ENGINEERING: {
        "eng_kind": "defect",
        "repro_baseline": "Enterprise plan admin, report with 10,500 rows, feature flag new-export on",
        "repro_steps": "1. Open Reports > Monthly revenue\n2. Click Export CSV in the upper-right corner\n3. Wait 60 seconds",
        "repro_expected": "A CSV file with 10,500 rows downloads",
        "repro_observed": "504 Gateway Timeout after 60 s",
        "repro_environment": "Chrome 122 on macOS 14, Enterprise plan, flag new-export",
        "repro_frequency": "every_time",
        "repro_ruled_out": "Reproduced in Chrome 122 and Safari 17; staging and production",
        "logs": "2026-11-26T10:02:11Z ERROR export worker timeout job=8812 rows=10500",
        "timeline_commitments": "Told Acme we'd have an update by Monday 09:00",
    },
    Destination.PRODUCT: {
        "use_case": "Finance teams export full-year ledgers (200k rows) for auditors in one file.",
        "request_frequency": "14 customers asked in the last 90 days",
        "competitive_context": "Two of them are evaluating a competitor with unlimited exports",
    },
    Destination.SECURITY: {
        "observations": "A customer saw another tenant's invoice PDF via a shared link at 09:40 UTC.",
        "affected_parties": "Acme Corp and Initech; invoice service",
        "containment": "Shared links disabled for Acme at 09:55 UTC",
        "urgency": "immediate",
    },
    Destination.LEADERSHIP: {
        "business_context": "Acme renews on 2026-12-15 ($480k ARR); CFO threatened to churn over the export outage.",
        "decision_needed": "Approve a 2-month service credit to keep the renewal on track",
    },
}


def draft(destination: Destination = Destination.ENGINEERING, now: datetime = NOW, **overrides: Any) -> dict[str, Any]:
    return {"destination": destination.value, **common(now), **PACKAGES[destination], **overrides}

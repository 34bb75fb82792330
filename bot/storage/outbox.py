"""Queries for ticketing: the tickets a brief cites, and the outbox of notes and webhook calls.

Which log entries go where is decided here, in one place (`TICKET_NOTE_KINDS`, `WEBHOOK_KINDS`).
`enqueue` runs inside `running_log.add_log`, so an outbox row exists exactly when its log entry does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, select

from bot.domain.brief import format_ref, message_link
from bot.domain.status import LogKind
from bot.domain.tickets import TicketRef, TicketSystem
from bot.domain.visibility import PRIVATE_DESTINATIONS, is_private
from bot.storage.models import Escalation, EscalationLog, Outbox, OutboxState, TicketLink

WEBHOOK = "webhook"

# The method's key events of the running log, added to the linked ticket as internal notes.
TICKET_NOTE_KINDS = frozenset(
    {
        LogKind.POSTED.value,  # escalated: the brief reached the receiving team
        LogKind.ACKNOWLEDGED.value,
        LogKind.SEVERITY_CHANGED.value,
        LogKind.DEESCALATED.value,
        LogKind.RESOLVED.value,  # with lessons learned
    }
)
# Every entry goes to the webhook, except its own failures (a failing webhook must not feed itself).
WEBHOOK_KINDS = frozenset(k.value for k in LogKind) - {LogKind.SYNC_FAILED.value}


# --- ticket links ------------------------------------------------------------------------------


def link_tickets(session: Session, escalation: Escalation, refs: list[TicketRef], *, now: datetime) -> list[TicketLink]:
    links = []
    for ref in refs:
        link = TicketLink(escalation_id=escalation.id, team_id=escalation.team_id, system=ref.system.value, key=ref.key, created_at=now)
        session.add(link)
        links.append(link)
    session.flush()
    return links


def ticket_links(session: Session, escalation_id: int) -> list[TicketLink]:
    return list(session.exec(select(TicketLink).where(TicketLink.escalation_id == escalation_id).order_by(TicketLink.id)))


@dataclass(frozen=True)
class EarlierEscalation:
    ticket: TicketRef
    escalation_id: int
    ref: str
    status: str
    created_at: datetime


def earlier_escalations(session: Session, escalation_id: int, *, limit: int = 10) -> list[EarlierEscalation]:
    """Other briefs in the same workspace that cited one of this brief's tickets, oldest first: those
    that may be named in this brief's channel (a private brief only in its own: bot.domain.visibility)."""
    mine = ticket_links(session, escalation_id)
    if not mine:
        return []
    shown_in = session.exec(select(Escalation.channel_id).where(Escalation.id == escalation_id)).one()
    pairs = [(link.system, link.key) for link in mine]
    other = (
        select(TicketLink.system, TicketLink.key, Escalation.id, Escalation.number, Escalation.status, Escalation.created_at)
        .join(Escalation, Escalation.id == TicketLink.escalation_id)
        .where(
            TicketLink.team_id == mine[0].team_id,
            TicketLink.escalation_id != escalation_id,
            Escalation.id < escalation_id,
            or_(Escalation.destination.notin_(sorted(PRIVATE_DESTINATIONS)), Escalation.channel_id == shown_in),
            or_(*[(TicketLink.system == s) & (TicketLink.key == k) for s, k in pairs]),
        )
        .order_by(Escalation.created_at, Escalation.id)
        .limit(limit)
    )
    return [
        EarlierEscalation(TicketRef(TicketSystem(system), key), esc_id, format_ref(number), status, created_at)
        for system, key, esc_id, number, status, created_at in session.execute(other).all()
    ]


def save_facts(
    session: Session,
    link_id: int,
    *,
    now: datetime,
    status: str | None = None,
    priority: str | None = None,
    organization: str | None = None,
    sla_name: str | None = None,
    sla_due_at: datetime | None = None,
    error: str | None = None,
) -> None:
    link = session.get(TicketLink, link_id)
    if link is None:
        return
    link.fetched_at = now
    if error is not None:
        link.fetch_error = error[:255]
    else:
        link.status, link.priority = _cut(status, 64), _cut(priority, 64)
        link.organization, link.sla_name, link.sla_due_at, link.fetch_error = _cut(organization, 255), _cut(sla_name, 255), sla_due_at, None
    session.add(link)


def _cut(value: str | None, n: int) -> str | None:
    return value[:n] if value else None


# --- the outbox --------------------------------------------------------------------------------


def enqueue(session: Session, entry: EscalationLog, sinks: frozenset[str], *, private_details: bool = False) -> list[Outbox]:
    """Outbox rows for one log entry: a note per linked ticket of each enabled system, and the webhook."""
    return enqueue_all(session, [entry], sinks, private_details=private_details)


def enqueue_all(session: Session, entries: list[EscalationLog], sinks: frozenset[str], *, private_details: bool = False) -> list[Outbox]:
    """Outbox rows for several log entries (the tick's nudges), flushed together: one INSERT, not one per entry.
    `private_details`: ESCALATION_SECURITY_DETAILS_OUTSIDE_SLACK (see entry_payload)."""
    rows: list[Outbox] = []
    for entry in entries:
        escalation = session.get(Escalation, entry.escalation_id)  # the tick has them loaded: no query
        if escalation is None:
            continue
        payload = entry_payload(entry, escalation, private_details=private_details)
        if entry.kind in TICKET_NOTE_KINDS:
            for link in ticket_links(session, entry.escalation_id):
                if link.system in sinks:
                    rows.append(
                        Outbox(
                            escalation_id=entry.escalation_id,
                            log_id=entry.id,
                            sink=link.system,
                            target=link.key,
                            payload=payload,
                            next_attempt_at=entry.at,
                            created_at=entry.at,
                        )
                    )
        if WEBHOOK in sinks and entry.kind in WEBHOOK_KINDS:
            rows.append(
                Outbox(
                    escalation_id=entry.escalation_id, log_id=entry.id, sink=WEBHOOK, target="", payload=payload, next_attempt_at=entry.at, created_at=entry.at
                )
            )
    session.add_all(rows)
    if rows:
        session.flush()
    return rows


def entry_payload(entry: EscalationLog, escalation: Escalation, *, private_details: bool = False) -> dict:
    """What a receiver gets: the log entry and enough of the brief to act on it (JSON-safe).

    A private (security) brief's entries carry only what happened and when, the ID, severity, status
    and a link to the brief in Slack, unless `private_details` (off by default) says otherwise: its
    summary, the text people typed and who they are stay in Slack."""
    if is_private(escalation.destination) and not private_details:
        return {
            "event": "escalation.log_entry",
            "details_withheld": True,
            "entry": {"id": entry.id, "kind": entry.kind, "at": entry.at.isoformat()},
            "escalation": {
                "id": escalation.id,
                "ref": format_ref(escalation.number),
                "team_id": escalation.team_id,
                "severity": escalation.severity,
                "status": escalation.status,
                "link": message_link(escalation.channel_id, escalation.message_ts) if escalation.message_ts else None,
            },
        }
    return {
        "event": "escalation.log_entry",
        "entry": {"id": entry.id, "kind": entry.kind, "actor": entry.actor, "text": entry.text, "at": entry.at.isoformat(), "data": entry.data},
        "escalation": {
            "id": escalation.id,
            "ref": format_ref(escalation.number),
            "team_id": escalation.team_id,
            "severity": escalation.severity,
            "destination": escalation.destination,
            "status": escalation.status,
            "summary": escalation.summary,
            "channel_id": escalation.channel_id,
            "message_ts": escalation.message_ts,
        },
    }


@dataclass(frozen=True)
class ClaimedWork:
    id: int
    escalation_id: int
    sink: str
    target: str
    payload: dict
    attempts: int


def claim_outbox(session: Session, *, now: datetime, owner: str, lease: timedelta, limit: int = 100) -> list[ClaimedWork]:
    """Lease due rows in one statement (SKIP LOCKED on PostgreSQL; SQLite's BEGIN IMMEDIATE serialises)."""
    due = (
        select(Outbox.id)
        .where(Outbox.state == OutboxState.PENDING.value, Outbox.next_attempt_at <= now, or_(Outbox.lease_until.is_(None), Outbox.lease_until < now))
        .order_by(Outbox.next_attempt_at, Outbox.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = session.execute(
        update(Outbox)
        .where(Outbox.id.in_(due))
        .values(lease_owner=owner, lease_until=now + lease)
        .returning(Outbox.id, Outbox.escalation_id, Outbox.sink, Outbox.target, Outbox.payload, Outbox.attempts)
    ).all()
    return sorted((ClaimedWork(*row) for row in rows), key=lambda w: w.id)


def mark_delivered(session: Session, work_id: int, *, owner: str, now: datetime) -> None:
    session.execute(
        update(Outbox)
        .where(Outbox.id == work_id, Outbox.lease_owner == owner)
        .values(state=OutboxState.DELIVERED.value, attempts=Outbox.attempts + 1, delivered_at=now, lease_owner=None, lease_until=None, last_error=None)
    )


def mark_attempt_failed(session: Session, work_id: int, *, owner: str, error: str, retry_at: datetime | None) -> None:
    """Count the attempt; retry at `retry_at`, or give up (state failed) when it is None."""
    values: dict = {"attempts": Outbox.attempts + 1, "last_error": error[:255], "lease_owner": None, "lease_until": None}
    if retry_at is None:
        values["state"] = OutboxState.FAILED.value
    else:
        values["next_attempt_at"] = retry_at
    session.execute(update(Outbox).where(Outbox.id == work_id, Outbox.lease_owner == owner).values(**values))


def outbox_rows(session: Session, escalation_id: int | None = None) -> list[Outbox]:
    query = select(Outbox).order_by(Outbox.id)
    if escalation_id is not None:
        query = query.where(Outbox.escalation_id == escalation_id)
    return list(session.exec(query))

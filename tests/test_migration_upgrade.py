"""Data created at the oldest migration survives `escalation-bot db upgrade` intact, on SQLite and
PostgreSQL: the rows are written with raw SQL at revision 0001 (as an old version of the bot left
them), then the real command line upgrades the database to head."""

from __future__ import annotations

import json

from alembic import command
from sqlalchemy import create_engine, text

from bot.domain.brief import Destination
from bot.domain.status import EscalationStatus
from bot.domain.validation import validate_draft
from bot.storage import escalations, running_log, search
from bot.storage.db import Database, alembic_config
from tests.factories import NOW, draft
from tests.test_cli import base_env, run

OLD_ROWS = [
    # id, number, status, summary, channel, ts
    (1, 1, "open", "CSV export times out for large reports", "C0ENGINEER", "1700000000.000100"),
    (2, 2, "pending_delivery", "Invoice totals wrong after the currency switch", "C0PRODUCT1", None),
]


def _at(dialect: str, clock_time: str) -> str:
    return f"2026-11-27 {clock_time}" + ("+00:00" if dialect == "postgresql" else ".000000")


def _write_old_rows(url: str) -> None:
    engine = create_engine(url)
    dialect = engine.dialect.name
    as_json = "CAST(:brief AS JSON)" if dialect == "postgresql" else ":brief"
    with engine.begin() as conn:
        for id_, number, status, summary, channel, ts in OLD_ROWS:
            destination = Destination.ENGINEERING if channel == "C0ENGINEER" else Destination.PRODUCT
            brief = validate_draft(draft(destination, now=NOW, summary=summary), now=NOW).model_dump(mode="json")
            conn.execute(
                text(
                    "INSERT INTO escalation (id, team_id, number, submission_key, destination, severity, status, summary, narrative, agent_user_id, "
                    "source_channel_id, channel_id, message_ts, delivery_error, deadline_at, brief, created_at, updated_at, posted_at) VALUES "
                    f"(:id, 'T0001', :number, :key, :destination, 'high', :status, :summary, :narrative, 'U0AGENT', 'C0SUPPORT', :channel, :ts, :error, "
                    f":deadline, {as_json}, :created, :updated, :posted)"
                ),
                dict(
                    id=id_,
                    number=number,
                    key=f"V{id_}",
                    destination=destination.value,
                    status=status,
                    summary=summary,
                    narrative=brief["narrative"],
                    channel=channel,
                    ts=ts,
                    error=None if ts else "not_in_channel",
                    deadline=_at(dialect, "18:00:00"),
                    brief=json.dumps(brief),
                    created=_at(dialect, "09:00:00"),
                    updated=_at(dialect, "09:01:00"),
                    posted=_at(dialect, "09:01:00") if ts else None,
                ),
            )
            conn.execute(
                text("INSERT INTO escalation_log (escalation_id, at, actor, kind, text) VALUES (:e, :at, 'U0AGENT', 'created', 'Escalated')"),
                dict(e=id_, at=_at(dialect, "09:00:00")),
            )
        conn.execute(
            text("INSERT INTO escalation_log (escalation_id, at, actor, kind, text) VALUES (1, :at, 'bot', 'posted', 'Posted to <#C0ENGINEER>')"),
            dict(at=_at(dialect, "09:01:00")),
        )
        conn.execute(text("INSERT INTO escalation_counter (team_id, last_number) VALUES ('T0001', 2)"))
    engine.dispose()


def test_data_from_the_first_migration_survives_db_upgrade(database_url, tmp_path):
    command.upgrade(alembic_config(database_url), "0001")  # the oldest schema
    _write_old_rows(database_url)

    result = run(["db", "upgrade"], base_env(database_url=database_url), tmp_path)
    assert result.returncode == 0, result.stderr

    db = Database(database_url)
    try:
        with db.session() as s:
            for id_, number, status, summary, channel, ts in OLD_ROWS:
                row = escalations.get_escalation(s, id_)
                assert (row.number, row.status, row.summary, row.channel_id, row.message_ts) == (number, status, summary, channel, ts)
                assert escalations.brief_of(row).summary == summary  # the stored brief still reads as a Brief
                assert row.created_at.isoformat() == "2026-11-27T09:00:00+00:00" and row.agent_tz == "UTC"
                assert row.delivery_attempts == 0
            assert [e.kind for e in running_log.log_entries(s, 1)] == ["created", "posted"]
            assert [e.kind for e in running_log.log_entries(s, 2)] == ["created"]
            # An old pending brief is retried by the new tick; an old posted one is not.
            assert escalations.get_escalation(s, 2).next_delivery_at is not None and escalations.get_escalation(s, 1).next_delivery_at is None
            assert escalations.get_escalation(s, 2).status == EscalationStatus.PENDING_DELIVERY.value
            # Numbering goes on where it stopped; old briefs are searchable.
            assert escalations.next_number(s, "T0001") == 3
            assert [m.escalation_id for m in search.search_escalations(s, team_id="T0001", words="currency switch")] == [2]
        second = run(["db", "upgrade"], base_env(database_url=database_url), tmp_path)  # again: nothing to do, nothing lost
        assert second.returncode == 0, second.stderr
        with db.session() as s:
            assert escalations.get_escalation(s, 1).summary == OLD_ROWS[0][3]
    finally:
        db.dispose()

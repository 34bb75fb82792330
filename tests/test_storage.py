"""Storage on SQLite and (when TEST_POSTGRES_URL is set) PostgreSQL: the same code, the same results."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlmodel import select

from bot.domain.brief import Destination
from bot.domain.status import EscalationStatus
from bot.domain.validation import validate_draft
from bot.storage import escalations, follow_ups, running_log, search
from bot.storage.db import Database
from tests.factories import NOW, draft


def brief(destination=Destination.ENGINEERING, **kw):
    return validate_draft(draft(destination, **kw), now=NOW)


def create(session, team="T1", key=None, b=None):
    return escalations.create_escalation(session, team_id=team, brief=b or brief(), agent_user_id="U1", channel_id="C1", now=NOW, submission_key=key)


def test_times_come_back_aware_utc_whatever_zone_went_in(db):
    paris = NOW.astimezone(ZoneInfo("Europe/Paris"))
    with db.session() as s:
        created = create(s)
        running_log.add_log(s, created.escalation.id, actor="U1", kind="note", text="x", at=paris)
    with db.session() as s:
        row = escalations.get_escalation(s, created.escalation.id)
        assert row.created_at == NOW and row.created_at.tzinfo is not None
        assert row.created_at.utcoffset() == timedelta(0)
        entry = running_log.log_entries(s, row.id)[-1]
        assert entry.at == NOW and entry.at.tzinfo is not None  # 11:00+01:00 stored and read as 10:00Z
        assert row.deadline_at == brief().request.deadline


def test_naive_datetimes_are_refused(db):
    with pytest.raises(Exception, match="naive"):
        with db.session() as s:
            created = create(s)
            running_log.add_log(s, created.escalation.id, actor="U1", kind="note", text="x", at=datetime(2026, 1, 1))


def test_numbers_are_per_workspace_and_sequential(db):
    with db.session() as s:
        numbers = [create(s, team="T1").escalation.number for _ in range(3)] + [create(s, team="T2").escalation.number]
    assert numbers == [1, 2, 3, 1]
    with db.session() as s:
        assert escalations.get_by_number(s, "T1", 3) is not None and escalations.get_by_number(s, "T2", 2) is None


def test_concurrent_creates_never_share_a_number(db):
    errors, numbers = [], []

    def worker():
        try:
            for _ in range(5):
                with db.session() as s:
                    numbers.append(create(s, team="T9").escalation.number)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    assert sorted(numbers) == list(range(1, 21))


def test_the_full_brief_round_trips(db):
    original = brief(Destination.SECURITY)
    with db.session() as s:
        escalation_id = create(s, b=original).escalation.id
    with db.session() as s:
        assert escalations.brief_of(escalations.get_escalation(s, escalation_id)) == original


def test_the_same_submission_is_stored_once(db):
    with db.session() as s:
        first = create(s, key="V123")
    with db.session() as s:
        second = create(s, key="V123")
    assert first.is_new and not second.is_new
    assert first.escalation.id == second.escalation.id
    with db.session() as s:  # the repeat used no number: numbers stay without gaps
        third = create(s, key="V124")
    assert third.escalation.number == first.escalation.number + 1
    with db.session() as s:  # and the repeat is not in the full-text index twice
        assert [m.escalation_id for m in search.search_escalations(s, team_id="T1", words=brief().summary)][:1] in (
            [first.escalation.id],
            [third.escalation.id],
        )
        assert len(search.search_escalations(s, team_id="T1", words=brief().summary)) == 2


def test_only_one_poster_claims_a_brief(db):
    with db.session() as s:
        escalation_id = create(s).escalation.id
    with db.session() as s:
        assert escalations.claim_delivery(s, escalation_id, now=NOW)
    with db.session() as s:
        assert not escalations.claim_delivery(s, escalation_id, now=NOW + timedelta(seconds=5))
    with db.session() as s:  # a poster that died frees it when the lease runs out
        assert escalations.claim_delivery(s, escalation_id, now=NOW + escalations.DELIVERY_LEASE + timedelta(seconds=1))
    with db.session() as s:
        escalations.mark_posted(s, escalation_id, channel_id="C1", ts="1.2", now=NOW)
    with db.session() as s:
        assert not escalations.claim_delivery(s, escalation_id, now=NOW + timedelta(days=1))


def test_planning_a_posted_briefs_timers_twice_keeps_one_timer_per_kind(db):
    """A poster whose lease ran out and the attempt after it both record the post: the second plan
    replaces the first (snooze cleared, a tick's lease kept), never a second timer."""
    from bot.domain.follow_through import Plan
    from bot.domain.status import FollowUpKind
    from bot.storage.models import FollowUp

    with db.session() as s:
        escalation_id = create(s).escalation.id
    first = [Plan(FollowUpKind.CHECKIN, NOW + timedelta(hours=4), NOW), Plan(FollowUpKind.ACK, NOW + timedelta(minutes=30), NOW)]
    with db.session() as s:
        follow_ups.plan_follow_ups(s, escalation_id, first)
    with db.session() as s:
        for row in follow_ups.follow_ups(s, escalation_id).values():
            row.snoozed_until, row.lease_owner, row.lease_until, row.active = NOW + timedelta(hours=1), "tick-1", NOW + timedelta(minutes=1), False
            s.add(row)
    later = NOW + timedelta(minutes=3)
    with db.session() as s:
        follow_ups.plan_follow_ups(
            s,
            escalation_id,
            [Plan(FollowUpKind.CHECKIN, later + timedelta(hours=4), later, stage="due"), Plan(FollowUpKind.DEADLINE, later + timedelta(days=1), later)],
        )
    with db.session() as s:
        rows = follow_ups.follow_ups(s, escalation_id)
        assert len(s.exec(select(FollowUp).where(FollowUp.escalation_id == escalation_id)).all()) == 3
    checkin, ack, deadline = rows["checkin"], rows["ack"], rows["deadline"]
    assert (checkin.next_due_at, checkin.anchor_at, checkin.stage) == (later + timedelta(hours=4), later, "due")
    assert checkin.active and checkin.snoozed_until is None and checkin.lease_owner == "tick-1"
    assert ack.next_due_at == NOW + timedelta(minutes=30) and not ack.active  # not in the new plan: left as it was
    assert deadline.active and deadline.next_due_at == later + timedelta(days=1)


def test_running_log_records_state_changes_in_order(db):
    with db.session() as s:
        escalation_id = create(s).escalation.id
        escalations.mark_delivery_failed(s, escalation_id, error="not_in_channel", now=NOW + timedelta(minutes=1))
        escalations.mark_posted(s, escalation_id, channel_id="C1", ts="1.2", now=NOW + timedelta(minutes=2))
    with db.session() as s:
        log = running_log.log_entries(s, escalation_id)
        row = escalations.get_escalation(s, escalation_id)
    assert [(e.kind, e.actor) for e in log] == [("created", "U1"), ("delivery_failed", "bot"), ("posted", "bot")]
    assert row.status == EscalationStatus.OPEN.value and row.delivery_error is None


def test_migrations_are_idempotent_and_recorded(db):
    from alembic.script import ScriptDirectory

    from bot.storage.db import alembic_config

    db.upgrade()
    head = ScriptDirectory.from_config(alembic_config(db.url)).get_current_head()  # one head: migrations form a chain
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(sqlite_db):
    with sqlite_db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_postgresql_plans_each_statement_for_its_own_parameters(db):
    """psycopg prepares a statement server-side after 5 runs, and PostgreSQL may then keep one generic
    plan for any parameters: for full-text matching that read 3-4x more (bot.storage.db.make_engine)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    with db.engine.connect() as conn:
        for _ in range(10):
            conn.execute(text("SELECT count(*) FROM escalation WHERE team_id = :team"), {"team": "T1"})
        assert conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar() == 0


def test_ping_reports_a_dead_database(tmp_path):
    assert not Database("postgresql+psycopg://nobody@127.0.0.1:1/none").ping()
    assert Database(f"sqlite:///{tmp_path / 'x.db'}").ping()


def test_models_and_migrations_agree(db):
    """A model change without its migration fails here, on SQLite and PostgreSQL."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    from bot.storage.search import include_object

    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object}), SQLModel.metadata) == []


def test_migrations_downgrade_and_upgrade_again(db):
    from alembic import command

    from bot.storage.db import alembic_config

    cfg = alembic_config(db.url, db.engine)
    command.downgrade(cfg, "base")
    command.upgrade(cfg, "head")
    with db.session() as s:
        assert create(s).escalation.number == 1

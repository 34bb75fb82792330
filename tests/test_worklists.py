"""Home-tab lists on SQLite and PostgreSQL: who sees what, overdue first, paging in SQL."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.status import FollowUpKind
from bot.storage import follow_ups, worklists
from tests.test_stats_storage import AGENT, T0, TEAM, brief

ENG, SEC = "C0ENGINEER", "G0SECURITY"
NOW = T0 + timedelta(days=1)


def seed(db) -> dict[str, int]:
    with db.session() as s:
        calm = brief(s, 1, created=T0, deadline=NOW + timedelta(days=3))
        late_checkin = brief(s, 2, created=T0, deadline=NOW + timedelta(days=2))
        follow_ups.upsert_follow_up(s, late_checkin.id, FollowUpKind.CHECKIN.value, next_due_at=NOW - timedelta(minutes=5), anchor_at=T0)
        follow_ups.upsert_follow_up(s, calm.id, FollowUpKind.CHECKIN.value, next_due_at=NOW + timedelta(hours=2), anchor_at=T0)
        past_deadline = brief(s, 3, created=T0, deadline=NOW - timedelta(hours=1))
        soon = brief(s, 4, created=T0, deadline=NOW + timedelta(hours=1))
        secret = brief(s, 5, created=T0, destination="security", deadline=NOW + timedelta(days=1))
        secret.channel_id = SEC
        closed = brief(s, 6, created=T0, status="resolved")
        owned = brief(s, 7, created=T0)
        owned.agent_user_id, owned.channel_id, owned.receiving_owner_id, owned.status = "U0OTHER", "C0PRODUCT1", "U0ENGINEER", "acknowledged"
        s.add_all([secret, owned])
        return {
            "calm": calm.id,
            "late_checkin": late_checkin.id,
            "past": past_deadline.id,
            "soon": soon.id,
            "secret": secret.id,
            "closed": closed.id,
            "owned": owned.id,
        }


def numbers(page) -> list[int]:
    return [r.number for r in page.rows]


def test_mine_overdue_first_then_nearest_deadline_and_paged(db):
    seed(db)
    with db.session() as s:
        page = worklists.mine(s, TEAM, AGENT, now=NOW, limit=3)
        rest = worklists.mine(s, TEAM, AGENT, now=NOW, offset=3, limit=3)
    assert (page.total, page.overdue) == (5, 2) and page.has_more and not rest.has_more
    assert numbers(page) == [3, 2, 4] and numbers(rest) == [5, 1]  # overdue (deadline, then check-in), then by deadline
    assert page.rows[1].next_checkin_at == NOW - timedelta(minutes=5) and page.rows[1].overdue and not page.rows[2].overdue


def test_waiting_on_team_by_channel_membership_or_ownership_and_security_only_to_its_channel(db):
    seed(db)
    with db.session() as s:
        engineer = worklists.waiting_on_team(s, TEAM, "U0ENGINEER", {ENG}, now=NOW)
        analyst = worklists.waiting_on_team(s, TEAM, "U0ANALYST", {SEC}, now=NOW)
        outsider = worklists.waiting_on_team(s, TEAM, "U0OUTSIDER", set(), now=NOW)
    assert 5 not in numbers(engineer) and 6 not in numbers(engineer) and {1, 2, 3, 4, 7} == set(numbers(engineer))
    assert numbers(analyst) == [5] and outsider.total == 0

"""The weekly digest: Monday 09:00 in ESCALATION_DIGEST_TZ, to the leadership channel.

The past week's figures against the week before (bot.storage.stats, the same as /escalate stats)
and a PNG chart of daily volume by severity, uploaded with Slack's current flow (files.getUploadURLExternal,
the bytes to the upload URL, files.completeUploadExternal) in the digest's thread.

Scheduling is the nudges' design: APScheduler only calls `tick`; the database decides. Each period
has one digest_run row (unique key) leased by one replica at a time, so N replicas send one digest.
A digest more than CATCH_UP late (the bot was down all Monday) is skipped rather than sent stale.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from blocks.digest_chart import stacked_bars
from blocks.stats import stats_blocks
from bot.clock import Clock
from bot.slack_api.gateway import SlackCallFailed, SlackGateway
from bot.slack_api.workspace import serving_team
from bot.storage import digests, stats
from bot.storage.db import Database
from bot.usecases.nudges import worker_id

log = logging.getLogger(__name__)

SEND_AT = time(9, 0)
WEEKDAY = 0  # Monday
CATCH_UP = timedelta(hours=24)
LEASE = timedelta(minutes=5)

CLAIMED = "done or claimed elsewhere"


@dataclass(frozen=True)
class Week:
    key_date: date  # the local Monday the digest is due
    due: datetime  # Monday 09:00 local, as an aware datetime
    since: datetime  # the Monday 09:00 before
    previous_since: datetime  # and the one before that
    day_starts: list[datetime]  # local midnights of the seven days before the due date, and the due date's


def week_due(now: datetime, tz: str) -> Week:
    """The latest digest due at or before `now` (local Monday 09:00, daylight saving included)."""
    zone = ZoneInfo(tz)
    local_now = now.astimezone(zone)
    monday = local_now.date() - timedelta(days=(local_now.weekday() - WEEKDAY) % 7)
    if datetime.combine(monday, SEND_AT, zone) > local_now:
        monday -= timedelta(days=7)

    def at(day: date, when: time = SEND_AT) -> datetime:
        return datetime.combine(day, when, zone)

    return Week(
        monday, at(monday), at(monday - timedelta(days=7)), at(monday - timedelta(days=14)), [at(monday - timedelta(days=7 - i), time(0)) for i in range(8)]
    )


@dataclass
class DigestReport:
    sent: bool = False
    skipped: str | None = None  # why nothing was sent this tick


class Digest:
    def __init__(
        self,
        db: Database,
        gateway: SlackGateway,
        clock: Clock,
        *,
        channel_id: str,
        tz: str = "UTC",
        enabled: bool = True,
        owner: str | None = None,
        installed_teams: Callable[[], list[str]] | None = None,
    ) -> None:
        self.db = db
        self.gateway = gateway
        self.clock = clock
        self.channel_id = channel_id
        self.tz = tz
        self.enabled = enabled
        self.owner = owner or worker_id()
        self.installed_teams = installed_teams  # several workspaces: each installed one gets its digest
        self._team_id: str | None = None

    def teams(self) -> list[str]:
        """The workspaces to send a digest to: every installation, or the one token's workspace."""
        if self.installed_teams is not None:
            return self.installed_teams()
        if self._team_id is None:
            self._team_id = str(self.gateway.auth_test().get("team_id") or "")
        return [self._team_id]

    def tick(self) -> DigestReport:
        if not self.enabled:
            return DigestReport(skipped="disabled")
        now = self.clock.now()
        week = week_due(now, self.tz)
        if now - week.due > CATCH_UP:
            return DigestReport(skipped="not due")
        try:
            teams = self.teams()
        except SlackCallFailed as exc:  # Slack unreachable: the next minute tries again
            return DigestReport(skipped=f"slack: {exc.error}")
        outcomes = []
        for team in teams:
            with serving_team(team):  # that workspace's token (several workspaces; no effect with one)
                outcomes.append(self._one(team, week, now))
        if any(o.sent for o in outcomes):
            return DigestReport(sent=True)
        return next((o for o in outcomes if o.skipped != CLAIMED), DigestReport(skipped=CLAIMED))

    def _one(self, team: str, week: Week, now: datetime) -> DigestReport:
        key = f"weekly:{team}:{week.key_date.isoformat()}"
        with self.db.session() as s:
            run = digests.claim(s, key, owner=self.owner, now=now, lease=LEASE)
        if run is None:
            return DigestReport(skipped=CLAIMED)
        try:
            self._send(run, team, week)
        except SlackCallFailed as exc:
            log.warning("weekly digest %s not completed: %s (will retry)", key, exc.error)
            with self.db.session() as s:
                digests.release(s, run.id, owner=self.owner)
            return DigestReport(skipped=f"slack: {exc.error}")
        return DigestReport(sent=True)

    def _send(self, run: digests.ClaimedDigest, team: str, week: Week) -> None:
        channel, ts = run.channel_id, run.message_ts
        if ts is None:
            with self.db.session() as s:
                current = stats.figures(s, team, week.since, week.due)
                previous = stats.figures(s, team, week.previous_since, week.since)
            text, blocks = stats_blocks(current, title="Weekly escalation digest", previous=previous)
            channel, ts = self.gateway.post_message(self.channel_id, text=text, blocks=blocks)
            with self.db.session() as s:
                digests.record(s, run.id, owner=self.owner, channel_id=channel, message_ts=ts)
        if run.chart_file_id is None:
            with self.db.session() as s:
                volume = stats.daily_volume(s, team, week.day_starts)
            png = chart_png(volume, week, self.tz)
            first, last = week.day_starts[0].astimezone(ZoneInfo(self.tz)), week.day_starts[-2].astimezone(ZoneInfo(self.tz))
            file_id = self.gateway.upload_file(
                channel or self.channel_id,  # recorded with the message: set whenever ts is
                filename=f"escalations-{week.key_date.isoformat()}.png",
                content=png,
                title=f"Escalations per day by severity, {first:%d %b} – {last:%d %b}",
                initial_comment="Daily volume by severity",
                thread_ts=ts,
            )
            with self.db.session() as s:
                digests.record(s, run.id, owner=self.owner, chart_file_id=file_id or "uploaded")
        with self.db.session() as s:
            digests.record(s, run.id, owner=self.owner, done_at=self.clock.now(), lease_owner=None, lease_until=None)


def chart_png(volume: dict[str, list[int]], week: Week, tz: str) -> bytes:
    zone = ZoneInfo(tz)
    days = [d.astimezone(zone) for d in week.day_starts[:-1]]
    labels = [f"{d:%a} {d.day}" for d in days]
    series = {severity: volume.get(severity, [0] * 7) for severity in ("critical", "high", "medium")}
    return stacked_bars(labels, series, title=f"Escalations per day by severity, {days[0]:%d %b} - {days[-1]:%d %b}")

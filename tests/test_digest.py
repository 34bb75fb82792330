"""The weekly digest: when it is due, the chart it draws, and that several replicas send it once,
with Slack's upload flow (getUploadURLExternal → bytes → completeUploadExternal) on the stand-in."""

from __future__ import annotations

import json
import struct
import threading
import zlib
from datetime import UTC, datetime, timedelta

import pytest

from blocks.digest_chart import SEVERITY_COLORS, stacked_bars
from bot.domain.brief import Destination
from bot.settings import SettingsError, load_settings
from bot.storage import digests
from bot.usecases.digest import Digest, week_due
from tests.conftest import CHANNELS, settings_env
from tests.e2e import wait_until
from tests.test_home_flow import post_brief

LEADERSHIP = CHANNELS[Destination.LEADERSHIP][0]
PARIS_MONDAY_9 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 09:00 in Paris (CET, UTC+1)


def read_png(data: bytes) -> tuple[int, int, bytes]:
    """Parse a PNG by hand: signature, every chunk's CRC, IHDR, the inflated scanlines. (width, height, pixels)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, f"bad CRC in {kind}"
        chunks.append((kind, body))
        pos += 12 + length
    assert [k for k, _ in chunks][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, color, *_ = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, color) == (8, 2)
    raw = zlib.decompress(b"".join(b for k, b in chunks if k == b"IDAT"))
    assert len(raw) == height * (1 + 3 * width)
    pixels = b"".join(raw[y * (1 + 3 * width) + 1 : (y + 1) * (1 + 3 * width)] for y in range(height) if raw[y * (1 + 3 * width)] == 0)
    return width, height, pixels


def colours(pixels: bytes) -> set[tuple[int, int, int]]:
    return {tuple(pixels[i : i + 3]) for i in range(0, len(pixels), 3)}


# --- when --------------------------------------------------------------------------------------


def test_the_digest_is_due_monday_at_nine_in_its_zone():
    week = week_due(PARIS_MONDAY_9, "Europe/Paris")
    assert week.due == PARIS_MONDAY_9 and week.key_date.isoformat() == "2026-11-30"
    assert week.since == PARIS_MONDAY_9 - timedelta(days=7) and week.previous_since == PARIS_MONDAY_9 - timedelta(days=14)
    assert len(week.day_starts) == 8 and week.day_starts[0] == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)  # Mon 23 Nov 00:00 Paris
    assert week_due(PARIS_MONDAY_9 - timedelta(minutes=1), "Europe/Paris").key_date.isoformat() == "2026-11-23"
    assert week_due(PARIS_MONDAY_9, "UTC").key_date.isoformat() == "2026-11-23"  # 08:00 UTC: not yet 09:00 there
    # Across the change to summer time the local 09:00 holds: 30 Mar 2026 is CEST (UTC+2).
    assert week_due(datetime(2026, 3, 30, 7, 0, tzinfo=UTC), "Europe/Paris").due == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


def test_digest_time_zone_is_validated(tmp_path):
    env = {**settings_env(None, "sqlite:///x.db"), "ESCALATION_DIGEST_TZ": "Mars/Olympus"}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        with pytest.raises(SettingsError) as exc:
            load_settings(env_file=None)
        assert "ESCALATION_DIGEST_TZ" in str(exc.value) and "IANA" in str(exc.value)
        mp.setenv("ESCALATION_DIGEST_TZ", "America/New_York")
        assert load_settings(env_file=None).digest_tz == "America/New_York"


# --- the chart -----------------------------------------------------------------------------------


def test_the_chart_is_a_valid_png_with_a_bar_per_severity():
    png = stacked_bars(
        ["MON 23", "TUE 24", "WED 25", "THU 26", "FRI 27", "SAT 28", "SUN 29"],
        {"critical": [1, 0, 0, 0, 0, 0, 0], "high": [0, 3, 0, 0, 0, 0, 0], "medium": [0, 0, 2, 0, 0, 0, 0]},
        title="Test",
    )
    width, height, pixels = read_png(png)
    assert (width, height) == (720, 400)
    assert set(SEVERITY_COLORS.values()) <= colours(pixels)
    empty = read_png(stacked_bars(["MON"], {"critical": [0], "high": [0], "medium": [0]}, title="None"))[2]
    assert colours(empty) >= {(255, 255, 255)}


# --- claim once, send once -------------------------------------------------------------------


def replicas(bot, n: int, *, tz: str = "Europe/Paris") -> list[Digest]:
    gateway = bot.services.digest.gateway
    return [Digest(bot.db, gateway, bot.clock, channel_id=LEADERSHIP, tz=tz, owner=f"replica-{i}") for i in range(n)]


def seed_two_weeks(bot) -> None:
    bot.clock.set(datetime(2026, 11, 17, 10, 0, tzinfo=UTC))  # the week before
    post_brief(bot, severity="high")
    bot.clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))  # last week: Tuesday
    post_brief(bot, severity="critical")
    post_brief(bot, severity="high")
    bot.clock.set(datetime(2026, 11, 26, 15, 0, tzinfo=UTC))  # Thursday
    post_brief(bot, Destination.SECURITY, severity="critical", summary="Tenant invoice visible to another tenant")


def leadership_posts(bot) -> list:
    return [c for c in bot.slack.calls("chat.postMessage") if c.args.get("channel") == LEADERSHIP and c.ok]


def test_three_replicas_send_exactly_one_digest_with_its_chart(bot_any_db):
    bot = bot_any_db
    seed_two_weeks(bot)
    tickers = replicas(bot, 3)
    bot.clock.set(PARIS_MONDAY_9 - timedelta(minutes=1))
    assert all(t.tick().skipped == "not due" for t in tickers)  # 08:59 in Paris: not yet

    bot.clock.set(PARIS_MONDAY_9 + timedelta(seconds=20))
    barrier = threading.Barrier(3)
    reports = []

    def run(ticker: Digest) -> None:
        barrier.wait()
        reports.append(ticker.tick())

    threads = [threading.Thread(target=run, args=(t,)) for t in tickers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sum(r.sent for r in reports) == 1, reports
    for later in (timedelta(minutes=1), timedelta(hours=3)):  # later ticks the same Monday send nothing
        bot.clock.set(PARIS_MONDAY_9 + later)
        assert not any(t.tick().sent for t in tickers)

    posts = leadership_posts(bot)
    assert len(posts) == 1
    text = json.dumps(posts[0].args["blocks"], ensure_ascii=False)
    assert "Weekly escalation digest" in text and "*Escalations*\\n3 _(was 1)_" in text
    assert "Critical 2 (+2)" in text and "Security 1 (+1)" in text and "Tenant invoice" not in text
    assert [len(bot.slack.calls(m)) for m in ("files.getUploadURLExternal", "upload", "files.completeUploadExternal")] == [1, 1, 1]
    complete = bot.slack.last("files.completeUploadExternal")
    assert complete.args["channel_id"] == LEADERSHIP and complete.args["thread_ts"] == posts[0].response["ts"]
    (stored,) = bot.slack.files.values()
    width, height, pixels = read_png(stored["content"])
    assert stored["filename"] == "escalations-2026-11-30.png" and {SEVERITY_COLORS["critical"], SEVERITY_COLORS["high"]} <= colours(pixels)
    with bot.db.session() as s:
        run = digests.get(s, "weekly:T0001:2026-11-30")
        assert run.done_at is not None and run.message_ts == posts[0].response["ts"] and run.chart_file_id == stored["id"]


def test_a_failed_upload_is_retried_without_posting_the_digest_again(bot):
    seed_two_weeks(bot)
    (ticker,) = replicas(bot, 1)
    bot.clock.set(PARIS_MONDAY_9)
    bot.slack.fail("files.completeUploadExternal", error="internal_error")
    assert ticker.tick().skipped == "slack: internal_error"
    assert len(leadership_posts(bot)) == 1
    bot.clock.advance(timedelta(minutes=1))
    assert ticker.tick().sent
    assert len(leadership_posts(bot)) == 1 and len(bot.slack.calls("files.completeUploadExternal")) == 2
    assert wait_until(lambda: [f for f in bot.slack.files.values() if f["channel"] == LEADERSHIP], what="chart shared")


def test_a_digest_more_than_a_day_late_is_skipped_and_a_disabled_one_never_runs(bot):
    (ticker,) = replicas(bot, 1)
    bot.clock.set(PARIS_MONDAY_9 + timedelta(days=1, minutes=1))
    assert ticker.tick().skipped == "not due"
    ticker = Digest(bot.db, bot.services.digest.gateway, bot.clock, channel_id=LEADERSHIP, enabled=False)
    bot.clock.set(PARIS_MONDAY_9 + timedelta(hours=1))
    assert ticker.tick().skipped == "disabled" and leadership_posts(bot) == []


def test_the_scheduler_checks_for_the_digest_every_minute_in_every_replica():
    from bot.runtime.scheduler import DIGEST_JOB_ID, start_scheduler
    from bot.usecases.digest import DigestReport
    from tests.test_scheduler import CountingTicker

    class CountingDigest:
        enabled = True
        calls = 0

        def tick(self) -> DigestReport:
            self.calls += 1
            return DigestReport(skipped="not due")

    digest = CountingDigest()
    scheduler = start_scheduler(CountingTicker(), every_seconds=30, digest=digest)
    try:
        job = scheduler.get_job(DIGEST_JOB_ID)
        assert job.trigger.interval == timedelta(seconds=60) and job.coalesce and job.max_instances == 1
        wait_until(lambda: digest.calls >= 1, timeout=5, what="the digest check at start")
    finally:
        scheduler.shutdown(wait=True)

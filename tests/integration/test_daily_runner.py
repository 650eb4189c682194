"""The daily runner: on time across DST, weekday filters, once across restarts, retries and instances."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.bootstrap import build_service
from bot.core.commands import run_text_command
from bot.core.messages import Message
from bot.core.model.daily import PostStatus
from bot.core.service import StudyService
from bot.schedule.poster import PermanentPostError, RetryablePostError
from tests.conftest import CONTENT, FakeClock, member
from tests.daily_helpers import RecordingPoster, Sleeps, make_runner

ADMIN = member("ada", admin=True)


async def cmd(service: StudyService, line: str) -> Message:
    reply = await run_text_command(service, ADMIN, line)
    assert isinstance(reply, Message)
    assert not reply.is_error, reply.title
    return reply


async def configure(service: StudyService, clock: FakeClock, line: str, at: datetime) -> None:
    """Configure with the clock at `at` (a schedule applies from the moment it is set)."""
    saved = clock.now()
    clock.set(at)
    await cmd(service, line)
    clock.set(saved)


# -- on time -------------------------------------------------------------------------------------------

# (zone, day before the change, the change day, 09:00 local in UTC on each)
DST_DAYS = [
    ("Europe/Berlin", date(2026, 3, 28), date(2026, 3, 29), "08:00", "07:00"),  # CET → CEST
    ("Europe/Berlin", date(2026, 10, 24), date(2026, 10, 25), "07:00", "08:00"),  # CEST → CET
    ("America/New_York", date(2026, 3, 7), date(2026, 3, 8), "14:00", "13:00"),  # EST → EDT
    ("America/New_York", date(2026, 10, 31), date(2026, 11, 1), "13:00", "14:00"),  # EDT → EST
]


def utc(day: date, hhmm: str) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(("zone", "before", "change", "utc_before", "utc_change"), DST_DAYS)
async def test_posts_at_local_wall_clock_time_on_dst_change_days(
    service: StudyService,
    clock: FakeClock,
    zone: str,
    before: date,
    change: date,
    utc_before: str,
    utc_change: str,
) -> None:
    await configure(service, clock, f"/daily set general 09:00 {zone}", utc(before, "00:00"))
    poster = RecordingPoster()
    runner = make_runner(service, poster)
    tz = ZoneInfo(zone)

    # The wake-up trigger fires at 09:00 local on both days, whatever the UTC offset.
    (channel,) = await service.daily.channels()
    trigger = runner.trigger_for(channel)
    fire_before = trigger.get_next_fire_time(None, utc(before, "00:00"))
    fire_change = trigger.get_next_fire_time(None, fire_before + timedelta(minutes=1))
    assert fire_before == utc(before, utc_before)
    assert fire_change == utc(change, utc_change)
    assert (
        fire_before.astimezone(tz).strftime("%H:%M")
        == fire_change.astimezone(tz).strftime("%H:%M")
        == "09:00"
    )

    # And the database decides the same: nothing a minute early, one post on the minute.
    for day, at in ((before, utc_before), (change, utc_change)):
        clock.set(utc(day, at) - timedelta(minutes=1))
        await runner.sweep()
        assert len(poster.posts) == (0 if day == before else 1)
        clock.set(utc(day, at))
        await runner.sweep()
        await runner.sweep()
        assert len(poster.posts) == (1 if day == before else 2)
        assert poster.posts[-1].thread_name.endswith(f"{day:%a %d %b %Y}")


async def test_weekday_filter_posts_only_on_those_days(service: StudyService, clock: FakeClock) -> None:
    await configure(
        service, clock, "/daily set general 09:00 UTC ml mon,wed,fri", utc(date(2026, 3, 1), "00:00")
    )
    poster = RecordingPoster()
    runner = make_runner(service, poster)
    posted_on: list[str] = []
    for offset in range(14):  # Sun 1 Mar .. Sat 14 Mar
        clock.set(utc(date(2026, 3, 1) + timedelta(days=offset), "09:30"))
        before = len(poster.posts)
        await runner.sweep()
        if len(poster.posts) > before:
            posted_on.append(clock.now().strftime("%a %d"))
    assert posted_on == ["Mon 02", "Wed 04", "Fri 06", "Mon 09", "Wed 11", "Fri 13"]
    (channel,) = await service.daily.channels()
    assert runner.trigger_for(channel).get_next_fire_time(None, utc(date(2026, 3, 6), "10:00")) == utc(
        date(2026, 3, 9), "09:00"
    )


async def test_a_new_schedule_starts_from_now_and_daily_now_fills_in(
    service: StudyService, clock: FakeClock
) -> None:
    # Set at 12:00 for 09:00: today's time has passed, so the first post is tomorrow, not a surprise now.
    await cmd(service, "/daily set general 09:00 UTC")
    poster = RecordingPoster()
    runner = make_runner(service, poster)
    await runner.sweep()
    assert poster.posts == []
    status = (await cmd(service, "/daily status general")).plain_text()
    assert "Next question: Thu 05 Mar 09:00 UTC" in status


# -- exactly once --------------------------------------------------------------------------------------


async def test_restart_after_missed_days_posts_once_not_a_backlog(
    service: StudyService, clock: FakeClock, db_url: str
) -> None:
    await configure(service, clock, "/daily set general 09:00 Europe/Berlin", utc(date(2026, 3, 1), "00:00"))
    poster = RecordingPoster()
    clock.set(utc(date(2026, 3, 2), "08:00"))  # Mon 09:00 CET
    await make_runner(service, poster).sweep()
    assert len(poster.posts) == 1
    # Down from Monday until Thursday 11:30 local: Tue and Wed are gone, Thursday's is 2.5 h late.
    clock.set(utc(date(2026, 3, 5), "10:30"))
    restarted = await build_service(db_url, [CONTENT], clock=clock)
    try:
        runner = make_runner(restarted, poster, instance="after-restart")
        await runner.start()  # the start-up sweep catches up
        await runner.stop()
        await runner.sweep()  # and later sweeps find nothing more to do
        await make_runner(restarted, poster, instance="another-restart").sweep()
    finally:
        await restarted.store.close()  # type: ignore[attr-defined]
    assert [p.thread_name for p in poster.posts] == [
        "Question of the day · Mon 02 Mar 2026",
        "Question of the day · Thu 05 Mar 2026",
    ]
    # Past the grace window, a missed day stays missed: no post at 16:00 for 09:00.
    clock.set(utc(date(2026, 3, 6), "15:00"))
    await make_runner(service, poster).sweep()
    assert len(poster.posts) == 2


async def test_two_runners_on_one_database_post_each_channel_once(
    service: StudyService, clock: FakeClock, db_url: str
) -> None:
    swept = [f"room-{n}" for n in range(12)]
    raced = [f"race-{n}" for n in range(6)]
    clock.set(utc(date(2026, 3, 4), "08:00"))
    for name in swept + raced:
        await cmd(service, f"/daily set {name} 09:00 UTC")
    clock.set(utc(date(2026, 3, 4), "09:00"))
    today = date(2026, 3, 4)
    other = await build_service(db_url, [CONTENT], clock=clock)  # its own engine and connections
    try:
        poster_a, poster_b = RecordingPoster(delay=0.01), RecordingPoster(delay=0.01)
        runner_a = make_runner(service, poster_a, instance="a")
        runner_b = make_runner(other, poster_b, instance="b")
        by_name = {c.channel_ref: c.id for c in await service.daily.channels()}
        # Both instances woken for the same channels at the same instant, while the other's post is in flight.
        races = await asyncio.gather(
            *(runner.run_channel(by_name[name], today) for name in raced for runner in (runner_a, runner_b))
        )
        # And both sweeping at once (twice each), as after a shared outage.
        sweeps = await asyncio.gather(runner_a.sweep(), runner_b.sweep(), runner_a.sweep(), runner_b.sweep())
    finally:
        await other.store.close()  # type: ignore[attr-defined]
    posted = [p.channel_ref for p in poster_a.posts + poster_b.posts]
    assert sorted(posted) == sorted(swept + raced)
    assert [r.status for r in races].count(PostStatus.POSTED) == len(raced)
    assert [r.status for r in races].count(PostStatus.TAKEN) == len(raced)
    assert sum(r.status is PostStatus.POSTED for batch in sweeps for r in batch) == len(swept)
    for name in swept + raced:
        assert "Today's question went out" in (await cmd(service, f"/daily status {name}")).plain_text()


async def test_permanent_error_pauses_the_channel_and_says_why_until_set_again(
    service: StudyService, clock: FakeClock
) -> None:
    await configure(service, clock, "/daily set general 09:00 UTC", utc(date(2026, 3, 4), "08:00"))
    await configure(service, clock, "/daily set lounge 09:00 UTC", utc(date(2026, 3, 4), "08:00"))
    poster = RecordingPoster()
    poster.fail["general"] = [PermanentPostError("the bot may not post in this channel (Missing Access)")]
    runner = make_runner(service, poster)
    clock.set(utc(date(2026, 3, 4), "09:00"))
    await runner.sweep()
    assert [p.channel_ref for p in poster.posts] == ["lounge"]  # the other channel is unaffected
    assert poster.attempts["general"] == 1  # not retried
    status = (await cmd(service, "/daily status general")).plain_text()
    assert "⏸ Paused: the bot may not post in this channel (Missing Access)" in status
    assert "/daily set again to resume" in status

    clock.set(utc(date(2026, 3, 5), "09:00"))
    await runner.sweep()
    assert poster.count("general") == 0
    now = await run_text_command(service, ADMIN, "/daily now general")
    assert isinstance(now, Message) and now.is_error and "paused" in now.title

    resumed = await cmd(service, "/daily set general 09:00 UTC")
    assert "Resumed; it was paused because: the bot may not post in this channel (Missing Access)" in (
        resumed.plain_text()
    )
    assert "Paused" not in (await cmd(service, "/daily status general")).plain_text()
    clock.set(utc(date(2026, 3, 6), "09:00"))
    await runner.sweep()
    assert poster.count("general") == 1


async def test_permanent_error_on_daily_now_is_reported(service: StudyService) -> None:
    await cmd(service, "/daily set general 09:00 UTC")
    poster = RecordingPoster()
    poster.fail["general"] = [PermanentPostError("channel not found")]
    runner = make_runner(service, poster)
    await runner.start()
    try:
        reply = await run_text_command(service, ADMIN, "/daily now general")
    finally:
        await runner.stop()
    assert isinstance(reply, Message) and reply.is_error
    assert reply.title == "Could not post in #general: channel not found"


async def test_retryable_errors_are_retried_with_backoff_then_posted_once(
    service: StudyService, clock: FakeClock
) -> None:
    await configure(service, clock, "/daily set general 09:00 UTC", utc(date(2026, 3, 4), "08:00"))
    poster = RecordingPoster()
    poster.fail["general"] = [
        RetryablePostError("HTTP 503 from the platform"),
        RetryablePostError("timed out"),
        RetryablePostError("rate limited", retry_after=5.0),
    ]
    sleeps = Sleeps()
    runner = make_runner(service, poster, sleep=sleeps, backoff=1.0)
    clock.set(utc(date(2026, 3, 4), "09:00"))
    (result,) = await runner.sweep()
    assert result.status is PostStatus.POSTED
    assert poster.attempts["general"] == 4
    assert poster.count("general") == 1
    # Exponential backoff with jitter for server errors, then the platform's retry-after.
    assert 0.5 <= sleeps.delays[0] <= 1.0 and 1.0 <= sleeps.delays[1] <= 2.0
    assert sleeps.delays[2] == pytest.approx(5.0, abs=0.5)
    await runner.sweep()
    assert poster.count("general") == 1


async def test_a_claim_that_ran_out_of_retries_is_retried_after_its_timeout(
    service: StudyService, clock: FakeClock
) -> None:
    await configure(service, clock, "/daily set general 09:00 UTC", utc(date(2026, 3, 4), "08:00"))
    poster = RecordingPoster()
    poster.fail["general"] = [RetryablePostError("HTTP 502")] * 5
    runner = make_runner(service, poster, max_attempts=5)
    clock.set(utc(date(2026, 3, 4), "09:00"))
    (result,) = await runner.sweep()
    assert result.status is PostStatus.FAILED
    status = (await cmd(service, "/daily status general")).plain_text()
    assert "Today's question is being posted (5 attempts so far). Last error: HTTP 502." in status
    clock.advance(minutes=5)  # inside the claim timeout (10 min): left alone
    assert await runner.sweep() == []
    clock.advance(minutes=6)
    (result,) = await runner.sweep()
    assert result.status is PostStatus.POSTED
    assert poster.count("general") == 1
    assert (
        "Today's question went out Wed 04 Mar 09:11 UTC"
        in (await cmd(service, "/daily status general")).plain_text()
    )


async def test_runner_wakes_jobs_from_the_database_and_follows_changes(service: StudyService) -> None:
    poster = RecordingPoster()
    runner = make_runner(service, poster)
    await cmd(service, "/daily set general 09:00 Europe/Berlin")
    await runner.start()
    try:
        assert runner._scheduler is not None
        job = runner._scheduler.get_job(f"daily-{(await service.daily.channels())[0].id}")
        assert job is not None and str(job.trigger.timezone) == "Europe/Berlin"
        # A change through this instance's service reaches the jobs at once ...
        await cmd(service, "/daily set general 18:30 America/New_York")
        await asyncio.sleep(0.05)
        job = runner._scheduler.get_job(job.id)
        assert job is not None and str(job.trigger.timezone) == "America/New_York"
        # ... and /daily off removes the job.
        await cmd(service, "/daily off general")
        await asyncio.sleep(0.05)
        assert runner._scheduler.get_job(job.id) is None
    finally:
        await runner.stop()


async def test_a_wake_up_job_posts_when_due_and_only_once(service: StudyService, clock: FakeClock) -> None:
    await configure(service, clock, "/daily set general 09:00 UTC", utc(date(2026, 3, 4), "08:00"))
    poster = RecordingPoster()
    runner = make_runner(service, poster)
    clock.set(utc(date(2026, 3, 4), "08:59"))
    await runner.start()  # the start-up sweep finds nothing due yet
    try:
        assert runner._scheduler is not None
        (job,) = [j for j in runner._scheduler.get_jobs() if j.id != "daily-sweep"]
        assert job.next_run_time is not None and job.next_run_time.strftime("%H:%M") == "09:00"
        clock.set(utc(date(2026, 3, 4), "09:00"))
        await job.func(*job.args)  # what APScheduler does at 09:00
        await job.func(*job.args)  # a misfire or a second wake-up
    finally:
        await runner.stop()
    assert poster.count("general") == 1


async def test_a_change_on_another_instance_reaches_this_one_on_its_next_sweep(
    service: StudyService, db_url: str
) -> None:
    other = await build_service(db_url, [CONTENT], clock=service.clock)
    runner = make_runner(service, RecordingPoster())
    await runner.start()
    try:
        await run_text_command(other, ADMIN, "/daily set general 09:00 Asia/Tokyo")
        assert runner._scheduler is not None and runner._scheduler.get_jobs() == [
            j for j in runner._scheduler.get_jobs() if j.id == "daily-sweep"
        ]
        await runner.sweep()
        assert any(j.id.startswith("daily-") and j.id != "daily-sweep" for j in runner._scheduler.get_jobs())
    finally:
        await runner.stop()
        await other.store.close()  # type: ignore[attr-defined]


async def test_after_a_rate_limit_posts_are_paced_at_the_platforms_rate() -> None:
    from bot.schedule.runner import RateGate

    now = [100.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    gate = RateGate(sleep, monotonic=lambda: now[0])
    for _ in range(10):  # the platform let one through every 10 ms, then refused with retry-after 4 ms
        gate.succeeded()
        now[0] += 0.010
    gate.limited(0.004)
    for _ in range(5):  # five posts waiting at once do not all go at the end of the retry-after
        await gate.wait()
    assert slept == pytest.approx([0.004, 0.0143, 0.0246, 0.0349, 0.0452], abs=1e-4)
    gate.limited(2.0)  # a long retry-after is a pause for everyone, not a new pace
    assert gate.spacing == pytest.approx(0.0103)

"""Streak freezes: earned one per 7 days in a row (2 at most), spent on missed days, shown in /stats and on
the leaderboard."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from bot.core.model.models import Streak
from bot.core.model.streaks import current_streak, extend_streak, freezes_left
from bot.core.service import StudyService
from tests.support.callers import member
from tests.support.clock import FakeClock
from tests.unit.test_progress import study_one

DAY = date(2026, 3, 1)
TOKYO = ZoneInfo("Asia/Tokyo")


def run(days: list[int]) -> Streak:
    streak = Streak(0, 0, None)
    for offset in days:
        streak = extend_streak(streak, DAY + timedelta(days=offset))
    return streak


def test_seven_days_in_a_row_earn_a_freeze_and_two_are_the_most_held() -> None:
    assert run(list(range(6))).freezes == 0
    assert run(list(range(7))).freezes == 1
    assert run(list(range(14))).freezes == 2
    assert run(list(range(21))).freezes == 2


def test_a_missed_day_with_a_freeze_keeps_the_streak_and_without_one_resets_it() -> None:
    kept = run([*range(7), 8])  # day 7 missed, one freeze held
    assert (kept.current, kept.freezes, kept.saved) == (8, 0, 1)
    reset = run([*range(6), 7])  # day 6 missed, no freeze yet
    assert (reset.current, reset.freezes) == (1, 0)
    two = run([*range(14), 16, 17])  # days 14 and 15 missed: both freezes spent
    assert (two.current, two.freezes, two.saved) == (16, 0, 2)
    three = run([*range(14), 17])  # three days missed, two freezes: reset
    assert three.current == 1 and three.best == 14


def test_the_shown_streak_survives_missed_days_while_freezes_cover_them() -> None:
    held = run(list(range(7)))
    last = held.last_day
    assert last is not None
    assert current_streak(held.current, last, last + timedelta(days=2), held.freezes) == 7
    assert freezes_left(held, last + timedelta(days=2)) == 0
    assert current_streak(held.current, last, last + timedelta(days=3), held.freezes) == 0
    assert current_streak(held.current, last, last + timedelta(days=2)) == 0  # no freezes: broken


@given(st.lists(st.integers(min_value=0, max_value=60), max_size=40))
def test_freezes_stay_between_0_and_2_and_the_streak_never_exceeds_the_days_studied(days: list[int]) -> None:
    streak = run(sorted(days))
    assert 0 <= streak.freezes <= 2
    assert streak.current <= len(set(days)) and streak.best >= streak.current


async def test_stats_show_freezes_held_and_days_saved(service: StudyService, clock: FakeClock) -> None:
    kenji = member("kenji", tz="Asia/Tokyo")
    start = datetime(2026, 3, 1, 20, 0, tzinfo=TOKYO)
    for day in range(7):
        clock.set(start + timedelta(days=day))
        await study_one(service, kenji)
    stats = await service.stats(kenji)
    freezes = next(s.text for s in stats.sections if s.heading == "Streak freezes")
    assert freezes.startswith("🧊 1 held") and "0 missed days saved" in freezes
    clock.set(start + timedelta(days=8))  # the 8th day (7 March) missed
    stats = await service.stats(kenji)
    assert next(s.text for s in stats.sections if s.heading == "Streak").startswith("🔥 7 days")
    board = await service.leaderboard(kenji, "all")
    assert "🔥 7" in board.plain_text()
    reply = await study_one(service, kenji)
    assert "8-day streak" in reply.sections[0].text
    stats = await service.stats(kenji)
    assert "1 missed day saved" in next(s.text for s in stats.sections if s.heading == "Streak freezes")

"""The core's rules the store only writes: a streak's extension by a study day, and who counts as active
for a team. Pure functions: no database."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import assume, given
from hypothesis import strategies as st

from bot.core.model.models import Streak
from bot.core.model.streaks import current_streak, extend_streak
from bot.core.model.team_activity import becomes_active

DAY = date(2026, 3, 4)


def test_a_first_study_day_starts_a_streak_of_one() -> None:
    assert extend_streak(Streak(0, 0, None), DAY) == Streak(1, 1, DAY)


def test_the_day_after_the_last_adds_one_and_raises_the_best() -> None:
    assert extend_streak(Streak(3, 3, DAY - timedelta(days=1)), DAY) == Streak(4, 4, DAY)
    assert extend_streak(Streak(3, 7, DAY - timedelta(days=1)), DAY) == Streak(4, 7, DAY)


def test_the_same_day_again_changes_nothing() -> None:
    assert extend_streak(Streak(4, 6, DAY), DAY) == Streak(4, 6, DAY)


def test_a_missed_day_starts_again_and_keeps_the_best() -> None:
    assert extend_streak(Streak(5, 5, DAY - timedelta(days=2)), DAY) == Streak(1, 5, DAY)


def test_a_day_before_the_last_one_changes_nothing() -> None:
    # A time zone moved west can put a grade on the day before the last study day.
    assert extend_streak(Streak(2, 2, DAY), DAY - timedelta(days=1)) == Streak(2, 2, DAY)


days = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


@given(st.integers(0, 400), st.integers(0, 400), st.none() | days, days)
def test_an_extended_streak_shows_as_it_was_written(
    current: int, best: int, last: date | None, day: date
) -> None:
    # A member who has studied has a streak of at least 1; one who has not, none.
    assume((last is None) == (min(current, best) == 0))
    before = Streak(min(current, best), best, last)
    after = extend_streak(before, day)
    # The display rule (current_streak) agrees with the written one on the day studied, and later days
    # never lose the last study day nor the best run.
    if after.last_day == day:
        assert current_streak(after.current, after.last_day, day) == after.current >= 1
    assert after.last_day is not None and after.last_day >= day
    assert after.best == max(before.best, after.current)
    assert extend_streak(after, day) == after


def test_a_member_becomes_active_for_a_team_with_their_first_points_there() -> None:
    assert becomes_active(0, 10)
    assert not becomes_active(10, 20)  # already active in the period
    assert not becomes_active(0, 0)  # a grade that earned nothing

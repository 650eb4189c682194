"""Local calendar arithmetic: study days, streaks, and the start of a leaderboard's week or month."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.model.models import ALL_TIME_START, Period, Streak


def zone(name: str | None) -> ZoneInfo:
    """The named IANA zone, or UTC when unset or unknown."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo("UTC")


def is_valid_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def previous_day(day: date) -> date:
    return day - timedelta(days=1)


def extend_streak(streak: Streak, day: date) -> Streak:
    """The streak after studying on the member's local `day`: the day after the last study day adds one,
    the same day (or an earlier one, after a time zone moved west) changes nothing, any later day starts
    again at 1. current_streak below is its twin for display."""
    last = streak.last_day
    if last is not None and last >= day:
        current, day = streak.current, last
    elif last == previous_day(day):
        current = streak.current + 1
    else:
        current = 1
    return Streak(current, max(current, streak.best), day)


def current_streak(streak: int, last_study_day: date | None, today: date) -> int:
    """The streak as it stands today: it survives until the end of the day after the last study day."""
    if last_study_day is None or last_study_day < previous_day(today):
        return 0
    return streak


def period_start(period: Period, today: date) -> date:
    """Weeks start on Monday, months on the 1st, both in the workspace's local calendar."""
    if period is Period.WEEK:
        return today - timedelta(days=today.weekday())
    if period is Period.MONTH:
        return today.replace(day=1)
    return ALL_TIME_START

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


# A freeze is earned on every 7th day in a row and at most 2 are held; each saves one missed day.
FREEZE_EVERY = 7
FREEZES_MAX = 2


def _missed(last: date, day: date) -> int:
    """Days between the last study day and `day`, neither counted."""
    return max(0, (day - last).days - 1)


def extend_streak(streak: Streak, day: date) -> Streak:
    """The streak after studying on the member's local `day`: the same day (or an earlier one, after a time
    zone moved west) changes nothing; the next day adds one; missed days in between are saved by freezes
    held, one each, else the streak starts again at 1 (and the freezes are spent). Every 7th day in a row
    earns a freeze, holding at most 2. current_streak below is its twin for display."""
    last = streak.last_day
    if last is not None and last >= day:
        return Streak(streak.current, streak.best, last, streak.freezes, streak.saved)
    missed = _missed(last, day) if last is not None else None
    if missed is not None and missed <= streak.freezes:
        current, freezes, saved = streak.current + 1, streak.freezes - missed, streak.saved + missed
    else:
        current, freezes, saved = 1, 0, streak.saved
    if current % FREEZE_EVERY == 0:
        freezes = min(FREEZES_MAX, freezes + 1)
    return Streak(current, max(current, streak.best), day, freezes, saved)


def current_streak(streak: int, last_study_day: date | None, today: date, freezes: int = 0) -> int:
    """The streak as it stands today: it survives the days missed since the last study day (today not
    counted) while there are freezes held for them."""
    if last_study_day is None or _missed(last_study_day, today) > freezes:
        return 0
    return streak


def freezes_left(streak: Streak, today: date) -> int:
    """Freezes still held today, after those the days missed since the last study day will use."""
    if streak.last_day is None:
        return streak.freezes
    return max(0, streak.freezes - _missed(streak.last_day, today))


def period_start(period: Period, today: date) -> date:
    """Weeks start on Monday, months on the 1st, both in the workspace's local calendar."""
    if period is Period.WEEK:
        return today - timedelta(days=today.weekday())
    if period is Period.MONTH:
        return today.replace(day=1)
    return ALL_TIME_START

"""The daily question's calendar: post times, time zones, weekday sets, and when a wall-clock time falls."""

from __future__ import annotations

import difflib
import functools
import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

ALL_DAYS = 0b1111111  # bit 0 = Monday ... bit 6 = Sunday, as date.weekday()
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_ALIASES = {
    **{name: i for i, name in enumerate(DAY_NAMES)},
    **{
        full: i
        for i, full in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
    "tues": 1,
    "wednes": 2,
    "thur": 3,
    "thurs": 3,
}
_DAY_SETS = {
    "daily": ALL_DAYS,
    "everyday": ALL_DAYS,
    "all": ALL_DAYS,
    "weekdays": 0b0011111,
    "workdays": 0b0011111,
    "weekends": 0b1100000,
    "weekend": 0b1100000,
}
# Zone-file names that are not places an admin would mean.
_NOT_ZONES = {"localtime", "posixrules", "Factory"}


def parse_time(text: str) -> time | None:
    """`HH:MM` on a 24-hour clock (`9:30` is fine too)."""
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", text.strip())
    if match is None:
        return None
    return time(int(match[1]), int(match[2]))


@functools.cache
def looks_like_time(text: str) -> bool:
    """A word meant as a time (`09:00`, also a wrong one like `25:00` or `9h30`), not a channel name."""
    return parse_time(text) is not None or re.fullmatch(r"[0-9]{1,2}[:.h][0-9]{1,2}", text) is not None


def _zone_names() -> dict[str, str]:
    return {name.casefold(): name for name in available_timezones() if name not in _NOT_ZONES}


def parse_timezone(text: str) -> str | None:
    """The canonical IANA name (`europe/berlin` → `Europe/Berlin`), or None when there is no such zone."""
    name = _zone_names().get(text.strip().casefold())
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def parse_weekdays(text: str | None) -> int | None:
    """A weekday bitmask from `mon,wed,fri`, `mon-fri`, `weekdays`, `weekends` or `daily`; None if bad."""
    if text is None or not text.strip():
        return ALL_DAYS
    mask = 0
    ranges = re.sub(r"\s*-\s*", "-", text.strip().casefold())  # `mon - fri` is `mon-fri`
    for part in re.split(r"[,\s]+", ranges):
        if not part:
            continue
        if part in _DAY_SETS:
            mask |= _DAY_SETS[part]
            continue
        first, dash, last = part.partition("-")
        if dash:
            start, end = _DAY_ALIASES.get(first), _DAY_ALIASES.get(last)
            if start is None or end is None:
                return None
            day = start
            while True:  # ranges may wrap: fri-mon
                mask |= 1 << day
                if day == end:
                    break
                day = (day + 1) % 7
            continue
        day_index = _DAY_ALIASES.get(part)
        if day_index is None:
            return None
        mask |= 1 << day_index
    return mask or None


def looks_like_weekdays(text: str) -> bool:
    return parse_weekdays(text) is not None


def looks_like_misspelt_weekdays(text: str) -> bool:
    """Some part is a day's name or close to one (`mon-fir`, `weekdyas`), so a typo rather than a deck."""
    words = [*_DAY_ALIASES, *_DAY_SETS]
    parts = [p for p in re.split(r"[,\s-]+", text.casefold()) if p]
    return any(difflib.get_close_matches(part, words, n=1, cutoff=0.6) for part in parts)


def format_weekdays(mask: int) -> str:
    if mask == ALL_DAYS:
        return "every day"
    if mask == _DAY_SETS["weekdays"]:
        return "Mon–Fri"
    if mask == _DAY_SETS["weekends"]:
        return "Sat and Sun"
    return ", ".join(DAY_NAMES[i].capitalize() for i in range(7) if mask & (1 << i))


def cron_days(mask: int) -> str:
    """The mask as APScheduler's day_of_week field (`mon,wed,fri`)."""
    return ",".join(DAY_NAMES[i] for i in range(7) if mask & (1 << i))


def runs_on(mask: int, day: date) -> bool:
    return bool(mask & (1 << day.weekday()))


def occurrence(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The moment (UTC) of wall-clock `at` on `day` in `tz`. A time skipped by a DST change falls an hour
    later (02:30 → 03:30), as APScheduler's CronTrigger fires it; a repeated time is its first occurrence."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)

"""Which time zone counts a member's days: one they chose with /settings (from the next local day on),
else their platform profile's, else the workspace's."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from bot.core.model.calendar import occurrence
from bot.core.model.models import MemberRow
from bot.core.model.streaks import local_day, zone


def member_tz(
    member: MemberRow, profile_tz: str | None, workspace_tz: str | None, now: datetime
) -> str | None:
    if member.timezone_chosen and member.timezone:
        if member.timezone_from is not None and now < member.timezone_from:
            return member.timezone_before
        return member.timezone
    return profile_tz or member.timezone or workspace_tz


def change_applies_from(current_tz: str | None, now: datetime) -> datetime:
    """A new zone counts from the next local day in the zone that counts now, so the day being studied is
    never cut short or counted twice, and a change alone cannot break a streak."""
    tz = zone(current_tz)
    return occurrence(local_day(now, tz) + timedelta(days=1), time(0), tz)

"""When a member's reminder is due, and whether it is worth sending: pure rules over local days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.model.calendar import occurrence, parse_time
from bot.core.model.models import MemberRow
from bot.core.model.streaks import current_streak, local_day

REMINDER = "reminder"  # the outreach kind of reminders (bot/store/outreach.py)


@dataclass(frozen=True)
class ReminderJob:
    """One member's reminder for one local date: how many cards are due and the streak at stake."""

    member: MemberRow
    local_date: date
    due: int
    streak_at_stake: int


def reminder_day(at: time, tz: ZoneInfo, now: datetime, grace: timedelta) -> date | None:
    """The local date whose reminder time has come within `grace` before `now`, if any. Wall-clock time in
    the member's zone, so a DST change keeps 19:00 at 19:00 (a skipped time falls an hour later)."""
    today = local_day(now, tz)
    for day in (today, today - timedelta(days=1)):
        moment = occurrence(day, at, tz)
        if moment <= now < moment + grace:
            return day
    return None


def reminder_time(member: MemberRow) -> time | None:
    return parse_time(member.reminder_time) if member.reminder_time else None


def streak_at_stake(member: MemberRow, today: date) -> int:
    """The streak that ends today unless the member studies (0 when none would): one that stands, not yet
    extended today, with no freeze left to cover today."""
    last = member.last_study_day
    if last is None or last >= today:
        return 0
    streak = current_streak(member.streak_current, last, today, member.streak_freezes)
    missed_by_tomorrow = (today - last).days
    return streak if streak and missed_by_tomorrow > member.streak_freezes else 0


def worth_sending(member: MemberRow, due: int, today: date) -> bool:
    """Cards due, or a streak that breaks today; never to a member who studied today with nothing due."""
    return due > 0 or streak_at_stake(member, today) > 0

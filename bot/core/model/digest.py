"""The weekly team digest: when a channel's is due, and the week it covers. Pure rules over local days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.core.model.calendar import occurrence
from bot.core.model.daily import DailyChannel
from bot.core.model.models import BoardRow, MemberRow, StoredCard, TeamRow

DIGEST = "digest"  # the outreach kind of weekly digests (bot/store/outreach.py)
MONDAY = 0


@dataclass(frozen=True)
class HardCard:
    card: StoredCard
    hard: int  # Again and Hard grades of it in the week
    reviews: int


@dataclass(frozen=True)
class WeekSummary:
    """What a digest says about one workspace's week."""

    top: list[BoardRow]
    teams: list[TeamRow]
    studied: int
    hardest: list[HardCard]
    streaks: list[tuple[MemberRow, int]]


def digest_date(channel: DailyChannel, now: datetime, grace: timedelta) -> date | None:
    """The Monday (local) whose digest is due at `now`: the channel's time that Monday has passed less than
    `grace` ago (a catch-up after downtime; older ones are not sent), and after the schedule was set."""
    if not channel.active or not channel.digest:
        return None
    tz = channel.zone
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    moment = occurrence(monday, channel.local_time, tz)
    if moment > now or now - moment > grace or moment < channel.active_from:
        return None
    return monday


def next_digest(channel: DailyChannel, now: datetime) -> datetime:
    """When the channel's next digest goes out (UTC): its time on the next Monday not yet passed."""
    tz = channel.zone
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    moment = occurrence(monday, channel.local_time, tz)
    while moment <= now or moment < channel.active_from:
        monday += timedelta(days=7)
        moment = occurrence(monday, channel.local_time, tz)
    return moment


def week_bounds(monday: date, channel: DailyChannel) -> tuple[datetime, datetime]:
    """The week before that Monday in the channel's zone, as UTC [start, end)."""
    tz = channel.zone
    return occurrence(monday - timedelta(days=7), time(0), tz), occurrence(monday, time(0), tz)

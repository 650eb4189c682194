"""The daily question's data: a channel's schedule, its posts and claims, and when a post is due."""

from __future__ import annotations

import enum
import re
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.model.calendar import occurrence, parse_time, runs_on
from bot.core.model.models import StoredCard
from bot.core.model.typed_text import CHANNEL_REF_LIMIT

CHANNEL_LIMIT = CHANNEL_REF_LIMIT  # the column's size; platform ids are far shorter


@dataclass(frozen=True)
class DailyConfig:
    """What `/daily set` stores for a channel."""

    workspace_id: str
    platform: str
    channel_ref: str
    post_time: str
    timezone: str
    deck_id: str | None
    weekdays: int


@dataclass(frozen=True)
class DailyChannel:
    id: int
    workspace_id: str
    platform: str
    channel_ref: str
    post_time: str
    timezone: str
    deck_id: str | None
    weekdays: int
    enabled: bool
    paused_reason: str | None
    active_from: datetime
    order_seed: str
    cycle: int
    position: int
    digest: bool = True  # the weekly team digest, Mondays at the channel's time

    @property
    def workspace_ref(self) -> str:
        return self.workspace_id.partition(":")[2]

    @property
    def active(self) -> bool:
        return self.enabled and self.paused_reason is None

    @property
    def local_time(self) -> time:
        parsed = parse_time(self.post_time)
        assert parsed is not None, self.post_time
        return parsed

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class DailyPost:
    """One (channel, local date): claimed before posting, then marked posted with the platform's reference."""

    id: int
    channel_id: int
    local_date: date
    card_id: int
    cycle: int
    claimed_at: datetime
    claimed_by: str
    claim_token: str | None  # new on every claim and takeover: the holder's proof that it is still theirs
    posted_at: datetime | None
    message_ref: str | None
    thread_ref: str | None
    attempts: int
    last_error: str | None


class ClaimStatus(enum.StrEnum):
    CLAIMED = "claimed"  # this caller holds the claim and must post
    TAKEN = "taken"  # already posted, or claimed by someone else not long ago
    INACTIVE = "inactive"  # the channel is off or paused
    NO_CARDS = "no_cards"  # the channel's deck has nothing to ask


@dataclass(frozen=True)
class DailyClaim:
    post: DailyPost
    channel: DailyChannel
    card: StoredCard


@dataclass(frozen=True)
class ClaimResult:
    status: ClaimStatus
    claim: DailyClaim | None = None


class PostStatus(enum.StrEnum):
    POSTED = "posted"
    TAKEN = "taken"
    INACTIVE = "inactive"
    PAUSED = "paused"  # a permanent error (or an empty deck) paused the channel
    FAILED = "failed"  # retryable errors ran out of attempts; the claim is retried after its timeout


@dataclass(frozen=True)
class PostResult:
    status: PostStatus
    detail: str = ""
    post_id: int | None = None


# Asks the runner to post one channel's question for a local date now (set by the running DailyRunner).
PostTrigger = Callable[[int, date], Awaitable[PostResult]]


def due_date(channel: DailyChannel, now: datetime, grace: timedelta) -> date | None:
    """The local date whose post is due at `now`: the most recent scheduled time, if it has passed less than
    `grace` ago. Only the latest one counts, so a long outage gives one catch-up post, never a backlog."""
    tz = channel.zone
    today = now.astimezone(tz).date()
    for day in (today, today - timedelta(days=1)):
        if not runs_on(channel.weekdays, day):
            continue
        moment = occurrence(day, channel.local_time, tz)
        if moment > now:
            continue
        if moment < channel.active_from or now - moment > grace:
            return None
        return day
    return None


def next_post(channel: DailyChannel, now: datetime, posted: Collection[date] = ()) -> datetime | None:
    """When the channel's next question goes out (UTC), skipping days already posted."""
    if not channel.active:
        return None
    tz = channel.zone
    today = now.astimezone(tz).date()
    for offset in range(9):
        day = today + timedelta(days=offset)
        if not runs_on(channel.weekdays, day) or day in posted:
            continue
        moment = occurrence(day, channel.local_time, tz)
        if moment > now and moment >= channel.active_from:
            return moment
    return None


def parse_channel(text: str) -> str:
    """A channel as typed: `general`, `#general`, a mention `<#C0123|general>` or `<#1234>`."""
    text = text.strip()
    mention = re.fullmatch(r"<#([A-Za-z0-9]+)(?:\|[^>]*)?>", text)
    if mention:
        return mention[1]
    return text.lstrip("#")

"""The question of the day: channel configuration, which card comes next, when a post is due, the post itself.

The core decides everything here; bot/schedule/runner.py only wakes it up and talks to the platforms.
"""

from __future__ import annotations

import difflib
import enum
import functools
import random
import re
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.core import cardtext
from bot.core.actions import DailyReveal
from bot.core.messages import Action, Message, Section, Style, error
from bot.core.models import Caller, Grade, StoredCard
from bot.core.ports import Clock, DailyStore
from bot.core.texts import plural
from bot.core.typed_text import CHANNEL_REF_LIMIT, echo, refuse, storable

if TYPE_CHECKING:
    from bot.core.service import StudyService

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
THREAD_NAME_LIMIT = 100
CHANNEL_LIMIT = CHANNEL_REF_LIMIT  # the column's size; platform ids are far shorter


# -- data ---------------------------------------------------------------------------------------


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


# -- parsing and calendar -----------------------------------------------------------------------


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


# -- which card ---------------------------------------------------------------------------------


def shuffled(card_ids: Sequence[int], seed: str, cycle: int) -> list[int]:
    """The channel's order for one pass through the deck; the same on every instance and after restarts."""
    order = sorted(card_ids)
    random.Random(f"{seed}:{cycle}").shuffle(order)
    return order


def pick_card(
    card_ids: Sequence[int], used: Collection[int], seed: str, cycle: int, last_card: int | None
) -> tuple[int, int] | None:
    """(card id, cycle): the next unused card of this pass, or the first of a fresh pass once all are used.

    Cards used in the pass are skipped rather than counted, so editing a deck mid-pass repeats nothing."""
    if not card_ids:
        return None
    for card_id in shuffled(card_ids, seed, cycle):
        if card_id not in used:
            return card_id, cycle
    order = shuffled(card_ids, seed, cycle + 1)
    # A fresh pass must not open with the card that closed the last one.
    if len(order) > 1 and order[0] == last_card:
        return order[1], cycle + 1
    return order[0], cycle + 1


# -- words --------------------------------------------------------------------------------------


def channel_label(channel_ref: str) -> str:
    """Discord ids and Slack ids become `<#id>` mentions (both platforms render them); names get a `#`."""
    if channel_ref.isdigit() or re.fullmatch(r"[CG][A-Z0-9]{8,}", channel_ref):
        return f"<#{channel_ref}>"
    return f"#{channel_ref}"


def parse_channel(text: str) -> str:
    """A channel as typed: `general`, `#general`, a mention `<#C0123|general>` or `<#1234>`."""
    text = text.strip()
    mention = re.fullmatch(r"<#([A-Za-z0-9]+)(?:\|[^>]*)?>", text)
    if mention:
        return mention[1]
    return text.lstrip("#")


def results_line(grades: dict[Grade, int], previous_day: date, today: date) -> str:
    when = (
        "Yesterday" if previous_day == today - timedelta(days=1) else f"Last time ({previous_day:%a %d %b})"
    )
    answered = sum(grades.values())
    if not answered:
        return f"{when}: nobody answered — be the first today!"
    breakdown = " · ".join(f"{g.label} {grades.get(g, 0)}" for g in Grade)
    return f"{when}: {answered} answered — {breakdown}"


def post_message(post_id: int, card: StoredCard, results: str | None) -> Message:
    sections = [Section(results)] if results else []
    question = cardtext.bold_lead(card.question)
    sections.append(Section(question, f"{card.deck_id} #{card.number}", markdown=True))
    return Message(
        title="Question of the day",
        sections=tuple(sections),
        actions=(Action(DailyReveal(post_id).id, "Reveal answer", Style.PRIMARY),),
        private=False,
        footer="Think of your answer, then reveal it: the answer and your grade are private to you.",
    )


def thread_name(local_date: date) -> str:
    return f"Question of the day · {local_date:%a %d %b %Y}"[:THREAD_NAME_LIMIT]


def _local(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local:%a %d %b %H:%M} {local.tzname()}"


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _schedule_line(channel: DailyChannel) -> str:
    deck = f"deck {channel.deck_id}" if channel.deck_id else "all decks"
    days = _upper_first(format_weekdays(channel.weekdays))
    return f"{days} at {channel.post_time} {channel.timezone} · {deck}"


USAGE_SET = "/daily set CHANNEL HH:MM AREA/CITY [deck] [weekdays]"
# Where the first daily question goes when no channel is named and there is no current one (the terminal).
DEFAULT_CHANNEL = "general"
ADMIN_HINT = "Ask a server or workspace admin to set it up."


# -- the service --------------------------------------------------------------------------------


class DailyService:
    """`/daily` for admins, the Reveal button of a post for everyone, and the runner's decisions."""

    def __init__(self, store: DailyStore, clock: Clock, study: StudyService) -> None:
        self._store = store
        self.clock = clock
        self.study = study
        # Set by a running DailyRunner: post now, and hear about configuration changes.
        self.trigger: PostTrigger | None = None
        self.listeners: list[Callable[[], None]] = []

    @property
    def store(self) -> DailyStore:
        # Follow the service's store: bot/runner.py swaps in a metering wrapper after start-up.
        current: DailyStore | None = getattr(self.study, "store", None)
        return current if current is not None else self._store

    def _changed(self) -> None:
        for listener in list(self.listeners):
            listener()

    async def _unnamed(self, caller: Caller, verb: str) -> DailyChannel | Message | None:
        """No channel named and no current one (the terminal): the only daily channel there is, None if
        there is none, and with several an error that lists them."""
        channels = await self.store.list_daily_channels(caller.workspace_id)
        if len(channels) <= 1:
            return channels[0] if channels else None
        names = ", ".join(channel_label(c.channel_ref) for c in channels)
        example = f"/daily {verb} {channels[0].channel_ref}"
        if verb == "set":
            example += " 09:00 Europe/Berlin"
        return error(f"Which channel? Daily questions are set in {names}.", f"For example: {example}")

    async def _channel(self, caller: Caller, channel_ref: str | None, verb: str) -> DailyChannel | Message:
        ref = parse_channel(channel_ref or "")
        if not ref:
            found = await self._unnamed(caller, verb)
            if found is None:
                return error("There is no daily question yet.", f"Set one up with {USAGE_SET}.")
            return found
        channel = await self.store.get_daily_channel(caller.workspace_id, ref)
        if channel is None:
            return error(
                f"There is no daily question in {channel_label(echo(ref))}.",
                f"Set one up with {USAGE_SET}.",
            )
        return channel

    # -- admin commands --------------------------------------------------------------------------

    async def configure(
        self,
        caller: Caller,
        channel_ref: str,
        time_text: str,
        tz_text: str,
        deck: str | None = None,
        weekdays: str | None = None,
    ) -> Message:
        refused = refuse(
            caller, channel=channel_ref, time=time_text, time_zone=tz_text, deck_name=deck, weekdays=weekdays
        )
        if refused:
            return refused
        if not caller.is_admin:
            return error("Only admins can change the daily question.", ADMIN_HINT)
        ref = parse_channel(channel_ref)
        if not ref:
            found = await self._unnamed(caller, "set")
            if isinstance(found, Message):
                return found
            ref = found.channel_ref if found is not None else DEFAULT_CHANNEL
        if len(ref) > CHANNEL_LIMIT:
            return error(f"Channel names can be at most {CHANNEL_LIMIT} characters.")
        at = parse_time(time_text)
        if at is None:
            return error(f"“{echo(time_text)}” is not a 24-hour time; use HH:MM, e.g. 09:30.")
        tz = parse_timezone(tz_text)
        if tz is None:
            return error(
                f"“{echo(tz_text)}” is not a timezone I know; "
                "use an IANA name such as Europe/Berlin or America/New_York."
            )
        mask = parse_weekdays(weekdays)
        if mask is None:
            return error(
                f"“{echo(weekdays or '')}” is not a list of weekdays; "
                "use e.g. mon,wed,fri, mon-fri, weekdays or daily."
            )
        deck_id = await self.study.resolve_deck(deck)
        if isinstance(deck_id, Message):
            return deck_id
        await self.store.ensure_workspace(caller.workspace_id, caller.platform)
        now = self.clock.now()
        config = DailyConfig(caller.workspace_id, caller.platform, ref, f"{at:%H:%M}", tz, deck_id, mask)
        before = await self.store.get_daily_channel(caller.workspace_id, ref)
        channel = await self.store.save_daily_channel(config, now)
        self._changed()
        sections = [Section(_schedule_line(channel))]
        when = next_post(channel, now, await self._posted_dates(channel, now))
        if when is not None:
            sections.append(Section(f"Next question: {_local(when, channel.zone)}"))
        if before is not None and before.paused_reason:
            sections.append(Section(f"Resumed; it was paused because: {before.paused_reason}"))
        return Message(title=f"Daily question set for {channel_label(ref)}.", sections=tuple(sections))

    async def off(self, caller: Caller, channel_ref: str) -> Message:
        if refused := refuse(caller, channel=channel_ref):
            return refused
        if not caller.is_admin:
            return error("Only admins can change the daily question.", ADMIN_HINT)
        channel = await self._channel(caller, channel_ref, "off")
        if isinstance(channel, Message):
            return channel
        if not channel.enabled:
            return error(f"The daily question is already off in {channel_label(channel.channel_ref)}.")
        await self.store.disable_daily_channel(channel.id, self.clock.now())
        self._changed()
        return Message(
            title=f"The daily question is off in {channel_label(channel.channel_ref)}.",
            sections=(Section("Turn it back on with /daily set; the channel keeps its place in the deck."),),
        )

    async def status(self, caller: Caller, channel_ref: str | None = None) -> Message:
        if refused := refuse(caller, channel=channel_ref):
            return refused
        if channel_ref:
            found = await self._channel(caller, channel_ref, "status")
            if isinstance(found, Message):
                return found
            channels = [found]
        else:
            channels = await self.store.list_daily_channels(caller.workspace_id)
        if not channels:
            return Message(
                title="No daily question is set up here yet.",
                sections=(Section(f"An admin can start one with {USAGE_SET}."),),
            )
        now = self.clock.now()
        sections = [Section(await self._status_text(c, now), channel_label(c.channel_ref)) for c in channels]
        return Message(title="Daily question", sections=tuple(sections))

    async def _posted_dates(self, channel: DailyChannel, now: datetime) -> set[date]:
        today = now.astimezone(channel.zone).date()
        post = await self.store.get_daily_post_for(channel.id, today)
        return {today} if post is not None else set()

    async def _status_text(self, channel: DailyChannel, now: datetime) -> str:
        lines = [_schedule_line(channel)]
        if not channel.enabled:
            lines.append("Off. Turn it on again with /daily set.")
            return "\n".join(lines)
        if channel.paused_reason:
            lines.append(f"⏸ Paused: {channel.paused_reason}")
            lines.append("Fix that, then run /daily set again to resume.")
            return "\n".join(lines)
        today = now.astimezone(channel.zone).date()
        post = await self.store.get_daily_post_for(channel.id, today)
        if post is not None and post.posted_at is not None:
            lines.append(f"Today's question went out {_local(post.posted_at, channel.zone)}.")
        elif post is not None:
            problem = f" Last error: {post.last_error}." if post.last_error else ""
            tries = plural(post.attempts, "attempt")
            lines.append(f"Today's question is being posted ({tries} so far).{problem}")
        when = next_post(channel, now, {today} if post is not None else ())
        if when is not None:
            lines.append(f"Next question: {_local(when, channel.zone)}")
        return "\n".join(lines)

    async def post_now(self, caller: Caller, channel_ref: str) -> Message:
        if refused := refuse(caller, channel=channel_ref):
            return refused
        if not caller.is_admin:
            return error("Only admins can post the daily question.", ADMIN_HINT)
        channel = await self._channel(caller, channel_ref, "now")
        if isinstance(channel, Message):
            return channel
        label = channel_label(channel.channel_ref)
        if not channel.enabled:
            return error(f"The daily question is off in {label}.", "Turn it on with /daily set first.")
        if channel.paused_reason:
            return error(
                f"The daily question in {label} is paused: {channel.paused_reason}",
                "Fix that, then run /daily set again to resume.",
            )
        today = self.clock.now().astimezone(channel.zone).date()
        existing = await self.store.get_daily_post_for(channel.id, today)
        if existing is not None and existing.posted_at is not None:
            return Message(
                title=f"Today's question was already posted in {label} "
                f"({_local(existing.posted_at, channel.zone)}).",
                sections=(Section("There is one question a day; the next one comes at the usual time."),),
            )
        if self.trigger is None:
            return error("The daily scheduler is not running here, so nothing can be posted now.")
        result = await self.trigger(channel.id, today)
        if result.status is PostStatus.POSTED:
            return Message(title=f"Posted today's question in {label}.")
        if result.status is PostStatus.TAKEN:
            return Message(title=f"Today's question is already posted, or being posted, in {label}.")
        if result.status is PostStatus.PAUSED:
            return error(
                f"Could not post in {label}: {result.detail}",
                "The daily question there is paused; fix that, then run /daily set again.",
            )
        if result.status is PostStatus.FAILED:
            return error(f"Could not post in {label} yet: {result.detail}", "I'll keep trying for a while.")
        return error(f"The daily question in {label} is not active.", "Check /daily status.")

    # -- members ---------------------------------------------------------------------------------

    async def reveal(self, caller: Caller, post_id: int) -> Message:
        """The clicker's private answer to a daily post; grading it is ordinary practice."""
        if refused := refuse(caller):
            return refused
        post = await self.store.get_daily_post(post_id)
        channel = await self.store.get_daily_channel_by_id(post.channel_id) if post is not None else None
        if post is None or channel is None or channel.workspace_id != caller.workspace_id:
            return error(
                "That question of the day no longer exists.", "Use /quiz for a question of your own."
            )
        who = await self.study.who(caller)
        ask_id = await self.store.find_daily_ask(who.member.id, post.id)
        if ask_id is None:
            ask_id = await self.store.create_ask(
                who.member.id, post.card_id, "daily", self.clock.now(), daily_post_id=post.id
            )
        return await self.study.reveal(caller, ask_id)

    # -- for the runner --------------------------------------------------------------------------

    async def due(
        self,
        now: datetime,
        grace: timedelta,
        claim_timeout: timedelta,
        platforms: Collection[str] | None = None,
    ) -> list[tuple[DailyChannel, date]]:
        """Channels whose post is due and neither posted nor freshly claimed."""
        candidates: list[tuple[DailyChannel, date]] = []
        for channel in await self.store.list_daily_channels(None, active_only=True):
            if platforms is not None and channel.platform not in platforms:
                continue
            day = due_date(channel, now, grace)
            if day is not None:
                candidates.append((channel, day))
        if not candidates:
            return []
        existing = await self.store.daily_posts_on({day for _c, day in candidates})
        stale_before = now - claim_timeout
        due: list[tuple[DailyChannel, date]] = []
        for channel, day in candidates:
            post = existing.get((channel.id, day))
            if post is None or (post.posted_at is None and post.claimed_at < stale_before):
                due.append((channel, day))
        return due

    async def channels(self, active_only: bool = True) -> list[DailyChannel]:
        return await self.store.list_daily_channels(None, active_only=active_only)

    async def channel(self, channel_id: int) -> DailyChannel | None:
        return await self.store.get_daily_channel_by_id(channel_id)

    async def claim(
        self, channel_id: int, local_date: date, claimed_by: str, claim_timeout: timedelta
    ) -> ClaimResult:
        (result,) = await self.claim_many([(channel_id, local_date)], claimed_by, claim_timeout)
        return result

    async def claim_many(
        self, items: Sequence[tuple[int, date]], claimed_by: str, claim_timeout: timedelta
    ) -> list[ClaimResult]:
        """Claim several channels' posts in one transaction (the runner's fan-out claims in batches)."""
        now = self.clock.now()
        return await self.store.claim_daily_posts(items, now, claimed_by, now - claim_timeout)

    async def build_post(self, claim: DailyClaim) -> Message:
        (message,) = await self.build_posts([claim])
        return message

    async def build_posts(self, claims: Sequence[DailyClaim]) -> list[Message]:
        """The public posts, each opening with the channel's previous result."""
        by_date: dict[date, list[int]] = {}
        for claim in claims:
            by_date.setdefault(claim.post.local_date, []).append(claim.channel.id)
        previous: dict[tuple[int, date], tuple[date, dict[Grade, int]]] = {}
        for day, channel_ids in by_date.items():
            for channel_id, found in (await self.store.previous_daily_results(channel_ids, day)).items():
                previous[(channel_id, day)] = found
        messages = []
        for claim in claims:
            last = previous.get((claim.channel.id, claim.post.local_date))
            results = results_line(last[1], last[0], claim.post.local_date) if last else None
            messages.append(post_message(claim.post.id, claim.card, results))
        return messages

    async def renew_claims(self, held: Sequence[tuple[int, str]], attempt: bool = False) -> set[int]:
        """Refresh our claims (post id, claim token); the ids still ours, neither posted nor taken over.
        With `attempt`, each counts one more posting attempt."""
        return await self.store.renew_daily_claims(held, self.clock.now(), attempt)

    async def posted(self, post_id: int, message_ref: str, thread_ref: str | None) -> None:
        await self.store.mark_daily_posted([(post_id, message_ref, thread_ref)], self.clock.now())

    async def posted_many(self, posts: Sequence[tuple[int, str, str | None]]) -> None:
        """Record several posts at once: (post id, message ref, thread ref)."""
        await self.store.mark_daily_posted(posts, self.clock.now())

    async def failed(self, post_id: int, reason: str) -> None:
        await self.store.record_daily_failure(post_id, storable(reason)[:500])

    async def pause(self, channel_id: int, reason: str, post_id: int | None) -> None:
        """Stop posting to a channel that cannot take posts, releasing today's claim so a resume can post."""
        await self.store.pause_daily_channel(channel_id, storable(reason)[:500], post_id, self.clock.now())
        self._changed()

    def no_cards_reason(self, channel: DailyChannel) -> str:
        if channel.deck_id:
            return f"The deck “{channel.deck_id}” has no questions to post."
        return "No deck with questions is loaded."

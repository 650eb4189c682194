"""`/daily` for admins: set a channel's question of the day up, switch it off, see its status, post now."""

from __future__ import annotations

from datetime import date, datetime

from bot.core.messages import Message, Section
from bot.core.model.calendar import parse_time, parse_timezone, parse_weekdays
from bot.core.model.daily import (
    CHANNEL_LIMIT,
    DailyChannel,
    DailyConfig,
    PostStatus,
    next_post,
    parse_channel,
)
from bot.core.model.digest import next_digest
from bot.core.model.models import Caller
from bot.core.model.typed_text import echo
from bot.core.ports import Clock, DailyAdminStore
from bot.core.refusal import refusal, refuse
from bot.core.services.daily_hooks import DailyHooks
from bot.core.services.decks import resolve_deck
from bot.core.texts.daily import ADMIN_HINT, USAGE_SET, channel_label, local_moment, schedule_line
from bot.core.texts.words import plural

# Where the first daily question goes when no channel is named and there is no current one (the terminal).
DEFAULT_CHANNEL = "general"


class DailyAdminService:
    def __init__(self, store: DailyAdminStore, clock: Clock, hooks: DailyHooks) -> None:
        self.store = store
        self.clock = clock
        self.hooks = hooks

    async def _unnamed(self, caller: Caller, verb: str) -> DailyChannel | None:
        """No channel named and no current one (the terminal): the only daily channel there is, None if
        there is none; with several, refused with the list."""
        channels = await self.store.list_daily_channels(caller.workspace_id)
        if len(channels) <= 1:
            return channels[0] if channels else None
        names = ", ".join(channel_label(c.channel_ref) for c in channels)
        example = f"/daily {verb} {channels[0].channel_ref}"
        if verb == "set":
            example += " 09:00 Europe/Berlin"
        raise refusal(f"Which channel? Daily questions are set in {names}.", f"For example: {example}")

    async def _channel(self, caller: Caller, channel_ref: str | None, verb: str) -> DailyChannel:
        ref = parse_channel(channel_ref or "")
        if not ref:
            found = await self._unnamed(caller, verb)
            if found is None:
                raise refusal("There is no daily question yet.", f"Set one up with {USAGE_SET}.")
            return found
        channel = await self.store.get_daily_channel(caller.workspace_id, ref)
        if channel is None:
            raise refusal(
                f"There is no daily question in {channel_label(echo(ref))}.", f"Set one up with {USAGE_SET}."
            )
        return channel

    async def configure(
        self,
        caller: Caller,
        channel_ref: str,
        time_text: str,
        tz_text: str,
        deck: str | None = None,
        weekdays: str | None = None,
    ) -> Message:
        refuse(
            caller, channel=channel_ref, time=time_text, time_zone=tz_text, deck_name=deck, weekdays=weekdays
        )
        _admin_only(caller)
        ref = parse_channel(channel_ref)
        if not ref:
            found = await self._unnamed(caller, "set")
            ref = found.channel_ref if found is not None else DEFAULT_CHANNEL
        if len(ref) > CHANNEL_LIMIT:
            raise refusal(f"Channel names can be at most {CHANNEL_LIMIT} characters.")
        at = parse_time(time_text)
        if at is None:
            raise refusal(f"“{echo(time_text)}” is not a 24-hour time; use HH:MM, e.g. 09:30.")
        tz = parse_timezone(tz_text)
        if tz is None:
            raise refusal(
                f"“{echo(tz_text)}” is not a timezone I know; "
                "use an IANA name such as Europe/Berlin or America/New_York."
            )
        mask = parse_weekdays(weekdays)
        if mask is None:
            raise refusal(
                f"“{echo(weekdays or '')}” is not a list of weekdays; "
                "use e.g. mon,wed,fri, mon-fri, weekdays or daily."
            )
        deck_id = await resolve_deck(self.store, deck, caller.workspace_id)
        await self.store.ensure_workspace(caller.workspace_id, caller.platform)
        now = self.clock.now()
        config = DailyConfig(caller.workspace_id, caller.platform, ref, f"{at:%H:%M}", tz, deck_id, mask)
        before = await self.store.get_daily_channel(caller.workspace_id, ref)
        channel = await self.store.save_daily_channel(config, now)
        self.hooks.changed()
        sections = [Section(schedule_line(channel))]
        when = next_post(channel, now, await self._posted_dates(channel, now))
        if when is not None:
            sections.append(Section(f"Next question: {local_moment(when, channel.zone)}"))
        if before is not None and before.paused_reason:
            sections.append(Section(f"Resumed; it was paused because: {before.paused_reason}"))
        return Message(title=f"Daily question set for {channel_label(ref)}.", sections=tuple(sections))

    async def off(self, caller: Caller, channel_ref: str) -> Message:
        refuse(caller, channel=channel_ref)
        _admin_only(caller)
        channel = await self._channel(caller, channel_ref, "off")
        if not channel.enabled:
            raise refusal(f"The daily question is already off in {channel_label(channel.channel_ref)}.")
        await self.store.disable_daily_channel(channel.id, self.clock.now())
        self.hooks.changed()
        return Message(
            title=f"The daily question is off in {channel_label(channel.channel_ref)}.",
            sections=(Section("Turn it back on with /daily set; the channel keeps its place in the deck."),),
        )

    async def status(self, caller: Caller, channel_ref: str | None = None) -> Message:
        refuse(caller, channel=channel_ref)
        if channel_ref:
            channels = [await self._channel(caller, channel_ref, "status")]
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
        lines = [schedule_line(channel)]
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
            lines.append(f"Today's question went out {local_moment(post.posted_at, channel.zone)}.")
        elif post is not None:
            problem = f" Last error: {post.last_error}." if post.last_error else ""
            tries = plural(post.attempts, "attempt")
            lines.append(f"Today's question is being posted ({tries} so far).{problem}")
        when = next_post(channel, now, {today} if post is not None else ())
        if when is not None:
            lines.append(f"Next question: {local_moment(when, channel.zone)}")
        if channel.digest:
            lines.append(f"Next weekly digest: {local_moment(next_digest(channel, now), channel.zone)}")
        else:
            lines.append("Weekly digest: off (an admin can turn it on with /daily digest on).")
        return "\n".join(lines)

    async def digest(self, caller: Caller, channel_ref: str, switch: str) -> Message:
        """Admins: the weekly digest of a daily channel on or off."""
        refuse(caller, channel=channel_ref, switch=switch)
        _admin_only(caller)
        wanted = (switch or "").strip().casefold()
        if wanted not in {"on", "off"}:
            raise refusal(f"“{echo(switch or '')}” is neither on nor off.", "For example: /daily digest off")
        channel = await self._channel(caller, channel_ref, "digest")
        await self.store.set_daily_digest(channel.id, wanted == "on")
        where = channel_label(channel.channel_ref)
        if wanted == "off":
            return Message(title=f"No weekly digest in {where} from now on.")
        return Message(title=f"The weekly digest goes to {where} on Mondays at {channel.post_time}.")

    async def post_now(self, caller: Caller, channel_ref: str) -> Message:
        refuse(caller, channel=channel_ref)
        if not caller.is_admin:
            raise refusal("Only admins can post the daily question.", ADMIN_HINT)
        channel = await self._channel(caller, channel_ref, "now")
        label = channel_label(channel.channel_ref)
        if not channel.enabled:
            raise refusal(f"The daily question is off in {label}.", "Turn it on with /daily set first.")
        if channel.paused_reason:
            raise refusal(
                f"The daily question in {label} is paused: {channel.paused_reason}",
                "Fix that, then run /daily set again to resume.",
            )
        today = self.clock.now().astimezone(channel.zone).date()
        existing = await self.store.get_daily_post_for(channel.id, today)
        if existing is not None and existing.posted_at is not None:
            return Message(
                title=f"Today's question was already posted in {label} "
                f"({local_moment(existing.posted_at, channel.zone)}).",
                sections=(Section("There is one question a day; the next one comes at the usual time."),),
            )
        if self.hooks.trigger is None:
            raise refusal("The daily scheduler is not running here, so nothing can be posted now.")
        result = await self.hooks.trigger(channel.id, today)
        if result.status is PostStatus.POSTED:
            return Message(title=f"Posted today's question in {label}.")
        if result.status is PostStatus.TAKEN:
            return Message(title=f"Today's question is already posted, or being posted, in {label}.")
        if result.status is PostStatus.PAUSED:
            raise refusal(
                f"Could not post in {label}: {result.detail}",
                "The daily question there is paused; fix that, then run /daily set again.",
            )
        if result.status is PostStatus.FAILED:
            raise refusal(f"Could not post in {label} yet: {result.detail}", "I'll keep trying for a while.")
        raise refusal(f"The daily question in {label} is not active.", "Check /daily status.")


def _admin_only(caller: Caller) -> None:
    if not caller.is_admin:
        raise refusal("Only admins can change the daily question.", ADMIN_HINT)

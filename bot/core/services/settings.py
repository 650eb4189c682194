"""`/settings`: a member's own time zone and daily reminders, shown and changed."""

from __future__ import annotations

from datetime import datetime

from bot.core.messages import Action, Message, Section, Style
from bot.core.model.calendar import parse_time, parse_timezone
from bot.core.model.member_zone import change_applies_from
from bot.core.model.models import Caller
from bot.core.model.typed_text import echo
from bot.core.ports import Clock, SettingsStore
from bot.core.refusal import refusal, refuse
from bot.core.services.members import Who, who

ZONE_EXAMPLE = "For example: /settings timezone Europe/Berlin (or America/New_York, Asia/Tokyo)"
TIME_EXAMPLE = "For example: /settings reminders 19:30 (24-hour local time), or /settings reminders off"


class SettingsService:
    def __init__(self, store: SettingsStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def show(self, caller: Caller) -> Message:
        refuse(caller)
        now = self.clock.now()
        return _shown(await who(self.store, caller, now), now)

    async def timezone(self, caller: Caller, text: str) -> Message:
        refuse(caller, time_zone=text)
        name = parse_timezone(text or "")
        if name is None:
            raise refusal(f"“{echo(text or '')}” is not a time zone I know.", ZONE_EXAMPLE)
        now = self.clock.now()
        me = await who(self.store, caller, now)
        if me.member.timezone_chosen and me.member.timezone == name:
            return _shown(me, now, f"Your time zone is already {name}.")
        applies = change_applies_from(me.member_tz, now)
        await self.store.choose_timezone(me.member.id, name, me.member_tz, applies)
        me = await who(self.store, caller, now)
        return _shown(me, now, f"Your time zone is now {name}, from your next day on.")

    async def reminders(self, caller: Caller, text: str) -> Message:
        refuse(caller, time=text)
        wanted = (text or "").strip().casefold()
        if wanted in {"off", "stop", "no", "none"}:
            at = None
        else:
            parsed = parse_time(wanted)
            if parsed is None:
                raise refusal(f"“{echo(text or '')}” is not a time of day.", TIME_EXAMPLE)
            at = parsed.strftime("%H:%M")
        now = self.clock.now()
        me = await who(self.store, caller, now)
        await self.store.set_reminders(me.member.id, at)
        me = await who(self.store, caller, now)
        said = f"Reminders on at {at}, your time." if at else "Reminders are off."
        return _shown(me, now, said)

    async def stop_reminders(self, caller: Caller, member_id: int) -> Message:
        """The Stop reminders button of a reminder: only its member may press it."""
        member = await self.store.get_member(member_id)
        if member is None or (member.workspace_id, member.user_ref) != (caller.workspace_id, caller.user_ref):
            raise refusal("Those reminders are someone else's.")
        await self.store.set_reminders(member.id, None)
        return Message(
            title="Reminders are off.",
            sections=(Section("Switch them on again with /settings reminders HH:MM."),),
        )


def _shown(me: Who, now: datetime, said: str | None = None) -> Message:
    member = me.member
    zone_line = me.member_tz or "UTC"
    if member.timezone_chosen and member.timezone != me.member_tz and member.timezone_from:
        zone_line += f" (changing to {member.timezone} from your next day)"
    elif not member.timezone_chosen:
        zone_line += " (from your profile or the server; set your own with /settings timezone AREA/CITY)"
    if member.reminders_paused:
        reminder = f"paused: {member.reminders_paused} Switch them on again with /settings reminders HH:MM."
    elif member.reminder_time:
        reminder = f"on at {member.reminder_time} your time, when cards are due or your streak is at stake"
    else:
        reminder = "off (switch on with /settings reminders HH:MM)"
    actions = (
        (Action(f"reminders-off:{member.id}", "Stop reminders", Style.DANGER),)
        if member.reminder_time and not member.reminders_paused
        else ()
    )
    return Message(
        title=said or "Your settings",
        sections=(Section(zone_line, "Time zone"), Section(reminder, "Reminders")),
        actions=actions,
    )

"""Due-card reminders: who gets one now, their claims, and the direct message itself.

The runner (bot/schedule/outreach.py) asks `due` every sweep, claims what it found (exactly once per member
and local day, in the database) and sends `message(job)` through the platform's direct messages."""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta
from typing import Protocol

from bot.core.actions import StartReview, StopReminders
from bot.core.messages import Action, Message, Section, Style
from bot.core.model.member_zone import member_tz
from bot.core.model.reminders import (
    REMINDER,
    ReminderJob,
    reminder_day,
    reminder_time,
    streak_at_stake,
    worth_sending,
)
from bot.core.model.streaks import zone
from bot.core.ports import Clock, OutreachStore, SettingsStore
from bot.core.texts.words import plural

COUNT_BATCH = 500  # members per due-count query


class ReminderStore(OutreachStore, SettingsStore, Protocol):
    """What reminders use of the store."""


class ReminderService:
    def __init__(self, store: ReminderStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def due(self, grace: timedelta, platforms: Collection[str] | None = None) -> list[ReminderJob]:
        """Members whose reminder time has come (within `grace`), not yet reminded that local day, with
        cards due or a streak at stake."""
        now = self.clock.now()
        candidates = []
        for member, workspace_tz in await self.store.reminder_members():
            platform = member.workspace_id.partition(":")[0]
            at = reminder_time(member)
            if at is None or (platforms is not None and platform not in platforms):
                continue
            tz = zone(member_tz(member, None, workspace_tz, now))
            day = reminder_day(at, tz, now, grace)
            if day is not None:
                candidates.append((member, day))
        done = await self.store.outreach_done(REMINDER, [(m.id, day) for m, day in candidates])
        candidates = [(m, day) for m, day in candidates if (m.id, day) not in done]
        counts: dict[int, int] = {}
        for start in range(0, len(candidates), COUNT_BATCH):
            batch = [m.id for m, _day in candidates[start : start + COUNT_BATCH]]
            counts.update(await self.store.due_counts(batch, now))
        return [
            ReminderJob(m, day, counts.get(m.id, 0), streak_at_stake(m, day))
            for m, day in candidates
            if worth_sending(m, counts.get(m.id, 0), day)
        ]

    async def unreachable(self, job: ReminderJob, reason: str) -> None:
        """The member can't be messaged: the day's reminder is given up and their reminders pause, with
        the reason shown in /settings, rather than failing again every day."""
        await self.store.pause_reminders(job.member.id, reason)


def message(job: ReminderJob) -> Message:
    lines = []
    if job.due:
        lines.append(f"📚 {plural(job.due, 'card')} due for review.")
    if job.streak_at_stake:
        lines.append(f"🔥 Your {job.streak_at_stake}-day streak ends today unless you study.")
    title = "Time to study" if job.due else "Keep your streak"
    return Message(
        title=title,
        sections=(Section("\n".join(lines)),),
        actions=(
            Action(StartReview(job.member.id).id, "Start review", Style.PRIMARY),
            Action(StopReminders(job.member.id).id, "Stop reminders", Style.SECONDARY),
        ),
        private=False,
        # Not "here": /settings typed in a Discord DM sets that DM's own member, not this reminder's.
        footer="Change the time or zone with /settings in your server or workspace.",
    )

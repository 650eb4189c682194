"""The weekly team digest: which channels get one now, and what it says about last week."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta
from typing import Protocol

from bot.core.actions import StudyCard
from bot.core.cardtext import plain_inline
from bot.core.messages import Action, Message, Section
from bot.core.model.daily import DailyChannel
from bot.core.model.digest import DIGEST, WeekSummary, digest_date, week_bounds
from bot.core.model.models import Period
from bot.core.model.streaks import current_streak
from bot.core.ports import BoardStore, Clock, DailyPostStore, OutreachStore
from bot.core.texts.study import card_label
from bot.core.texts.words import plural

TOP = 3
HARDEST = 3
STREAK_CANDIDATES = 20


class DigestStore(OutreachStore, BoardStore, DailyPostStore, Protocol): ...


class DigestService:
    def __init__(self, store: DigestStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def due(
        self, grace: timedelta, platforms: Collection[str] | None = None
    ) -> list[tuple[DailyChannel, date]]:
        """Channels whose digest is due (this Monday at their time, within `grace`) and not yet sent."""
        now = self.clock.now()
        found = []
        for channel in await self.store.list_daily_channels(None, active_only=True):
            if platforms is not None and channel.platform not in platforms:
                continue
            day = digest_date(channel, now, grace)
            if day is not None:
                found.append((channel, day))
        done = await self.store.outreach_done(DIGEST, [(c.id, day) for c, day in found])
        return [(c, day) for c, day in found if (c.id, day) not in done]

    async def summary(self, channel: DailyChannel, monday: date) -> WeekSummary:
        start, end = week_bounds(monday, channel)
        week = monday - timedelta(days=7)
        top = await self.store.leaderboard(channel.workspace_id, Period.WEEK, week, TOP)
        teams = (await self.store.team_standings(channel.workspace_id, Period.WEEK, week))[:TOP]
        studied, hardest = await self.store.week_activity(channel.workspace_id, start, end, HARDEST)
        leaders = await self.store.streak_leaders(channel.workspace_id, STREAK_CANDIDATES)
        standing = [
            (m, current_streak(m.streak_current, m.last_study_day, monday, m.streak_freezes)) for m in leaders
        ]
        streaks = sorted([(m, n) for m, n in standing if n > 0], key=lambda x: (-x[1], x[0].id))[:TOP]
        return WeekSummary(top, [t for t in teams if t.points > 0], studied, hardest, streaks)

    async def build(self, channel: DailyChannel, monday: date) -> Message:
        return digest_message(await self.summary(channel, monday), monday)

    async def unreachable(self, channel: DailyChannel, reason: str) -> None:
        await self.store.pause_daily_channel(channel.id, reason, None, self.clock.now())


def digest_message(week: WeekSummary, monday: date) -> Message:
    first = monday - timedelta(days=7)
    title = f"Last week in review · {first:%d %b} – {monday - timedelta(days=1):%d %b}"
    if not week.studied:
        return Message(
            title=title,
            sections=(Section("Nobody studied last week. A fresh week starts now: /quiz"),),
            private=False,
        )
    sections = [Section(f"{plural(week.studied, 'member')} studied.", "Who studied")]
    if week.top:
        sections.append(
            Section(
                "\n".join(f"{r.rank}. {r.display_name} — {plural(r.points, 'pt')}" for r in week.top),
                "Top members",
            )
        )
    if week.teams:
        sections.append(
            Section(
                "\n".join(f"{t.rank}. {t.name} — {plural(t.points, 'pt')}" for t in week.teams), "Top teams"
            )
        )
    if week.hardest:
        lines = [
            f"{i}. {card_label(h.card)}: {_short(h.card.question)} — "
            f"{h.hard} of {plural(h.reviews, 'review')} Again or Hard"
            for i, h in enumerate(week.hardest, 1)
        ]
        sections.append(Section("\n".join(lines), "Hardest cards"))
    if week.streaks:
        sections.append(
            Section(
                "\n".join(f"🔥 {m.display_name or m.user_ref} — {plural(n, 'day')}" for m, n in week.streaks),
                "Longest streaks",
            )
        )
    actions = tuple(Action(StudyCard(h.card.id).id, f"Study it: #{i}") for i, h in enumerate(week.hardest, 1))
    return Message(title=title, sections=tuple(sections), actions=actions, private=False)


def _short(question: str, limit: int = 80) -> str:
    text = plain_inline(question)
    return text if len(text) <= limit else text[: limit - 1] + "…"

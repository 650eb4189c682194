"""Progress: a member's stats and the leaderboard of members and teams."""

from __future__ import annotations

from bot.core.messages import Message
from bot.core.model.models import Caller, Period
from bot.core.model.streaks import current_streak, local_day, period_start, zone
from bot.core.model.typed_text import echo
from bot.core.ports import Clock, ProgressStore
from bot.core.refusal import refusal, refuse
from bot.core.services.members import who
from bot.core.texts import progress as texts

LEADERBOARD_SIZE = 10
PERIOD_NAMES = {
    "week": Period.WEEK,
    "month": Period.MONTH,
    "all": Period.ALL,
    "alltime": Period.ALL,
    "all-time": Period.ALL,
    "all time": Period.ALL,
}


class ProgressService:
    def __init__(self, store: ProgressStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def stats(self, caller: Caller) -> Message:
        refuse(caller)
        me = await who(self.store, caller)
        now = self.clock.now()
        today = local_day(now, zone(me.member_tz))
        week = period_start(Period.WEEK, local_day(now, zone(me.workspace_tz)))
        stats = await self.store.member_stats(me.member.id, now, week)
        team = await self.store.team_name(me.member.team_id) if me.member.team_id else None
        streak = current_streak(me.member.streak_current, me.member.last_study_day, today)
        studied_today = me.member.last_study_day == today
        return texts.stats(stats, streak, me.member.streak_best, studied_today, team)

    async def leaderboard(self, caller: Caller, period_text: str | None = None) -> Message:
        refuse(caller, period=period_text)
        period = PERIOD_NAMES.get((period_text or "week").strip().casefold())
        if period is None:
            raise refusal(
                f"“{echo(period_text or '')}” is not a leaderboard period.",
                "Use one of: week, month, all (all time).",
            )
        me = await who(self.store, caller)
        now = self.clock.now()
        board_today = local_day(now, zone(me.workspace_tz))
        start = period_start(period, board_today)
        board = await self.store.board(caller.workspace_id, me.member.id, period, start, LEADERBOARD_SIZE)
        top = board.top
        mine = board.mine if all(row.member_id != me.member.id for row in top) else None
        return texts.leaderboard(period, top, mine, me.member.id, board.teams, board_today)

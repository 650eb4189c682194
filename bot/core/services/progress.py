"""Progress: a member's stats and the leaderboard of members and teams."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.messages import Message
from bot.core.model.models import Caller, Grade, Period
from bot.core.model.stats_picture import StatsPicture, count_by_local_day, window_start
from bot.core.model.streaks import current_streak, freezes_left, local_day, period_start, zone
from bot.core.model.typed_text import echo
from bot.core.ports import Clock, ProgressStore
from bot.core.refusal import refusal, refuse
from bot.core.services.members import who
from bot.core.texts import progress as texts

log = logging.getLogger(__name__)

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
    def __init__(
        self,
        store: ProgressStore,
        clock: Clock,
        render_picture: Callable[[StatsPicture], bytes] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        # Draws the picture (bot/pictures, injected by bot/bootstrap.py); None: text only.
        self.render_picture = render_picture

    async def stats(self, caller: Caller) -> Message:
        refuse(caller)
        now = self.clock.now()
        me = await who(self.store, caller, now)
        today = local_day(now, zone(me.member_tz))
        week = period_start(Period.WEEK, local_day(now, zone(me.workspace_tz)))
        stats = await self.store.member_stats(me.member.id, now, week)
        team = await self.store.team_name(me.member.team_id) if me.member.team_id else None
        held = me.member.streak
        streak = current_streak(held.current, held.last_day, today, held.freezes)
        studied_today = me.member.last_study_day == today
        freezes = freezes_left(held, today) if streak else 0
        shown = texts.stats(stats, streak, me.member.streak_best, studied_today, team, freezes, held.saved)
        if self.render_picture is None:
            return shown
        picture = await self.picture(me.member.id, stats.grade_counts, today, zone(me.member_tz))
        try:
            png = self.render_picture(picture)
        except Exception:  # the text is the fallback: a drawing problem must not cost the member /stats
            log.exception("stats picture failed member=%s", me.member.id)
            return shown
        return dataclasses.replace(shown, files=(texts.stats_attachment(png, picture),))

    async def picture(
        self, member_id: int, grade_counts: Mapping[Grade, int], today: date, tz: ZoneInfo
    ) -> StatsPicture:
        """The picture's data: grades per local day over the calendar's weeks, grades, cards by state."""
        first = window_start(today)
        since = datetime.combine(first, time(0), tzinfo=tz) - timedelta(days=1)  # a day's margin for DST
        times = await self.store.graded_times(member_id, since.astimezone(UTC))
        new, learning, review = await self.store.cards_by_state(member_id)
        return StatsPicture(
            today=today,
            daily_graded={d: n for d, n in count_by_local_day(times, tz).items() if d >= first},
            grade_counts=grade_counts,
            cards_new=new,
            cards_learning=learning,
            cards_review=review,
        )

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

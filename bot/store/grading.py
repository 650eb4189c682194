"""A grade's one write transaction: the ask (exactly once), the card's state, the member's and team's
scores and the member's streak. The streak and team-activity rules are the core's (bot/core/streaks.py,
team_activity.py); this writes their results. Which grade of a card earns its day's points is settled by a
unique row, so that concurrent grades cannot both earn them."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.model.models import ALL_TIME_START, GradeOutcome, GradeRecord, Period, Streak
from bot.core.model.streaks import extend_streak
from bot.core.model.team_activity import becomes_active
from bot.store.db import Db
from bot.store.tables import (
    asks,
    board_counts,
    card_points,
    card_states,
    members,
    scores,
    team_member_scores,
    team_scores,
)

# The exactly-once guard of a grade: only the UPDATE that finds the ask ungraded writes anything.
_CLAIM_ASK = (
    sa.update(asks)
    .where(
        asks.c.id == sa.bindparam("b_ask_id"),
        asks.c.member_id == sa.bindparam("b_member_id"),
        asks.c.graded_at.is_(None),
    )
    .values(
        grade=sa.bindparam("b_grade", type_=asks.c.grade.type),
        graded_at=sa.bindparam("b_graded_at", type_=asks.c.graded_at.type),
        points=sa.bindparam("b_points", type_=asks.c.points.type),
        skipped_at=None,
    )
)

_DAY = members.c.last_study_day.type
_STREAK_VALUES = {
    "streak_current": sa.bindparam("b_current"),
    "streak_best": sa.bindparam("b_best"),
    "last_study_day": sa.bindparam("b_last", type_=_DAY),
}
# The streak the core extended, written only if the member's row still holds the streak the grade read;
# updating the row locks it, so a team join or leave of the member runs wholly before or after the grade.
_WRITE_SEEN_STREAK = (
    sa.update(members)
    .where(
        members.c.id == sa.bindparam("b_member_id"),
        members.c.streak_current == sa.bindparam("b_seen_current"),
        members.c.streak_best == sa.bindparam("b_seen_best"),
        members.c.last_study_day.is_not_distinct_from(sa.bindparam("b_seen_last", type_=_DAY)),
    )
    .values(**_STREAK_VALUES)
    .returning(members.c.team_id)
)
# Otherwise (a grade of theirs was written in between): read the row locked, decide again, write.
_READ_STREAK = (
    sa.select(members.c.streak_current, members.c.streak_best, members.c.last_study_day, members.c.team_id)
    .where(members.c.id == sa.bindparam("b_member_id"))
    # FOR NO KEY UPDATE, the lock an UPDATE takes: FOR UPDATE would wait for the key-share locks other
    # grades of the member take by inserting rows that refer to it, and deadlock with them.
    .with_for_update(key_share=True)
)
_WRITE_STREAK = sa.update(members).where(members.c.id == sa.bindparam("b_member_id")).values(**_STREAK_VALUES)
# Streak freezes move only with the streak written just before, on the row that write locked.
_WRITE_FREEZES = (
    sa.update(members)
    .where(members.c.id == sa.bindparam("b_member_id"))
    .values(streak_freezes=sa.bindparam("b_freezes"), streak_saved=sa.bindparam("b_saved"))
)
_READ_FREEZES = sa.select(members.c.streak_freezes, members.c.streak_saved).where(
    members.c.id == sa.bindparam("b_member_id")
)


class SqlGrading:
    def __init__(self, db: Db) -> None:
        self.db = db
        # Single-row upserts run with executemany: one cacheable statement instead of a multi-row VALUES
        # built (and compiled) again on every grade.
        ins = db.upsert(scores)
        self._add_scores = ins.on_conflict_do_update(
            index_elements=["member_id", "period", "period_start"],
            set_={"points": scores.c.points + ins.excluded.points, "reviews": scores.c.reviews + 1},
        ).returning(scores.c.period, scores.c.period_start, scores.c.points)
        ins = db.upsert(team_member_scores)
        self._add_team_member_scores = ins.on_conflict_do_update(
            index_elements=["team_id", "member_id", "period", "period_start"],
            set_={"points": team_member_scores.c.points + ins.excluded.points},
        ).returning(
            team_member_scores.c.period, team_member_scores.c.period_start, team_member_scores.c.points
        )
        # The card's points of the member's day are taken once: the row that goes in earns them.
        self._take_card_points = (
            db.upsert(card_points)
            .on_conflict_do_nothing(index_elements=["member_id", "card_id", "local_day"])
            .returning(card_points.c.ask_id)
        )
        # The member moves from their old score to the new one on each board's histogram (rank counts).
        ins = db.upsert(board_counts)
        self._move_on_boards = ins.on_conflict_do_update(
            index_elements=["workspace_id", "period", "period_start", "points"],
            set_={"members": board_counts.c.members + ins.excluded.members},
        )
        ins = db.upsert(team_scores)
        self._add_team_scores = ins.on_conflict_do_update(
            index_elements=["team_id", "period", "period_start"],
            set_={
                "points": team_scores.c.points + ins.excluded.points,
                "active": team_scores.c.active + ins.excluded.active,
            },
        )

    async def record_grade(self, record: GradeRecord) -> GradeOutcome | None:
        async with self.db.writer.begin() as conn:
            claimed = await conn.execute(
                _CLAIM_ASK,
                {
                    "b_ask_id": record.ask_id,
                    "b_member_id": record.member_id,
                    "b_grade": int(record.grade),
                    "b_graded_at": record.graded_at,
                    "b_points": record.points,
                },
            )
            if claimed.rowcount != 1:
                return None
            if record.points > 0 and not await self._first_points_today(conn, record):
                record = dataclasses.replace(record, points=0)
            state = record.new_state
            state_values = {
                "state": state.state,
                "step": state.step,
                "stability": state.stability,
                "difficulty": state.difficulty,
                "due": state.due,
                "last_review": state.last_review,
                "reps": state.reps,
                "lapses": state.lapses,
            }
            await conn.execute(
                self.db.upsert(card_states)
                .values(member_id=record.member_id, card_id=record.card_id, **state_values)
                .on_conflict_do_update(index_elements=["member_id", "card_id"], set_=state_values)
            )
            await self._add_points(conn, record)
            streak, team_id = await _extend_streak(conn, record)
            if team_id is not None and record.points > 0:
                await self._add_team_points(conn, team_id, record)
            return GradeOutcome(streak=streak.current, points=record.points)

    async def _first_points_today(self, conn: AsyncConnection, record: GradeRecord) -> bool:
        """Whether this grade is the first of the card to earn points on the member's local day; if not,
        its ask keeps 0 points. Concurrent grades of one card: the unique row lets exactly one through."""
        taken = await conn.execute(
            self._take_card_points,
            {
                "member_id": record.member_id,
                "card_id": record.card_id,
                "local_day": record.local_day,
                "ask_id": record.ask_id,
            },
        )
        if taken.first() is not None:
            return True
        await conn.execute(sa.update(asks).where(asks.c.id == record.ask_id).values(points=0))
        return False

    async def _add_points(self, conn: AsyncConnection, record: GradeRecord) -> None:
        """Add the grade to the member's week, month and all-time scores."""
        rows = [
            {
                "member_id": record.member_id,
                "period": period.value,
                "period_start": start,
                "workspace_id": record.workspace_id,
                "points": record.points,
                "reviews": 1,
            }
            for period, start in _periods(record)
        ]
        totals = (await conn.execute(self._add_scores, rows)).all()
        if record.points > 0:
            await self._move_on_board_counts(conn, record, totals)

    async def _move_on_board_counts(
        self, conn: AsyncConnection, record: GradeRecord, totals: Sequence[sa.Row[Any]]
    ) -> None:
        """Keep `board_counts` (the rank histogram) in step with the scores just added: one statement."""
        await conn.execute(self._move_on_boards, board_count_moves(record, totals))

    async def _add_team_points(self, conn: AsyncConnection, team_id: int, record: GradeRecord) -> None:
        """Add the grade to the team it was earned in: to the member's points for that team, and to the
        team's totals, counting the member active where the core's rule says this grade makes them so."""
        mine = [
            {
                "team_id": team_id,
                "member_id": record.member_id,
                "period": period.value,
                "period_start": start,
                "points": record.points,
            }
            for period, start in _periods(record)
        ]
        totals = (await conn.execute(self._add_team_member_scores, mine)).all()
        rows = [
            {
                "team_id": team_id,
                "period": row.period,
                "period_start": row.period_start,
                "workspace_id": record.workspace_id,
                "points": record.points,
                "active": 1 if becomes_active(row.points - record.points, row.points) else 0,
            }
            # Always the same order of rows, so concurrent writers of one team lock them in one order.
            for row in sorted(totals, key=lambda r: (r.period, r.period_start))
        ]
        await conn.execute(self._add_team_scores, rows)


def board_count_moves(record: GradeRecord, totals: Sequence[Any]) -> list[dict[str, Any]]:
    """The `board_counts` rows a grade moves, from the scores rows it added to (period, period_start,
    points after): one member less at the old points (when they were on the board), one more at the new.
    In key order, so concurrent grades lock the rows in one order."""
    moves: dict[tuple[str, date, int], int] = {}
    for row in totals:
        before = row.points - record.points
        if before > 0:
            moves[(row.period, row.period_start, before)] = -1
        moves[(row.period, row.period_start, row.points)] = 1
    return [
        {
            "workspace_id": record.workspace_id,
            "period": period,
            "period_start": start,
            "points": points,
            "members": delta,
        }
        for (period, start, points), delta in sorted(moves.items())
    ]


def _periods(record: GradeRecord) -> tuple[tuple[Period, date], ...]:
    return (
        (Period.WEEK, record.week_start),
        (Period.MONTH, record.month_start),
        (Period.ALL, ALL_TIME_START),
    )


def _streak_values(streak: Streak) -> dict[str, Any]:
    return {"b_current": streak.current, "b_best": streak.best, "b_last": streak.last_day}


async def _extend_streak(conn: AsyncConnection, record: GradeRecord) -> tuple[Streak, int | None]:
    """Write the member's streak extended by the grade's local day (bot/core/streaks.py decides); the
    streak after it and the member's team. Both ways lock the member row until the transaction ends."""
    seen = record.streak_seen
    after = extend_streak(seen, record.local_day)
    written = await conn.execute(
        _WRITE_SEEN_STREAK,
        {
            "b_member_id": record.member_id,
            "b_seen_current": seen.current,
            "b_seen_best": seen.best,
            "b_seen_last": seen.last_day,
            **_streak_values(after),
        },
    )
    team = written.first()
    if team is not None:
        await _write_freezes(conn, record.member_id, seen, after)
        return after, team.team_id
    # Rare: another grade of the member's was written since this one read the streak. Its row is now
    # locked (PostgreSQL; SQLite writers hold the database lock), so the decision holds.
    row = (await conn.execute(_READ_STREAK, {"b_member_id": record.member_id})).one()
    held = (await conn.execute(_READ_FREEZES, {"b_member_id": record.member_id})).one()
    now_seen = Streak(row.streak_current, row.streak_best, row.last_study_day, *held)
    after = extend_streak(now_seen, record.local_day)
    await conn.execute(_WRITE_STREAK, {"b_member_id": record.member_id, **_streak_values(after)})
    await _write_freezes(conn, record.member_id, now_seen, after)
    return after, row.team_id


async def _write_freezes(conn: AsyncConnection, member_id: int, seen: Streak, after: Streak) -> None:
    """Streak freezes earned or used by the grade (bot/core/model/streaks.py decides)."""
    if (after.freezes, after.saved) != (seen.freezes, seen.saved):
        await conn.execute(
            _WRITE_FREEZES, {"b_member_id": member_id, "b_freezes": after.freezes, "b_saved": after.saved}
        )

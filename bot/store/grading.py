"""A grade's one write transaction: the ask (exactly once), the card's state, the member's and team's
scores and the member's streak. The streak and team-activity rules are the core's (bot/core/streaks.py,
team_activity.py); this writes their results. Which grade of a card earns its day's points is settled by a
unique row, so that concurrent grades cannot both earn them.

The transaction is written once, as `grade_steps`: a generator that yields (statement name, parameters)
and is sent each statement's result. Its statements are built once, by name, in `grade_statements`. On
SQLite the whole transaction runs in one hand-off to the grade lane's thread on precompiled statements
(bot/store/sqlite_lane.py); on PostgreSQL it runs over SQLAlchemy, retried once if the connection was
found dropped before any of its statements ran. Adding a statement to every grade is one entry in
`grade_statements` and one `yield` in `grade_steps`."""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
from collections.abc import Generator, Mapping, Sequence
from datetime import date
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.sql.expression import Executable

from bot.core.model.models import ALL_TIME_START, GradeOutcome, GradeRecord, Period, Streak
from bot.core.model.streaks import extend_streak
from bot.core.model.team_activity import becomes_active
from bot.store.compiled import CompiledStatement
from bot.store.db import ConnectionDropped, Db
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


class Done(NamedTuple):
    """What a statement of the grade gave back: rows it matched and rows it returned."""

    rowcount: int
    rows: list[Any]


# A statement's name and its values; a list of values runs it once for each (executemany, no rows back).
Step = tuple[str, Mapping[str, Any] | list[dict[str, Any]]]
Steps = Generator[Step, Done, GradeOutcome | None]

_PERIODS = 3  # week, month, all time: the rows a grade adds to each score table

_DAY = members.c.last_study_day.type
_STREAK_VALUES = {
    "streak_current": sa.bindparam("b_current"),
    "streak_best": sa.bindparam("b_best"),
    "last_study_day": sa.bindparam("b_last", type_=_DAY),
}
_BOARD_COLUMNS = ("workspace_id", "period", "period_start", "points", "members")
_STATE_COLUMNS = ("state", "step", "stability", "difficulty", "due", "last_review", "reps", "lapses")


def _rows(table: sa.Table, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """VALUES for one row a period, bound as `r<i>_<column>`: one statement compiled once, not executemany."""
    return [{c: sa.bindparam(f"r{i}_{c}", type_=table.c[c].type) for c in columns} for i in range(_PERIODS)]


def grade_statements(db: Db) -> dict[str, Executable]:
    """Every statement a grade may send, by the name `grade_steps` yields."""
    ins_scores = db.upsert(scores).values(
        _rows(scores, ("member_id", "period", "period_start", "workspace_id", "points", "reviews"))
    )
    ins_team_member = db.upsert(team_member_scores).values(
        _rows(team_member_scores, ("team_id", "member_id", "period", "period_start", "points"))
    )
    ins_team = db.upsert(team_scores).values(
        _rows(team_scores, ("team_id", "period", "period_start", "workspace_id", "points", "active"))
    )
    state = {c: sa.bindparam(f"s_{c}", type_=card_states.c[c].type) for c in _STATE_COLUMNS}
    ins_boards = db.upsert(board_counts).values(
        {c: sa.bindparam(f"bc_{c}", type_=board_counts.c[c].type) for c in _BOARD_COLUMNS}
    )
    return {
        # The exactly-once guard of a grade: only the UPDATE that finds the ask ungraded writes anything.
        "claim_ask": sa.update(asks)
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
        ),
        # The card's points of the member's day are taken once: the row that goes in earns them.
        "take_card_points": db.upsert(card_points)
        .values(
            member_id=sa.bindparam("b_member_id"),
            card_id=sa.bindparam("b_card_id"),
            local_day=sa.bindparam("b_local_day", type_=card_points.c.local_day.type),
            ask_id=sa.bindparam("b_ask_id"),
        )
        .on_conflict_do_nothing(index_elements=["member_id", "card_id", "local_day"])
        .returning(card_points.c.ask_id),
        "no_points": sa.update(asks).where(asks.c.id == sa.bindparam("b_ask_id")).values(points=0),
        "card_state": db.upsert(card_states)
        .values(member_id=sa.bindparam("b_member_id"), card_id=sa.bindparam("b_card_id"), **state)
        .on_conflict_do_update(index_elements=["member_id", "card_id"], set_=state),
        "add_scores": ins_scores.on_conflict_do_update(
            index_elements=["member_id", "period", "period_start"],
            set_={"points": scores.c.points + ins_scores.excluded.points, "reviews": scores.c.reviews + 1},
        ).returning(scores.c.period, scores.c.period_start, scores.c.points),
        # The member moves from their old score to the new one on each board's histogram (rank counts).
        "move_on_boards": ins_boards.on_conflict_do_update(
            index_elements=["workspace_id", "period", "period_start", "points"],
            set_={"members": board_counts.c.members + ins_boards.excluded.members},
        ),
        # The streak the core extended, written only if the member's row still holds the streak the grade
        # read; updating the row locks it, so a team join or leave runs wholly before or after the grade.
        "write_seen_streak": sa.update(members)
        .where(
            members.c.id == sa.bindparam("b_member_id"),
            members.c.streak_current == sa.bindparam("b_seen_current"),
            members.c.streak_best == sa.bindparam("b_seen_best"),
            members.c.last_study_day.is_not_distinct_from(sa.bindparam("b_seen_last", type_=_DAY)),
        )
        .values(**_STREAK_VALUES)
        .returning(members.c.team_id),
        # Otherwise (a grade of theirs was written in between): read the row locked, decide again, write.
        "read_streak": sa.select(
            members.c.streak_current,
            members.c.streak_best,
            members.c.last_study_day,
            members.c.streak_freezes,
            members.c.streak_saved,
            members.c.team_id,
        )
        .where(members.c.id == sa.bindparam("b_member_id"))
        # FOR NO KEY UPDATE, the lock an UPDATE takes: FOR UPDATE would wait for the key-share locks other
        # grades of the member take by inserting rows that refer to it, and deadlock with them.
        .with_for_update(key_share=True),
        "write_streak": sa.update(members)
        .where(members.c.id == sa.bindparam("b_member_id"))
        .values(**_STREAK_VALUES),
        # Streak freezes move only with the streak written just before, on the row that write locked.
        "write_freezes": sa.update(members)
        .where(members.c.id == sa.bindparam("b_member_id"))
        .values(streak_freezes=sa.bindparam("b_freezes"), streak_saved=sa.bindparam("b_saved")),
        "add_team_member_scores": ins_team_member.on_conflict_do_update(
            index_elements=["team_id", "member_id", "period", "period_start"],
            set_={"points": team_member_scores.c.points + ins_team_member.excluded.points},
        ).returning(
            team_member_scores.c.period, team_member_scores.c.period_start, team_member_scores.c.points
        ),
        "add_team_scores": ins_team.on_conflict_do_update(
            index_elements=["team_id", "period", "period_start"],
            set_={
                "points": team_scores.c.points + ins_team.excluded.points,
                "active": team_scores.c.active + ins_team.excluded.active,
            },
        ),
    }


def grade_steps(record: GradeRecord) -> Steps:
    """The grade's write transaction, statement by statement; its outcome, or None if the ask was graded."""
    claimed = yield (
        "claim_ask",
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
    if record.points > 0:
        # Whether this grade is the first of the card to earn points on the member's local day; if not,
        # its ask keeps 0 points. Concurrent grades of one card: the unique row lets exactly one through.
        ids = {"b_member_id": record.member_id, "b_card_id": record.card_id, "b_ask_id": record.ask_id}
        taken = yield "take_card_points", {**ids, "b_local_day": record.local_day}
        if not taken.rows:
            yield "no_points", {"b_ask_id": record.ask_id}
            record = dataclasses.replace(record, points=0)
    state = record.new_state
    yield (
        "card_state",
        {
            "b_member_id": record.member_id,
            "b_card_id": record.card_id,
            **{f"s_{c}": getattr(state, c) for c in _STATE_COLUMNS},
        },
    )
    totals = (yield "add_scores", _score_rows(record)).rows
    if record.points > 0:
        moves = board_count_moves(record, totals)
        yield "move_on_boards", [{f"bc_{k}": v for k, v in move.items()} for move in moves]
    streak, team_id = yield from _extend_streak(record)
    if team_id is not None and record.points > 0:
        yield from _add_team_points(team_id, record)
    return GradeOutcome(streak=streak.current, points=record.points)


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


def _bound(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {f"r{i}_{k}": v for i, row in enumerate(rows) for k, v in row.items()}


def _score_rows(record: GradeRecord) -> dict[str, Any]:
    """Add the grade to the member's week, month and all-time scores."""
    return _bound(
        [
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
    )


def _add_team_points(team_id: int, record: GradeRecord) -> Generator[Step, Done, None]:
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
    totals = (yield "add_team_member_scores", _bound(mine)).rows
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
    yield "add_team_scores", _bound(rows)


def _streak_values(streak: Streak) -> dict[str, Any]:
    return {"b_current": streak.current, "b_best": streak.best, "b_last": streak.last_day}


def _extend_streak(record: GradeRecord) -> Generator[Step, Done, tuple[Streak, int | None]]:
    """Write the member's streak extended by the grade's local day (bot/core/streaks.py decides); the
    streak after it and the member's team. Both ways lock the member row until the transaction ends."""
    seen = record.streak_seen
    after = extend_streak(seen, record.local_day)
    written = yield (
        "write_seen_streak",
        {
            "b_member_id": record.member_id,
            "b_seen_current": seen.current,
            "b_seen_best": seen.best,
            "b_seen_last": seen.last_day,
            **_streak_values(after),
        },
    )
    if written.rows:
        yield from _write_freezes(record.member_id, seen, after)
        return after, written.rows[0].team_id
    # Rare: another grade of the member's was written since this one read the streak. Its row is now
    # locked (PostgreSQL; SQLite writers hold the database lock), so the decision holds.
    (row,) = (yield "read_streak", {"b_member_id": record.member_id}).rows
    now_seen = Streak(
        row.streak_current, row.streak_best, row.last_study_day, row.streak_freezes, row.streak_saved
    )
    after = extend_streak(now_seen, record.local_day)
    yield "write_streak", {"b_member_id": record.member_id, **_streak_values(after)}
    yield from _write_freezes(record.member_id, now_seen, after)
    return after, row.team_id


def _write_freezes(member_id: int, seen: Streak, after: Streak) -> Generator[Step, Done, None]:
    """Streak freezes earned or used by the grade (bot/core/model/streaks.py decides)."""
    if (after.freezes, after.saved) != (seen.freezes, seen.saved):
        yield "write_freezes", {"b_member_id": member_id, "b_freezes": after.freezes, "b_saved": after.saved}


# -- running the steps -----------------------------------------------------------------------------------


def run_on_sqlite(
    conn: sqlite3.Connection, statements: Mapping[str, CompiledStatement], steps: Steps
) -> GradeOutcome | None:
    """The whole transaction on a raw sqlite3 connection (in the grade lane's thread)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        step = next(steps)
        while True:
            name, values = step
            if isinstance(values, list):
                cursor = conn.executemany(statements[name].sql, [statements[name].params(v) for v in values])
                step = steps.send(Done(cursor.rowcount, []))
                continue
            rowcount, rows = statements[name].run(conn, values)
            step = steps.send(Done(rowcount, rows))
    except StopIteration as stop:
        outcome: GradeOutcome | None = stop.value
        if outcome is not None:
            conn.execute("COMMIT")
        return outcome
    finally:
        _end_transaction(conn)


def _end_transaction(conn: sqlite3.Connection) -> None:
    """Whatever did not commit (a refused grade, an error, a failing COMMIT) is rolled back, so the lane's
    connection never stays inside a transaction; if SQLite rolled back already, that error is not the one
    to report."""
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


class _Progress:
    """Whether any statement of a grade has run: until then a dropped connection may be retried."""

    ran = False


async def run_on_asyncpg(
    driver: Any, statements: Mapping[str, CompiledStatement], steps: Steps, progress: _Progress
) -> GradeOutcome | None:
    """The whole transaction on a pooled connection's asyncpg connection: each statement's precompiled
    text (asyncpg prepares it once per connection), one round trip each, BEGIN and COMMIT."""
    async with driver.transaction():
        try:
            step = next(steps)
            while True:
                name, values = step
                statement = statements[name]
                if isinstance(values, list):
                    await driver.executemany(statement.sql, [statement.params(v) for v in values])
                    progress.ran = True
                    step = steps.send(Done(len(values), []))
                    continue
                args = statement.params(values)
                if statement.returns_rows:
                    raw = await driver.fetch(statement.sql, *args)
                    done = Done(len(raw), [statement.row(r) for r in raw])
                else:
                    status = await driver.execute(statement.sql, *args)  # e.g. "UPDATE 1"
                    done = Done(int(status.rsplit(" ", 1)[-1]), [])
                progress.ran = True
                step = steps.send(done)
        except StopIteration as stop:
            outcome: GradeOutcome | None = stop.value
            return outcome


class SqlGrading:
    def __init__(self, db: Db) -> None:
        self.db = db
        dialect = db.engine.dialect
        self._compiled = {
            n: CompiledStatement(n, s, dialect)
            for n, s in grade_statements(db).items()
            if isinstance(s, sa.ClauseElement)
        }

    async def record_grade(self, record: GradeRecord) -> GradeOutcome | None:
        if self.db.lane is not None:
            compiled = self._compiled
            return await self.db.lane.run(lambda conn: run_on_sqlite(conn, compiled, grade_steps(record)))
        progress = _Progress()
        try:
            return await self._record_on_connection(record, progress)
        except ConnectionDropped:
            # A pooled connection the server dropped (restart, idle timeout) is found by the grade's BEGIN
            # or first statement: nothing of the grade ran, so it runs once more on a new connection.
            # After any statement ran, a COMMIT may have happened: never again.
            if progress.ran:
                raise
        return await self._record_on_connection(record, _Progress())

    async def _record_on_connection(self, record: GradeRecord, progress: _Progress) -> GradeOutcome | None:
        async with self.db.driver() as driver:
            return await run_on_asyncpg(driver, self._compiled, grade_steps(record), progress)

"""The rank from `board_counts` (migration 0009) is exactly the rank `1 + count(*)` of the members with more
points gave, on boards with ties, across week, month and year boundaries, on every database; the upgrade
fills the histogram from the scores already there."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.bootstrap import build_service, migrate
from bot.core.model.models import ALL_TIME_START, Period
from bot.core.service import StudyService
from bot.store.tables import board_counts, members, scores
from tests.conftest import CONTENT, FakeClock, member
from tests.integration.test_team_scores import downgrade, study_one

# Moments on both sides of a week (Mon 30 Nov, Mon 28 Dec, Mon 4 Jan), a month and a year boundary.
MOMENTS = [
    datetime(2026, 11, 29, 23, 0, tzinfo=UTC),  # Sunday, last of November's week
    datetime(2026, 11, 30, 9, 0, tzinfo=UTC),  # Monday, still November
    datetime(2026, 12, 1, 9, 0, tzinfo=UTC),  # Tuesday, December
    datetime(2026, 12, 31, 22, 0, tzinfo=UTC),  # Thursday, last day of the year
    datetime(2027, 1, 1, 1, 0, tzinfo=UTC),  # Friday, a new year, the same week
    datetime(2027, 1, 4, 9, 0, tzinfo=UTC),  # Monday, a new week
]
HISTOGRAM = "SELECT workspace_id, period, period_start, points, members FROM board_counts"
RECOUNTED = """
    SELECT workspace_id, period, period_start, points, count(*) FROM scores WHERE points > 0
    GROUP BY workspace_id, period, period_start, points
"""


def _key(row: Any) -> tuple[str, str, str, int, int]:
    return (row[0], row[1], str(row[2]), int(row[3]), int(row[4]))


async def assert_ranks_as_counted(service: StudyService, workspace_id: str) -> int:
    """For every member on every board of the workspace: the store's rank (board() and member_rank())
    equals 1 + count(*) of the members with more points; the histogram equals the scores regrouped.
    Returns how many ranks were compared."""
    store: Any = service.store
    async with store.engine.connect() as conn:
        kept = {_key(r) for r in await conn.execute(sa.text(HISTOGRAM)) if r[4] != 0}
        assert kept == {_key(r) for r in await conn.execute(sa.text(RECOUNTED))}
        on_boards = (
            await conn.execute(
                sa.select(scores.c.member_id, scores.c.period, scores.c.period_start, scores.c.points).where(
                    scores.c.workspace_id == workspace_id, scores.c.points > 0
                )
            )
        ).all()
    compared = 0
    for row in on_boards:
        period = Period(row.period)
        async with store.engine.connect() as conn:
            ahead = (
                await conn.execute(
                    sa.select(sa.func.count()).where(
                        scores.c.workspace_id == workspace_id,
                        scores.c.period == row.period,
                        scores.c.period_start == row.period_start,
                        scores.c.points > row.points,
                    )
                )
            ).scalar_one()
        board = await store.board(workspace_id, row.member_id, period, row.period_start, 3)
        assert board.mine is not None and board.mine.rank == ahead + 1, (row, ahead)
        assert board.mine.points == row.points
        in_top = [r for r in board.top if r.member_id == row.member_id]
        assert all(r.rank == ahead + 1 for r in in_top)
        rank = await store.member_rank(workspace_id, row.member_id, period, row.period_start)
        assert rank is not None and rank.rank == ahead + 1
        compared += 1
    return compared


GRADES = st.lists(
    st.tuples(st.integers(0, len(MOMENTS) - 1), st.integers(0, 5), st.booleans()), min_size=1, max_size=14
)


def test_the_histogram_rank_is_the_counted_rank_on_any_board(db_url: str) -> None:
    loop = asyncio.new_event_loop()
    clock = FakeClock(MOMENTS[0])
    service = loop.run_until_complete(build_service(db_url, [CONTENT], clock=clock))
    examples = iter(range(1_000_000))

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(grades=GRADES)
    def boards(grades: list[tuple[int, int, bool]]) -> None:
        workspace = f"ws-{next(examples)}"  # each example its own workspace: its own boards
        for moment, who, typed in sorted(grades):
            clock.set(MOMENTS[moment])
            loop.run_until_complete(study_one(service, member(f"m{who}", workspace), typed))
        workspace_id = member("m0", workspace).workspace_id
        loop.run_until_complete(assert_ranks_as_counted(service, workspace_id))

    try:
        boards()
    finally:
        loop.run_until_complete(service.store.close())  # type: ignore[attr-defined]
        loop.close()


async def test_ties_share_a_rank_and_the_next_rank_skips(db_url: str) -> None:
    clock = FakeClock(datetime(2026, 12, 31, 12, 0, tzinfo=UTC))
    service = await build_service(db_url, [CONTENT], clock=clock)
    try:
        # Points: ann 30, bob 30, cy 20, dee 20, eve 10 -> ranks 1, 1, 3, 3, 5.
        for name, grades in {"ann": 3, "bob": 3, "cy": 2, "dee": 2, "eve": 1}.items():
            for _ in range(grades):
                await study_one(service, member(name, "ties"))
        workspace_id = member("ann", "ties").workspace_id
        assert await assert_ranks_as_counted(service, workspace_id) == 15  # 5 members x 3 boards
        store: Any = service.store
        async with store.engine.connect() as conn:
            eve = (
                await conn.execute(sa.select(members.c.id).where(members.c.user_ref == "eve"))
            ).scalar_one()
        board = await store.board(workspace_id, eve, Period.MONTH, date(2026, 12, 1), 2)
        assert [(r.display_name, r.rank) for r in board.top] == [("ann", 1), ("bob", 1)]
        assert board.mine is not None and (board.mine.rank, board.mine.points) == (5, 10)
        reply = await service.leaderboard(member("eve", "ties"), "all")
        assert "5" in reply.plain_text() and "eve" in reply.plain_text()
    finally:
        await service.store.close()  # type: ignore[attr-defined]


async def test_the_upgrade_fills_the_histogram_from_the_scores_there(db_url: str) -> None:
    clock = FakeClock(datetime(2027, 1, 1, 12, 0, tzinfo=UTC))
    service = await build_service(db_url, [CONTENT], clock=clock)
    try:
        for name, grades in {"ann": 2, "bob": 2, "cy": 1}.items():
            for _ in range(grades):
                await study_one(service, member(name, "old"))
    finally:
        await service.store.close()  # type: ignore[attr-defined]
    await downgrade(db_url, "0006")  # as a database from before 0009: scores, no histogram
    await migrate(db_url)
    service = await build_service(db_url, [CONTENT], clock=clock)
    try:
        workspace_id = member("ann", "old").workspace_id
        assert await assert_ranks_as_counted(service, workspace_id) == 9
        store: Any = service.store
        async with store.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(board_counts.c.points, board_counts.c.members).where(
                        board_counts.c.period == Period.ALL.value,
                        board_counts.c.period_start == ALL_TIME_START,
                    )
                )
            ).all()
        assert sorted((int(p), int(n)) for p, n in rows) == [(10, 1), (20, 2)]
    finally:
        await service.store.close()  # type: ignore[attr-defined]

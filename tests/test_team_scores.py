"""Team totals kept as running totals (team_scores) agree with the members' scores they sum."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.decks import load_decks
from bot.core.messages import Message
from bot.core.models import Caller, Period
from bot.core.ports import ALL_TIME_START
from bot.core.service import StudyService
from bot.store.engine import create_engine
from bot.store.migrate import upgrade
from bot.store.sql_store import SqlStore
from tests.conftest import CONTENT, FakeClock, member

# The totals as the old team standings computed them: every team member's scores row, points > 0.
RECOMPUTED = """
    SELECT m.team_id, s.period, s.period_start, sum(s.points) AS points, count(*) AS active
    FROM scores s JOIN members m ON m.id = s.member_id
    WHERE m.team_id IS NOT NULL AND s.points > 0
    GROUP BY m.team_id, s.period, s.period_start
"""
KEPT = "SELECT team_id, period, period_start, points, active FROM team_scores"


async def _rows(engine: AsyncEngine, sql: str) -> set[tuple[Any, ...]]:
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.text(sql))).all()
    # A team whose members all left keeps rows at zero: the same as no row.
    return {(r[0], r[1], str(r[2]), int(r[3]), int(r[4])) for r in rows if (r[3], r[4]) != (0, 0)}


async def assert_totals_match(service: StudyService) -> None:
    engine = service.store.engine  # type: ignore[attr-defined]
    kept = await _rows(engine, KEPT)
    assert kept == await _rows(engine, RECOMPUTED)


async def study_one(service: StudyService, who: Caller, typed: bool = False) -> None:
    msg = await service.quiz(who)
    ask = int(msg.actions[0].id.split(":")[1])
    if typed:
        await service.submit(who, f"answer:{ask}", "an answer of my own")
    reply = await service.act(who, f"grade:{ask}:good")
    assert isinstance(reply, Message) and not reply.is_error, reply.title


def teams_section(board: Message) -> list[str]:
    return next(s for s in board.sections if s.heading == "Teams").text.splitlines()


async def test_switching_team_mid_week_moves_points_and_active(
    service: StudyService, clock: FakeClock
) -> None:
    ann, ben, cat = member("ann"), member("ben"), member("cat")
    await service.team_join(ann, "Owls")
    await service.team_join(cat, "Owls")
    await service.team_join(ben, "Foxes")
    clock.advance(days=-2)  # Monday of the same week
    await study_one(service, ann)
    await study_one(service, ann)
    await study_one(service, cat)
    clock.advance(days=2)
    await study_one(service, ben)
    assert teams_section(await service.leaderboard(ann, "week")) == [
        "1. Owls — 15 pts per active member (30 pts, 2 active)",
        "2. Foxes — 10 pts per active member (10 pts, 1 active)",
    ]
    # Wednesday: ann moves to the Foxes, with this week's 20 points and her all-time ones.
    await service.team_join(ann, "foxes")
    expected = [
        "1. Foxes — 15 pts per active member (30 pts, 2 active)",
        "2. Owls — 10 pts per active member (10 pts, 1 active)",
    ]
    assert teams_section(await service.leaderboard(ann, "week")) == expected
    assert teams_section(await service.leaderboard(ann, "all")) == expected
    # Joining the team she is in changes nothing.
    await service.team_join(ann, "Foxes")
    assert teams_section(await service.leaderboard(ann, "week")) == expected
    await assert_totals_match(service)
    # A member with no points moves nothing; one who leaves takes theirs out.
    await service.team_join(member("dan"), "Owls")
    await service.team_leave(ben)
    assert teams_section(await service.leaderboard(ann, "week")) == [
        "1. Foxes — 20 pts per active member (20 pts, 1 active)",
        "2. Owls — 10 pts per active member (10 pts, 1 active)",
    ]
    await assert_totals_match(service)


async def test_totals_equal_a_recomputation_after_grades_joins_and_leaves(
    service: StudyService, clock: FakeClock
) -> None:
    rng = random.Random(11)
    people = [member(f"m{i}") for i in range(6)]
    names = ["Owls", "Foxes", "Bees"]
    for _step in range(70):
        who = rng.choice(people)
        roll = rng.random()
        if roll < 0.2:
            await service.team_join(who, rng.choice(names))
        elif roll < 0.28:
            await service.team_leave(who)
        else:
            await study_one(service, who, typed=rng.random() < 0.3)
        if rng.random() < 0.25:
            clock.advance(days=rng.choice([1, 3, 9]))  # crosses weeks and a month
    await assert_totals_match(service)
    # The standings read from the totals are the old query's, for every period.
    store = service.store
    engine = store.engine  # type: ignore[attr-defined]
    for period, start in (
        (Period.WEEK, clock.now().date() - timedelta(days=clock.now().weekday())),
        (Period.MONTH, clock.now().date().replace(day=1)),
        (Period.ALL, ALL_TIME_START),
    ):
        standings = await store.team_standings("test:guild-1", period, start)
        async with engine.connect() as conn:
            expected = (
                await conn.execute(
                    sa.text(
                        """
                        SELECT t.id, coalesce(sum(s.points), 0), count(s.member_id)
                        FROM teams t JOIN members m ON m.team_id = t.id
                        LEFT JOIN scores s ON s.member_id = m.id AND s.period = :period
                            AND s.period_start = :start AND s.points > 0
                        WHERE t.workspace_id = 'test:guild-1'
                        GROUP BY t.id
                        """
                    ),
                    {"period": period.value, "start": start},
                )
            ).all()
        assert {(t.team_id, t.points, t.active_members) for t in standings} == {
            (r[0], int(r[1]), int(r[2])) for r in expected
        }


async def test_migration_fills_team_scores_from_existing_scores(db_url: str, clock: FakeClock) -> None:
    # Data written at revision 0003 by the store, teams set afterwards by hand (joining would write
    # team_scores, which does not exist yet at 0003).
    await upgrade(db_url, "0003")
    store = SqlStore(create_engine(db_url))
    try:
        service = StudyService(store, clock)
        decks, problems = load_decks([CONTENT])
        await service.load_decks(decks, problems)
        people = [member(f"p{i}") for i in range(5)] + [member("q", workspace="other")]
        for day in range(12):
            for i, who in enumerate(people):
                if (day + i) % 3:
                    await study_one(service, who, typed=(day * i) % 4 == 0)
            clock.advance(days=3)
        async with store._writer.begin() as conn:
            for workspace, name in (("test:guild-1", "Owls"), ("test:guild-1", "Foxes"), ("test:other", "X")):
                await conn.execute(
                    sa.text(
                        "INSERT INTO teams (workspace_id, name, name_key, created_at)"
                        " VALUES (:w, :n, :k, CURRENT_TIMESTAMP)"
                    ),
                    {"w": workspace, "n": name, "k": name.casefold()},
                )
            for user, team in (("p0", "owls"), ("p1", "owls"), ("p2", "foxes"), ("q", "x")):
                await conn.execute(
                    sa.text(
                        "UPDATE members SET team_id = (SELECT id FROM teams WHERE name_key = :t)"
                        " WHERE user_ref = :u"
                    ),
                    {"t": team, "u": user},
                )
    finally:
        await store.close()

    await upgrade(db_url)
    engine = create_engine(db_url)
    try:
        kept = await _rows(engine, KEPT)
        assert kept == await _rows(engine, RECOMPUTED)
        assert {r[0] for r in kept} == {1, 2, 3} and any(r[1] == "month" for r in kept)
        async with engine.connect() as conn:
            workspaces = set(
                (await conn.execute(sa.text("SELECT DISTINCT team_id, workspace_id FROM team_scores"))).all()
            )
        assert workspaces == {(1, "test:guild-1"), (2, "test:guild-1"), (3, "test:other")}
    finally:
        await engine.dispose()

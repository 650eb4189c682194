"""Team totals kept as running totals (team_scores) agree with the members' scores they sum."""

from __future__ import annotations

import random
import re
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import build_service, migrate, open_engine
from bot.core.messages import Message
from bot.core.model.models import ALL_TIME_START, Caller, Period
from bot.core.service import StudyService
from bot.store.migrate import downgrade as migrate_down
from tests.conftest import CONTENT, FakeClock, member

# The totals recomputed from each member's points earned in each team.
RECOMPUTED = """
    SELECT team_id, period, period_start, sum(points) AS points, count(*) AS active
    FROM team_member_scores WHERE points > 0
    GROUP BY team_id, period, period_start
"""
# As the team standings were computed before migration 0006: the current members' scores.
BY_CURRENT_MEMBERS = """
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


async def study_one(service: StudyService, who: Caller, typed: bool = False) -> int:
    """Quiz, grade Good; the points the grade earned."""
    msg = await service.quiz(who)
    ask = int(msg.actions[0].id.split(":")[1])
    if typed:
        await service.submit(who, f"answer:{ask}", "an answer of my own")
    reply = await service.act(who, f"grade:{ask}:good")
    assert isinstance(reply, Message) and not reply.is_error, reply.title
    found = re.search(r"\+(\d+) points", reply.plain_text())
    assert found is not None
    return int(found[1])


async def downgrade(url: str, revision: str) -> None:
    engine = open_engine(url)
    try:
        await migrate_down(engine, revision)
    finally:
        await engine.dispose()


def teams_section(board: Message) -> list[str]:
    return next(s for s in board.sections if s.heading == "Teams").text.splitlines()


async def test_points_stay_with_the_team_they_were_earned_in(service: StudyService, clock: FakeClock) -> None:
    ann, ben, cat, dan = member("ann"), member("ben"), member("cat"), member("dan")
    await service.team_join(ann, "Owls")
    await service.team_join(cat, "Owls")
    await service.team_join(ben, "Foxes")
    clock.advance(days=-2)  # Monday of the same week
    await study_one(service, ann)
    await study_one(service, ann)
    await study_one(service, cat)
    clock.advance(days=2)
    await study_one(service, ben)
    before = [
        "1. Owls — 15 pts per active member (30 pts, 2 active)",
        "2. Foxes — 10 pts per active member (10 pts, 1 active)",
    ]
    assert teams_section(await service.leaderboard(ann, "week")) == before
    # Wednesday: ann moves to the Foxes. Her 20 points were earned for the Owls and stay there.
    await service.team_join(ann, "foxes")
    assert teams_section(await service.leaderboard(ann, "week")) == before
    assert teams_section(await service.leaderboard(ann, "all")) == before
    # What she earns now counts for the Foxes; she is active in both teams this week.
    await study_one(service, ann)
    assert teams_section(await service.leaderboard(ann, "week")) == [
        "1. Owls — 15 pts per active member (30 pts, 2 active)",
        "2. Foxes — 10 pts per active member (20 pts, 2 active)",
    ]
    # Back to the Owls: they get what she earns from now on, and she is still one active member there.
    await service.team_join(ann, "Owls")
    await study_one(service, ann, typed=True)
    # Leaving takes nothing away: the points and the member who earned them stay counted, so dropping
    # members with few points cannot raise a team's points per active member.
    await service.team_join(dan, "Foxes")  # a member with no points yet is not active
    await service.team_leave(ben)
    assert teams_section(await service.leaderboard(ann, "week")) == [
        "1. Owls — 22.5 pts per active member (45 pts, 2 active)",
        "2. Foxes — 10 pts per active member (20 pts, 2 active)",
    ]
    # Her own points are all hers, wherever she earned them.
    assert "45 this week" in (await service.stats(ann)).plain_text()
    await assert_totals_match(service)


async def test_team_totals_equal_what_members_earned_while_in_each_team(
    service: StudyService, clock: FakeClock
) -> None:
    rng = random.Random(11)
    people = [member(f"m{i}") for i in range(6)]
    names = ["Owls", "Foxes", "Bees"]
    team_of: dict[str, str | None] = {p.user_ref: None for p in people}
    earned: dict[tuple[str, str, date], dict[str, int]] = {}  # (team, period, start) -> member -> points
    for _step in range(70):
        who = rng.choice(people)
        roll = rng.random()
        if roll < 0.2:
            team_of[who.user_ref] = rng.choice(names)
            await service.team_join(who, team_of[who.user_ref] or "")
        elif roll < 0.28:
            team_of[who.user_ref] = None
            await service.team_leave(who)
        else:
            points = await study_one(service, who, typed=rng.random() < 0.3)
            team = team_of[who.user_ref]
            if team is not None:
                for period, start in periods(clock):
                    mine = earned.setdefault((team, period.value, start), {})
                    mine[who.user_ref] = mine.get(who.user_ref, 0) + points
        if rng.random() < 0.25:
            clock.advance(days=rng.choice([1, 3, 9]))  # crosses weeks and a month
    await assert_totals_match(service)
    store = service.store
    with_members = {t for t in team_of.values() if t is not None}
    for period, start in periods(clock):
        standings = await store.team_standings("test:guild-1", period, start)
        expected = {
            (team, sum(got.values()), sum(1 for v in got.values() if v > 0))
            for (team, p, s), got in earned.items()
            if p == period.value and s == start and team in with_members
        } | {(team, 0, 0) for team in with_members if (team, period.value, start) not in earned}
        assert {(t.name, t.points, t.active_members) for t in standings} == expected


def periods(clock: FakeClock) -> list[tuple[Period, date]]:
    today = clock.now().date()  # the workspace has no time zone: UTC
    return [
        (Period.WEEK, today - timedelta(days=today.weekday())),
        (Period.MONTH, today.replace(day=1)),
        (Period.ALL, ALL_TIME_START),
    ]


async def test_migration_fills_team_scores_from_existing_scores(db_url: str, clock: FakeClock) -> None:
    # Data written by today's store, then taken back to revision 0003 (each downgrade runs), teams set
    # there by hand (joining would write team_scores, which does not exist yet at 0003).
    service = await build_service(db_url, [CONTENT], clock=clock)
    try:
        people = [member(f"p{i}") for i in range(5)] + [member("q", workspace="other")]
        for day in range(12):
            for i, who in enumerate(people):
                if (day + i) % 3:
                    await study_one(service, who, typed=(day * i) % 4 == 0)
            clock.advance(days=3)
    finally:
        await service.store.close()  # type: ignore[attr-defined]
    await downgrade(db_url, "0003")
    engine = open_engine(db_url)
    try:
        async with engine.begin() as conn:
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
        await engine.dispose()

    await migrate(db_url)
    engine = open_engine(db_url)
    try:
        kept = await _rows(engine, KEPT)
        # Points earned before 0006 count for the member's team at the upgrade, as they did until then.
        assert kept == await _rows(engine, BY_CURRENT_MEMBERS) == await _rows(engine, RECOMPUTED)
        assert {r[0] for r in kept} == {1, 2, 3} and any(r[1] == "month" for r in kept)
        async with engine.connect() as conn:
            workspaces = set(
                (await conn.execute(sa.text("SELECT DISTINCT team_id, workspace_id FROM team_scores"))).all()
            )
        assert workspaces == {(1, "test:guild-1"), (2, "test:guild-1"), (3, "test:other")}
    finally:
        await engine.dispose()

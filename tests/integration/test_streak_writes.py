"""The store writes the streak the core decides, even for a grade that read the member's streak before
another grade of theirs was written (two devices, a time zone change): never a day lost or counted twice."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import sqlalchemy as sa

from bot.core.model import grading as scheduling
from bot.core.model.models import Grade, GradeRecord, MemberRow, Streak
from bot.core.service import StudyService
from bot.store.tables import cards, members
from tests.conftest import FakeClock


async def _setup(
    service: StudyService, clock: FakeClock, asks: int, streak: Streak
) -> tuple[MemberRow, list[tuple[int, int]]]:
    """Alice with that streak, and asks of hers for the first `asks` cards: (ask id, card id)."""
    store = service.store
    await store.ensure_workspace("test:guild-1", "test")
    alice = await store.ensure_member("test:guild-1", "alice", "alice")
    async with service.store.engine.begin() as conn:  # type: ignore[attr-defined]
        await conn.execute(
            sa.update(members)
            .where(members.c.id == alice.id)
            .values(streak_current=streak.current, streak_best=streak.best, last_study_day=streak.last_day)
        )
        card_ids = list(
            (await conn.execute(sa.select(cards.c.id).order_by(cards.c.id).limit(asks))).scalars()
        )
    made = [(await store.create_ask(alice.id, card, "quiz", clock.now()), card) for card in card_ids]
    return alice, made


def _record(clock: FakeClock, member_id: int, ask: tuple[int, int], day: date, seen: Streak) -> GradeRecord:
    ask_id, card_id = ask
    return GradeRecord(
        ask_id=ask_id,
        member_id=member_id,
        workspace_id="test:guild-1",
        card_id=card_id,
        grade=Grade.GOOD,
        points=10,
        graded_at=clock.now(),
        new_state=scheduling.review(None, card_id, Grade.GOOD, clock.now()),
        local_day=day,
        week_start=day - timedelta(days=day.weekday()),
        month_start=day.replace(day=1),
        streak_seen=seen,
    )


async def _stored(service: StudyService, member_id: int) -> Streak:
    async with service.store.engine.connect() as conn:  # type: ignore[attr-defined]
        row = (await conn.execute(sa.select(members).where(members.c.id == member_id))).one()
    return Streak(row.streak_current, row.streak_best, row.last_study_day)


async def test_a_grade_that_read_an_older_streak_extends_the_one_written_since(
    service: StudyService, clock: FakeClock
) -> None:
    today = clock.now().date()
    seen = Streak(3, 3, today - timedelta(days=1))  # both grades read this: studied yesterday, 3 days
    alice, made = await _setup(service, clock, 2, seen)
    first = await service.store.record_grade(_record(clock, alice.id, made[0], today, seen))
    # The second grade's local day is tomorrow (its caller's time zone is further east).
    second = await service.store.record_grade(
        _record(clock, alice.id, made[1], today + timedelta(days=1), seen)
    )
    assert first is not None and first.streak == 4
    assert second is not None and second.streak == 5  # today, then tomorrow: not a restart at 1
    assert await _stored(service, alice.id) == Streak(5, 5, today + timedelta(days=1))


async def test_concurrent_grades_of_one_member_count_their_day_once(
    service: StudyService, clock: FakeClock
) -> None:
    today = clock.now().date()
    seen = Streak(2, 6, today - timedelta(days=1))
    alice, made = await _setup(service, clock, 4, seen)
    outcomes = await asyncio.gather(
        *(service.store.record_grade(_record(clock, alice.id, ask, today, seen)) for ask in made)
    )
    assert [o.streak for o in outcomes if o is not None] == [3, 3, 3, 3]
    assert await _stored(service, alice.id) == Streak(3, 6, today)


async def test_freezes_are_earned_and_spent_by_the_written_streak_even_from_a_stale_read(
    service: StudyService, clock: FakeClock
) -> None:
    today = clock.now().date()
    seen = Streak(6, 6, today - timedelta(days=1))
    alice, made = await _setup(service, clock, 2, seen)
    earned = await service.store.record_grade(_record(clock, alice.id, made[0], today, seen))
    assert earned is not None and earned.streak == 7
    # Two days later, a day missed; the grade read the streak from before the first grade (stale): the
    # store reads the row again, freezes included, and spends the freeze on the missed day.
    saved = await service.store.record_grade(
        _record(clock, alice.id, made[1], today + timedelta(days=2), seen)
    )
    assert saved is not None and saved.streak == 8
    async with service.store.engine.connect() as conn:  # type: ignore[attr-defined]
        row = (await conn.execute(sa.select(members).where(members.c.id == alice.id))).one()
    assert (row.streak_current, row.streak_freezes, row.streak_saved) == (8, 0, 1)


async def test_a_chosen_zone_is_kept_when_a_profile_zone_arrives(
    service: StudyService, clock: FakeClock
) -> None:
    store = service.store
    await store.ensure_workspace("test:guild-1", "test")
    kenji = await store.ensure_member("test:guild-1", "kenji", "kenji", "America/New_York")
    await store.choose_timezone(kenji.id, "Asia/Tokyo", "America/New_York", clock.now())
    again = await store.ensure_member("test:guild-1", "kenji", "Kenji", "Europe/Berlin")
    assert (again.timezone, again.timezone_chosen, again.display_name) == ("Asia/Tokyo", True, "Kenji")
    assert again.timezone_before == "America/New_York" and again.timezone_from == clock.now()

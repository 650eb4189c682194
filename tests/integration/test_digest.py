"""The weekly team digest with a fake clock, on SQLite and PostgreSQL: once per channel and week with two
runners, the hardest cards named right from seeded reviews, a catch-up after downtime, and admins' switch."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.bootstrap import Core, open_core
from bot.config import Settings
from bot.core.commands import run_text_command
from bot.core.messages import Message, Upload
from bot.core.service import StudyService
from bot.schedule.outreach import OutreachRunner
from tests.daily_helpers import RecordingPoster
from tests.fakes.memory_store import MemoryStore
from tests.support.callers import CONTENT, member
from tests.support.clock import FakeClock

BERLIN = ZoneInfo("Europe/Berlin")
ADMIN = member("ada", admin=True)
MONDAY_9 = datetime(2026, 3, 9, 9, 0, tzinfo=BERLIN)


@pytest.fixture
async def second(db_url: str, clock: FakeClock, core: Core) -> AsyncIterator[StudyService]:
    """Another instance on the same database."""
    other = await open_core(Settings(database_url=db_url, content_dirs=(CONTENT,)), clock=clock)
    yield other.service
    await other.close()


async def cmd(service: StudyService, line: str) -> Message:
    reply = await run_text_command(service, ADMIN, line)
    assert isinstance(reply, Message) and not reply.is_error, reply.title
    return reply


async def seed(service: StudyService, clock: FakeClock) -> list[int]:
    """Three members grade the first four cards; Again/Hard per card: 3, 1, 0, 2. Returns the card ids."""
    clock.set(datetime(2026, 3, 4, 10, 0, tzinfo=BERLIN))
    await cmd(service, "/daily set general 09:00 Europe/Berlin")
    clock.set(datetime(2026, 3, 5, 10, 0, tzinfo=BERLIN))
    grades = {"ann": ["again", "hard", "good", "again"], "ben": ["again", "good", "good", "hard"]}
    grades["cat"] = ["hard", "good", "good", "good"]
    cards: list[int] = []
    for name, wanted in grades.items():
        who = member(name)
        for index, grade in enumerate(wanted):
            card = await service.quiz(who)
            ask_id = int(card.actions[0].id.split(":")[1])
            ask = await service.store.get_ask(ask_id)
            assert ask is not None
            if name == "ann":
                cards.append(ask.card.id)
            assert ask.card.id == cards[index]
            graded = await service.act(who, f"grade:{ask_id}:{grade}")
            assert isinstance(graded, Message) and not graded.is_error
    return cards


def runner(service: StudyService, poster: RecordingPoster, name: str) -> OutreachRunner:
    return OutreachRunner(service, {"test": poster}, instance=name)


async def test_the_digest_goes_out_once_on_monday_naming_the_hardest_cards(
    service: StudyService, second: StudyService, clock: FakeClock
) -> None:
    cards = await seed(service, clock)
    clock.set(datetime(2026, 3, 8, 20, 0, tzinfo=BERLIN))  # ann studies again on Sunday: a streak stands
    again = await service.quiz(member("ann"))
    await service.act(member("ann"), f"grade:{again.actions[0].id.split(':')[1]}:good")
    poster = RecordingPoster()
    one, two = runner(service, poster, "one"), runner(second, poster, "two")
    status = await cmd(service, "/daily status")
    assert "Next weekly digest: Mon 9 Mar" in status.plain_text() or "9 Mar" in status.plain_text()
    clock.set(MONDAY_9 - timedelta(minutes=1))
    await asyncio.gather(one.sweep(), two.sweep())
    assert poster.posts == []
    clock.set(MONDAY_9)
    await asyncio.gather(one.sweep(), two.sweep())
    clock.advance(minutes=5)
    await asyncio.gather(one.sweep(), two.sweep())
    (post,) = poster.posts
    digest = post.message
    text = digest.plain_text()
    assert "3 members studied." in text
    assert [a.id for a in digest.actions] == [f"study:{cards[0]}", f"study:{cards[3]}", f"study:{cards[1]}"]
    assert "3 of 4 reviews Again or Hard" in text and "🔥 ann — 1 day" in text
    # Study it asks the clicker that card.
    asked = await service.act(member("dan"), digest.actions[0].id)
    assert isinstance(asked, Message) and not asked.is_error
    ask = await service.store.get_ask(int(asked.actions[0].id.split(":")[1]))
    assert ask is not None and ask.card.id == cards[0]
    # The next week: one more, not a second one this week.
    clock.set(MONDAY_9 + timedelta(days=1))
    await one.sweep()
    assert len(poster.posts) == 1


async def test_a_digest_missed_while_down_goes_out_late_once_and_admins_can_turn_it_off(
    service: StudyService, clock: FakeClock
) -> None:
    await seed(service, clock)
    poster = RecordingPoster()
    run = runner(service, poster, "one")
    clock.set(MONDAY_9 + timedelta(hours=2))  # the instance was down at 09:00
    assert (await run.sweep())["sent"] == 1
    assert (await run.sweep())["sent"] == 0
    # Too long after (past the grace window): the week is skipped, not posted on Tuesday.
    clock.set(MONDAY_9 + timedelta(days=7, hours=7))
    assert (await run.sweep())["sent"] == 0
    await cmd(service, "/daily digest off general")
    status = await cmd(service, "/daily status")
    assert "Weekly digest: off" in status.plain_text()
    clock.set(MONDAY_9 + timedelta(days=14))
    assert sum((await run.sweep()).values()) == 0
    refused = await run_text_command(service, member("ann"), "/daily digest on general")
    assert isinstance(refused, Message) and refused.is_error


async def removed_deck_not_in_the_digest(service: StudyService, clock: FakeClock) -> None:
    """A removed deck's cards are not among the hardest: their Study it could only say it is gone."""
    clock.set(datetime(2026, 3, 4, 10, 0, tzinfo=BERLIN))
    await cmd(service, "/daily set general 09:00 Europe/Berlin")
    imported = await service.deck_import(ADMIN, Upload("team.csv", b"question,answer\nWho deploys?,Us\n"))
    assert not imported.is_error, imported.title
    ann = member("ann")
    for deck in ("team", None):
        card = await service.quiz(ann, deck)
        await service.act(ann, f"grade:{card.actions[0].id.split(':')[1]}:again")
    confirm = await service.deck_remove(ADMIN, "team")
    assert not (await service.act(ADMIN, confirm.actions[0].id)).is_error  # type: ignore[union-attr]
    poster = RecordingPoster()
    clock.set(MONDAY_9)
    await runner(service, poster, "one").sweep()
    (post,) = poster.posts
    assert "Who deploys?" not in post.message.plain_text()
    (study_it,) = post.message.actions
    asked = await service.act(member("ben"), study_it.id)
    assert isinstance(asked, Message) and not asked.is_error, asked.title


async def test_a_removed_decks_cards_are_not_among_the_hardest(
    service: StudyService, clock: FakeClock
) -> None:
    await removed_deck_not_in_the_digest(service, clock)


async def test_a_removed_decks_cards_are_not_among_the_hardest_in_memory(clock: FakeClock) -> None:
    service = StudyService(MemoryStore(), clock, content=[CONTENT])
    await service.library.reload()
    await removed_deck_not_in_the_digest(service, clock)

"""One card earns points at most once per member and local day, however many times it is graded."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.bootstrap import build_service
from bot.core.commands import run_text_command
from bot.core.messages import Message
from bot.core.service import StudyService
from tests.conftest import FakeClock, member
from tests.daily_helpers import RecordingPoster, make_runner

ADMIN = member("ada", admin=True)
ONE_CARD = """# One card
---

### **1. What is overfitting?**

**Theory:**
Fitting the **noise** of the training data instead of the signal.

---
"""


@pytest.fixture
async def one_card(db_url: str, clock: FakeClock, tmp_path: Path) -> AsyncIterator[StudyService]:
    """A service whose only deck has one card: every channel's question of the day is that card."""
    content = tmp_path / "content"
    content.mkdir()
    (content / "one.md").write_text(ONE_CARD, encoding="utf-8")
    svc = await build_service(db_url, [content], clock=clock)
    yield svc
    await svc.store.close()  # type: ignore[attr-defined]


async def daily_posts(service: StudyService, channels: list[str]) -> list[str]:
    """Posts today's question in each channel; the ids of their Reveal buttons."""
    poster = RecordingPoster()
    runner = make_runner(service, poster)
    await runner.start()
    try:
        for name in channels:
            await run_text_command(service, ADMIN, f"/daily set {name} 09:00 UTC")
            await run_text_command(service, ADMIN, f"/daily now {name}")
    finally:
        await runner.stop()
    # (the runner's start-up sweep may post other channels that are due; only these are wanted)
    by_channel = {p.channel_ref: p.message.actions[0].id for p in poster.posts}
    return [by_channel[name] for name in channels]


async def reveal_and_grade(service: StudyService, who: object, reveal_id: str, grade: str = "good") -> str:
    answer = await service.act(who, reveal_id)  # type: ignore[arg-type]
    assert isinstance(answer, Message) and not answer.is_error, answer.title
    button = next(a for a in answer.actions if a.id.endswith(f":{grade}"))
    graded = await service.act(who, button.id)  # type: ignore[arg-type]
    assert isinstance(graded, Message) and not graded.is_error, graded.title
    return graded.plain_text()


def points_in(reply: str) -> int:
    found = re.search(r"\+(\d+) points", reply)
    assert found is not None, reply
    return int(found[1])


async def week_points(service: StudyService, who: object) -> str:
    return (await service.stats(who)).plain_text()  # type: ignore[arg-type]


async def test_the_same_card_from_daily_posts_in_several_channels_earns_once_a_day(
    one_card: StudyService, clock: FakeClock
) -> None:
    service = one_card
    reveals = await daily_posts(service, ["general", "random", "study"])
    alice = member("alice")
    await service.team_join(alice, "Owls")
    replies = [await reveal_and_grade(service, alice, reveal) for reveal in reveals]
    assert [points_in(r) for r in replies] == [10, 0, 0]
    assert "already earned you points today" in replies[1]
    assert "10 this week, 10 all time" in await week_points(service, alice)
    board = (await service.leaderboard(alice, "week")).plain_text()
    assert "Owls — 10 pts per active member (10 pts, 1 active)" in board
    # Every grade still counts as a review for the scheduler and the stats.
    assert "over 3 reviews" in await week_points(service, alice)
    # Another member answering the same post earns their own points.
    assert points_in(await reveal_and_grade(service, member("bob"), reveals[0])) == 10
    # The next local day, the card earns again.
    clock.advance(days=1)
    (tomorrow,) = await daily_posts(service, ["general"])
    assert points_in(await reveal_and_grade(service, alice, tomorrow)) == 10
    assert "20 this week, 20 all time" in await week_points(service, alice)


async def test_the_day_is_the_members_own_and_quiz_and_daily_post_share_it(
    one_card: StudyService, clock: FakeClock
) -> None:
    service = one_card
    alice = member("alice", tz="America/New_York")
    question = await service.quiz(alice)  # Wed 12:00 UTC, 07:00 in New York
    ask = question.actions[0].id.split(":")[1]
    reply = await service.act(alice, f"grade:{ask}:good")
    assert isinstance(reply, Message) and points_in(reply.plain_text()) == 10
    (general,) = await daily_posts(service, ["general"])
    assert points_in(await reveal_and_grade(service, alice, general)) == 0
    clock.set(datetime(2026, 3, 5, 3, 0, tzinfo=UTC))  # Thursday in UTC, still Wed 22:00 in New York
    (late,) = await daily_posts(service, ["late"])
    assert points_in(await reveal_and_grade(service, alice, late)) == 0
    clock.set(datetime(2026, 3, 5, 5, 0, tzinfo=UTC))  # Thursday 00:00 in New York
    (dawn,) = await daily_posts(service, ["dawn"])
    assert points_in(await reveal_and_grade(service, alice, dawn)) == 10


async def test_grading_the_same_card_in_two_channels_at_once_earns_once(
    one_card: StudyService, clock: FakeClock
) -> None:
    service = one_card
    reveals = await daily_posts(service, ["general", "random"])
    alice = member("alice")
    asks = []
    for reveal in reveals:
        answer = await service.act(alice, reveal)
        assert isinstance(answer, Message)
        asks.append(next(a.id for a in answer.actions if a.id.endswith(":good")))
    replies = await asyncio.gather(*(service.act(alice, a) for a in asks))
    assert sorted(points_in(r.plain_text()) for r in replies if isinstance(r, Message)) == [0, 10]
    assert "10 this week" in await week_points(service, alice)

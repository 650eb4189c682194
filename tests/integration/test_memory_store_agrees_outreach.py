"""The memory store agrees with the SQL store on settings, streak freezes, reminders and digests: the same
scripted weeks, run through the core and the outreach runner on both, give the same replies and messages."""

from __future__ import annotations

import itertools
import random
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from bot.bootstrap import build_service
from bot.core.commands import run_text_command
from bot.core.messages import Form, Message
from bot.core.service import StudyService
from bot.schedule.outreach import OutreachRunner
from bot.schedule.poster import PostRef
from tests.fakes.memory_store import MemoryStore
from tests.integration.test_memory_store_agrees import render
from tests.support.callers import CONTENT, member
from tests.support.clock import START, FakeClock

PEOPLE = [member("ann"), member("ben"), member("cat")]
SETTINGS = [
    ("ann", "/settings timezone Asia/Tokyo", "/settings reminders 08:00"),
    ("ben", "/settings timezone America/New_York", "/settings reminders 19:30"),
    ("cat", "/settings timezone Europe/Berlin", "/settings reminders 12:00"),
]
Build = Callable[[FakeClock], Awaitable[StudyService]]


class Outbox:
    """Posts and direct messages, as text."""

    platform = "test"

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def post(self, workspace_ref: str, channel_ref: str, message: Message, thread_name: str) -> PostRef:
        self.sent.append(f"#{channel_ref} {render(message)}")
        return PostRef(f"p{len(self.sent)}")

    async def dm(self, workspace_ref: str, user_ref: str, message: Message) -> PostRef:
        self.sent.append(f"@{user_ref} {render(message)}")
        return PostRef(f"d{len(self.sent)}")


async def session(build: Build, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    tokens = itertools.count()
    monkeypatch.setattr("secrets.token_hex", lambda n=8: f"{next(tokens):0{2 * n}x}")
    rng = random.Random(7)
    clock = FakeClock(START)
    service = await build(clock)
    outbox = Outbox()
    runner = OutreachRunner(service, {"test": outbox}, instance="one")
    try:
        yield render(
            await run_text_command(service, member("ada", admin=True), "/daily set general 09:00 UTC")
        )
        for name, *lines in SETTINGS:
            for line in lines:
                yield render(await run_text_command(service, member(name), line))
        for _hour in range(24 * 13):
            clock.advance(hours=1)
            for who in PEOPLE:
                if rng.random() < 0.08:
                    card = await service.quiz(who)
                    yield render(card)
                    if card.actions:
                        ask = card.actions[0].id.split(":")[1]
                        grade = rng.choice(["again", "hard", "good", "easy"])
                        yield render(await service.act(who, f"grade:{ask}:{grade}"))
            outcome = await runner.sweep()
            if outcome:
                yield str(sorted(outcome.items()))
            if rng.random() < 0.02:
                yield render(await service.stats(rng.choice(PEOPLE)))
        async for shown in suggestions(service, runner, clock):
            yield shown
        for who in PEOPLE:
            yield render(await service.settings_show(who))
            yield render(await service.stats(who))
        for sent in outbox.sent:
            yield sent
    finally:
        await service.store.close()  # type: ignore[attr-defined]


async def suggestions(service: StudyService, runner: OutreachRunner, clock: FakeClock) -> AsyncIterator[str]:
    """Suggested cards approved and rejected: told by DM at the next sweep, or by a command before it."""
    ada = member("ada", admin=True)
    start = await service.deck_add(ada, "team")
    yield render(start)
    yield render(await service.submit(ada, start.id, {"question": "Who deploys?", "answer": "Us."}))
    for who, verb in (("ann", "Approve"), ("ben", "Reject"), ("cat", "Reject")):
        form = await service.deck_add(member(who), "team")
        yield render(await service.submit(member(who), form.id, {"question": f"{who}?", "answer": "a"}))
        review = await service.deck_review(ada)
        yield render(review)
        decided = await service.act(ada, next(a.id for a in review.actions if a.label == verb))
        yield render(decided)
        if isinstance(decided, Form):
            yield render(await service.submit(ada, decided.id, {"deck": "team"}))
        clock.advance(minutes=1)
        if who == "cat":
            yield render(await run_text_command(service, member(who), "/decks"))  # told before the sweep
        yield str(sorted((await runner.sweep()).items()))  # one at a time: the outbox's order is fixed
    for who in PEOPLE:
        yield render(await run_text_command(service, who, "/decks"))


async def test_the_memory_store_agrees_on_reminders_digests_and_freezes(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def on_database(clock: FakeClock) -> StudyService:
        return await build_service(db_url, [CONTENT], clock=clock)

    async def in_memory(clock: FakeClock) -> StudyService:
        service = StudyService(MemoryStore(), clock, content=[CONTENT])
        await service.library.reload()
        return service

    expected = [r async for r in session(on_database, monkeypatch)]
    got = [r async for r in session(in_memory, monkeypatch)]
    assert any(r.startswith("@ann") for r in expected) and any("Last week in review" in r for r in expected)
    assert sum(r.startswith("@") and "Your suggested card" in r for r in expected) == 2  # ann's, ben's
    assert len(got) == len(expected)
    for step, (mine, theirs) in enumerate(zip(got, expected, strict=True)):
        assert mine == theirs, step

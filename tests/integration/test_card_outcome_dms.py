"""A member hears by direct message what an admin decided on their suggested card, at the outreach runner's
next sweep: once across sweeps, runners and instances; a closed DM costs one call and their next command
tells them instead, once. On the memory store and every database, with a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.bootstrap import open_core
from bot.config import Settings
from bot.core.commands import run_text_command
from bot.core.messages import Form, Message, Reply
from bot.core.service import StudyService
from bot.schedule.outreach import OutreachRunner
from tests.db import database_urls, fresh_postgres_database
from tests.fakes.memory_store import MemoryStore
from tests.integration.test_reminders import DirectMessages
from tests.support.callers import CONTENT, member
from tests.support.clock import START, FakeClock

ADMIN = member("ada", admin=True)
ANN = member("ann")


@pytest.fixture(params=["memory", *database_urls()])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgres":
        with fresh_postgres_database() as url:
            yield url
    elif request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'outcomes.db'}"
    else:
        yield "memory"


@pytest.fixture
async def two(store_url: str) -> AsyncIterator[tuple[StudyService, StudyService]]:
    """Two instances on one store (in memory: one service, two runners)."""
    clock = FakeClock(START)
    if store_url == "memory":
        service = StudyService(MemoryStore(), clock, content=(CONTENT,))
        await service.library.reload()
        yield service, service
        return
    cores = [
        await open_core(Settings(database_url=store_url, content_dirs=(CONTENT,)), clock=clock) for _ in "12"
    ]
    yield cores[0].service, cores[1].service
    for core in cores:
        await core.close()


def text_of(reply: Reply) -> str:
    assert isinstance(reply, Message)
    return reply.plain_text()


async def suggested(service: StudyService, question: str) -> Message:
    """ANN suggests a card for the team deck; the review an admin then sees."""
    form = await service.deck_add(ANN, "team")
    assert isinstance(form, Form)
    thanks = await service.submit(ANN, form.id, {"question": question, "answer": "yes"})
    assert not thanks.is_error, thanks.title
    return await service.deck_review(ADMIN)


async def approve(service: StudyService, question: str) -> None:
    review = await suggested(service, question)
    approval = await service.act(ADMIN, next(a.id for a in review.actions if a.label == "Approve"))
    assert isinstance(approval, Form)
    done = await service.submit(ADMIN, approval.id, {"deck": "team"})
    assert not done.is_error, done.title


async def reject(service: StudyService, question: str) -> None:
    review = await suggested(service, question)
    done = await service.act(ADMIN, next(a.id for a in review.actions if a.label == "Reject"))
    assert isinstance(done, Message) and not done.is_error, done.title


@pytest.fixture
async def service(two: tuple[StudyService, StudyService]) -> StudyService:
    first = two[0]
    form = await first.deck_add(ADMIN, "team")  # an admin's card starts the deck
    assert isinstance(form, Form)
    added = await first.submit(ADMIN, form.id, {"question": "Who deploys?", "answer": "Platform."})
    assert not added.is_error, added.title
    return first


def runner(service: StudyService, dms: DirectMessages, name: str) -> OutreachRunner:
    return OutreachRunner(service, {"test": dms}, instance=name)


async def test_an_approval_is_told_once_by_dm_with_the_deck_and_the_admin(
    service: StudyService, two: tuple[StudyService, StudyService]
) -> None:
    dms = DirectMessages()
    one, other = runner(service, dms, "one"), runner(two[1], dms, "two")
    await approve(service, "Where do we test *releases*?")
    assert (await one.sweep())["sent"] == 1
    (told,) = dms.to("ann")
    assert "Your card “Where do we test *releases*?” was approved into the deck “team” by ada." in (
        told.plain_text()
    )
    for run in (one, other, one):
        assert sum((await run.sweep()).values()) == 0
    assert dms.calls["ann"] == 1
    # Told by DM: their next command does not repeat it.
    assert "was approved" not in text_of(await run_text_command(service, ANN, "/decks"))


async def test_a_rejection_is_told_once_by_dm(
    service: StudyService, two: tuple[StudyService, StudyService]
) -> None:
    dms = DirectMessages()
    await reject(service, "Spam?")
    outcomes = [await runner(s, dms, name).sweep() for s, name in ((service, "one"), (two[1], "two"))]
    assert [o["sent"] for o in outcomes] == [1, 0]
    (told,) = dms.to("ann")
    assert "Your card “Spam?” was not taken: ada rejected it." in told.plain_text()
    assert "Spam?" not in text_of(await run_text_command(service, ANN, "/decks"))


async def test_a_closed_dm_costs_one_call_then_the_next_command_tells_once(service: StudyService) -> None:
    dms = DirectMessages()
    dms.blocked.add("ann")
    run = runner(service, dms, "one")
    await approve(service, "Where are the logs?")
    assert (await run.sweep())["paused"] == 1
    assert sum((await run.sweep()).values()) == 0
    assert dms.calls["ann"] == 1 and dms.sent == []
    assert "“Where are the logs?” was approved by ada" in text_of(
        await run_text_command(service, ANN, "/decks")
    )
    assert "was approved" not in text_of(await run_text_command(service, ANN, "/decks"))
    # Their DMs closed do not hold back the next decision's message: one call each.
    dms.blocked.clear()
    await reject(service, "Spam?")
    assert (await run.sweep())["sent"] == 1 and dms.calls["ann"] == 2


async def test_told_on_a_command_first_no_dm_and_paused_reminders_do_not_stop_it(
    service: StudyService,
) -> None:
    dms = DirectMessages()
    run = runner(service, dms, "one")
    await approve(service, "First?")
    assert "“First?” was approved" in text_of(await run_text_command(service, ANN, "/decks"))
    assert sum((await run.sweep()).values()) == 0 and dms.calls["ann"] == 0
    # Told by a command between the sweep's finding and its sending: still no DM.
    await reject(service, "Between?")
    found = await run.outcomes_due()
    assert "“Between?” was not added" in text_of(await run_text_command(service, ANN, "/decks"))
    await run._fan_out(found)
    assert dms.calls["ann"] == 0
    # Reminders paused (another kind of outreach) hold back nothing here.
    assert "19:00" in text_of(await run_text_command(service, ANN, "/settings reminders 19:00"))
    await reject(service, "Second?")
    second = await service.store.get_suggestion(3)
    assert second is not None
    await service.store.pause_reminders(second.member_id, "Discord would not deliver a direct message.")
    assert (await run.sweep())["sent"] == 1
    assert "“Second?” was not taken" in dms.to("ann")[0].plain_text()

"""The memory store (tests/fakes/memory_store.py) behaves as the real store: the same random sessions of
members studying, grading, skipping, joining teams, reading boards, and decks being edited, run through the
core on both, must give the same replies, one by one. The unit tests (tests/unit) rely on this."""

from __future__ import annotations

import inspect
import itertools
import random
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.bootstrap import build_service
from bot.core.commands import run_text_command
from bot.core.messages import Form, Message, Upload
from bot.core.service import StudyService
from tests.daily_helpers import RecordingPoster, make_runner
from tests.fakes.memory_store import MemoryStore
from tests.support.callers import CONTENT, member
from tests.support.clock import START, FakeClock
from tests.support.decks import GOOD

PEOPLE = [member("ann"), member("ben", tz="America/New_York"), member("cat", tz="Asia/Tokyo"), member("dan")]
ADMIN = member("ada", admin=True)
OTHER_PLACE = member("eve", workspace="guild-2")
TEAMS = ["Owls", "Foxes", "owls"]
OWN_DECK = (
    b"question,answer,follow_up_question,follow_up_answer\nWhat is ours?,Our **own** deck,Why?,Because\n"
)
Build = Callable[[list[Path], FakeClock], Awaitable[StudyService]]


def render(reply: object) -> str:
    if isinstance(reply, Message):
        actions = " | ".join(f"{a.id}={a.label}" for a in reply.actions)
        return f"{reply.title}\n{reply.plain_text()}\n[{actions}] error={reply.is_error}"
    if isinstance(reply, Form):
        return f"form {reply.id} {reply.title} {reply.context}"
    return repr(reply)


def content(tmp: Path) -> Path:
    folder = tmp / "decks"
    folder.mkdir()
    shutil.copy(CONTENT / "ml-interview-questions.md", folder)
    (folder / "chem.md").write_text(GOOD, encoding="utf-8")
    return folder


async def session(seed: int, build: Build, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """One seeded session; yields each reply as text."""
    tokens = itertools.count()
    # The channels' card order and claim tokens come from secrets: the same on both stores.
    monkeypatch.setattr("secrets.token_hex", lambda n=8: f"{next(tokens):0{2 * n}x}")
    rng = random.Random(seed)
    clock = FakeClock(START)
    folder = content(tmp)
    service = await build([folder], clock)
    last: dict[str, Message] = {}
    poster = RecordingPoster()
    try:
        yield render(await run_text_command(service, ADMIN, "/daily set general 09:00 UTC chem"))
        # A workspace deck of guild-1 only: studied, suggested to, exported, invisible to guild-2.
        yield render(await service.deck_import(ADMIN, Upload("own.csv", OWN_DECK)))
        for _step in range(160):
            who = rng.choice(PEOPLE)
            roll = rng.random()
            if roll < 0.35 or who.user_ref not in last:
                reply = await service.quiz(who, rng.choice([None, None, "chem", "ml", "own"]))
            elif roll < 0.65:
                actions = last[who.user_ref].actions
                if not actions:
                    reply = await service.stats(who)
                else:
                    reply = await service.act(who, rng.choice(actions).id)
                    if isinstance(reply, Form):
                        reply = await service.submit(
                            who, reply.id, rng.choice(["CNNs", "protons", "no idea"])
                        )
            elif roll < 0.72:
                reply = await service.team_join(who, rng.choice(TEAMS))
            elif roll < 0.75:
                reply = await service.team_leave(who)
            elif roll < 0.85:
                reply = await service.leaderboard(who, rng.choice(["week", "month", "all"]))
            elif roll < 0.9:
                reply = await service.stats(who)
            elif roll < 0.93:
                reply = await service.decks(who)
            elif roll < 0.95:
                await make_runner(service, poster).sweep()
                reply = poster.posts[-1].message if poster.posts else Message("no post")
                for person in PEOPLE:
                    last[person.user_ref] = reply
            elif roll < 0.97:
                # Question 1 of chem leaves the deck, or comes back.
                deck = folder / "chem.md"
                text = deck.read_text(encoding="utf-8")
                if "### **1." in text:
                    text = text[: text.index("### **1.")] + text[text.index("### **2.") :]
                else:
                    text = GOOD
                deck.write_text(text, encoding="utf-8")
                await service.library.reload()
                reply = await service.decks(ADMIN)
            elif roll < 0.98:
                form = await service.deck_add(who, "own")
                assert isinstance(form, Form)
                await service.submit(who, form.id, {"question": f"Q{rng.random():.3f}?", "answer": "A"})
                reply = await service.deck_review(ADMIN)
                if reply.actions:
                    approval = await service.act(ADMIN, rng.choice(reply.actions).id)
                    if isinstance(approval, Form):
                        approval = await service.submit(ADMIN, approval.id, {"deck": "own"})
                    reply = approval
            else:
                reply = await service.quiz(OTHER_PLACE, rng.choice([None, "own"]))
            if isinstance(reply, Message) and reply.actions:
                last[who.user_ref] = reply
            yield render(reply)
            if rng.random() < 0.2:
                clock.advance(hours=rng.choice([1, 7, 20, 30, 24 * 8]))
    finally:
        await service.store.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_the_memory_store_gives_the_same_replies_as_the_database(
    seed: int, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def on_database(folders: list[Path], clock: FakeClock) -> StudyService:
        return await build_service(db_url, folders, clock=clock)

    async def in_memory(folders: list[Path], clock: FakeClock) -> StudyService:
        service = StudyService(MemoryStore(), clock, content=folders)
        await service.library.reload()
        return service

    (tmp_path / "db").mkdir()
    (tmp_path / "memory").mkdir()
    expected = [r async for r in session(seed, on_database, tmp_path / "db", monkeypatch)]
    got = [r async for r in session(seed, in_memory, tmp_path / "memory", monkeypatch)]
    assert len(got) == len(expected)
    for step, (mine, theirs) in enumerate(zip(got, expected, strict=True)):
        assert mine.replace(str(tmp_path / "memory"), "") == theirs.replace(str(tmp_path / "db"), ""), step


def test_the_memory_store_has_every_method_of_the_sql_store_with_the_same_parameters(tmp_path: Path) -> None:
    from bot.bootstrap import open_engine
    from bot.store.sql_store import SqlStore

    # Instances: the store delegates to its areas' bound methods, set up in __init__.
    def methods(store: object) -> dict[str, list[tuple[str, object]]]:
        return {
            name: [(p.name, p.default) for p in inspect.signature(method).parameters.values()]
            for name, method in inspect.getmembers(store, inspect.iscoroutinefunction)
            if not name.startswith("_")
        }

    engine = open_engine(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}")  # never connected
    assert methods(MemoryStore()) == methods(SqlStore(engine))

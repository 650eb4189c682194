"""The core on the in-memory store and a fake clock: no database file, no server, no migrations.

The core is built in one place (`build_core`), so a change to how it is composed is one change here."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

import pytest

from bot.core.service import StudyService
from tests.fakes.memory_store import MemoryStore
from tests.support.callers import CONTENT
from tests.support.clock import START, FakeClock


async def build_core(
    clock: FakeClock,
    content: Sequence[Path] = (CONTENT,),
    answer_limit: int = 2000,
    store: MemoryStore | None = None,
) -> StudyService:
    """The facade over a memory store (a fresh one, or `store` as a restart would find it), with the
    decks of `content` loaded."""
    store = store if store is not None else MemoryStore()
    service = StudyService(store, clock, answer_limit=answer_limit, content=content)
    await service.library.reload()
    return service


def memory(service: StudyService) -> MemoryStore:
    """The service's store, to look inside as an integration test would with SQL."""
    assert isinstance(service.store, MemoryStore)
    return service.store


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)  # a Wednesday


@pytest.fixture
async def service(clock: FakeClock) -> StudyService:
    return await build_core(clock)


def _no_database(*_args: Any, **_kwargs: Any) -> NoReturn:
    raise AssertionError("a unit test opened a database: use the memory store (tests/fakes/memory_store.py)")


@pytest.fixture(autouse=True)
def no_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every way the store reaches a database fails here: the drivers' connects and engine creation."""
    import sqlite3

    import sqlalchemy
    import sqlalchemy.ext.asyncio

    monkeypatch.setattr(sqlite3, "connect", _no_database)
    monkeypatch.setattr(sqlalchemy, "create_engine", _no_database)
    monkeypatch.setattr(sqlalchemy.ext.asyncio, "create_async_engine", _no_database)
    for module, name in (("aiosqlite", "connect"), ("asyncpg", "connect"), ("asyncpg", "create_pool")):
        found = __import__(module)
        monkeypatch.setattr(found, name, _no_database)
    engine_module = __import__("sys").modules.get("bot.store.engine")
    if engine_module is not None:
        monkeypatch.setattr(engine_module, "create_engine", _no_database)
    yield

"""Shared fixtures: a migrated database with the bundled deck, a controllable clock, a ready StudyService.

The `db_url` fixture yields SQLite by default; when STUDYBOT_TEST_POSTGRES_URL is set, tests that use
it run against PostgreSQL as well (see tests/db.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.bootstrap import Core, open_core
from bot.config import Settings
from bot.core.service import StudyService
from tests.db import database_urls
from tests.support.callers import CONTENT, REPO, member
from tests.support.clock import START, FakeClock

__all__ = ["CONTENT", "REPO", "FakeClock", "member"]  # still imported from here by the tests


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)  # a Wednesday


@pytest.fixture(params=database_urls())
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database for one test: SQLite in tmp_path, or a new PostgreSQL database."""
    kind = request.param
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    else:
        from tests.db import fresh_postgres_database

        with fresh_postgres_database() as url:
            yield url


@pytest.fixture
async def core(db_url: str, clock: FakeClock) -> AsyncIterator[Core]:
    """The bot as bot/bootstrap.py builds it, on the test database and the tests' decks."""
    built = await open_core(Settings(database_url=db_url, content_dirs=(CONTENT,)), clock=clock)
    yield built
    await built.close()


@pytest.fixture
def service(core: Core) -> StudyService:
    return core.service

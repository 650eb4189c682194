"""Shared fixtures: a migrated database with the bundled deck, a controllable clock, a ready StudyService.

The `db_url` fixture yields SQLite by default; when STUDYBOT_TEST_POSTGRES_URL is set, tests that use
it run against PostgreSQL as well (see tests/db.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import build_service
from bot.core.model.models import Caller
from bot.core.service import StudyService
from tests.db import database_urls

REPO = Path(__file__).resolve().parents[1]
# The tests' own decks (a copy of the bundled one), so a deck added to content/ changes no test.
CONTENT = REPO / "tests" / "fixtures" / "decks"


class FakeClock:
    """A clock tests move by hand, to cross midnights, weeks and DST changes."""

    def __init__(self, start: datetime) -> None:
        assert start.tzinfo is not None
        self.current = start.astimezone(UTC)

    def now(self) -> datetime:
        return self.current

    def set(self, moment: datetime) -> None:
        self.current = moment.astimezone(UTC)

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 4, 12, 0, tzinfo=UTC))  # a Wednesday


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
async def service(db_url: str, clock: FakeClock) -> AsyncIterator[StudyService]:
    svc = await build_service(db_url, [CONTENT], clock=clock)
    yield svc
    await svc.store.close()  # type: ignore[attr-defined]


def member(name: str, workspace: str = "guild-1", tz: str | None = None, admin: bool = False) -> Caller:
    return Caller(
        platform="test",
        workspace_ref=workspace,
        user_ref=name,
        display_name=name,
        timezone=tz,
        is_admin=admin,
    )

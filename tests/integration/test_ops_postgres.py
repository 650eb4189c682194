"""PostgreSQL (asyncpg): the same migrations and queries as SQLite.

These run only when STUDYBOT_TEST_POSTGRES_URL points at a server (`.ci/run` sets it); otherwise they are
skipped with that reason. The store suites that use the `db_url` fixture run on PostgreSQL too then."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, make_url

from bot.bootstrap import build_service, migrate, open_engine
from bot.config import Settings
from bot.core.messages import Message
from bot.core.model.models import Period
from bot.core.model.streaks import period_start
from bot.store.engine import normalise_url
from bot.store.migrate import alembic_config
from bot.store.tables import metadata
from tests.conftest import CONTENT, FakeClock, member
from tests.db import POSTGRES_ENV

SKIP_REASON = f"{POSTGRES_ENV} not set: PostgreSQL tests skipped"
needs_postgres = pytest.mark.skipif(not os.environ.get(POSTGRES_ENV), reason=SKIP_REASON)


@pytest.fixture
def pg_url() -> Iterator[str]:
    from tests.db import fresh_postgres_database

    with fresh_postgres_database() as url:
        yield url


def test_database_url_forms_operators_write_pick_asyncpg() -> None:
    assert (
        normalise_url("postgres://bot:pw@db:5432/studybot") == "postgresql+asyncpg://bot:pw@db:5432/studybot"
    )
    assert normalise_url("postgresql://bot@db/studybot") == "postgresql+asyncpg://bot@db/studybot"
    assert normalise_url("postgresql+asyncpg://bot@db/x") == "postgresql+asyncpg://bot@db/x"
    assert normalise_url("sqlite:///data/studybot.db") == "sqlite+aiosqlite:///data/studybot.db"
    settings = Settings.from_env({"DATABASE_URL": " postgres://bot:pw@db/studybot "})
    assert settings.db_url == "postgresql+asyncpg://bot:pw@db/studybot"
    assert Settings.from_env({"STUDYBOT_DATA_DIR": "/data"}).db_url == "sqlite+aiosqlite:////data/studybot.db"


@needs_postgres
@pytest.mark.postgres
async def test_migrations_build_the_schema_the_code_uses(pg_url: str) -> None:
    await migrate(pg_url)
    await migrate(pg_url)  # a second start finds nothing to do
    head = ScriptDirectory.from_config(alembic_config(pg_url)).get_current_head()
    engine = open_engine(pg_url)
    try:
        async with engine.connect() as conn:

            def inspect(sync: Connection) -> tuple[str | None, list[object]]:
                context = MigrationContext.configure(sync)
                return context.get_current_revision(), compare_metadata(context, metadata)

            revision, differences = await conn.run_sync(inspect)
    finally:
        await engine.dispose()
    assert revision == head
    assert differences == [], f"migrations and bot/store/tables.py disagree on PostgreSQL: {differences}"


def operator_url(url: str) -> str:
    """The test database's URL as an operator writes it: postgres://, no driver."""
    rendered = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    return "postgres://" + rendered.removeprefix("postgresql://")


@needs_postgres
@pytest.mark.postgres
async def test_a_grade_round_trips_through_asyncpg(pg_url: str, clock: FakeClock) -> None:
    service = await build_service(operator_url(pg_url), [CONTENT], clock=clock)
    try:
        assert service.store.engine.dialect.name == "postgresql"  # type: ignore[attr-defined]
        assert service.store.engine.dialect.driver == "asyncpg"  # type: ignore[attr-defined]
        alice = member("alice")
        question = await service.quiz(alice)
        revealed = await service.act(alice, question.actions[0].id)
        assert isinstance(revealed, Message)
        good = next(a for a in revealed.actions if a.id.endswith(":good"))
        graded = await service.act(alice, good.id)
        assert graded.title.startswith("Good")
        ask_id = int(good.id.split(":")[1])
        ask = await service.store.get_ask(ask_id)
        assert ask is not None and ask.grade is not None and ask.grade.name == "GOOD"
        board = await service.store.leaderboard(
            alice.workspace_id, Period.WEEK, period_start(Period.WEEK, clock.now().date()), 10
        )
        assert [(row.display_name, row.points > 0) for row in board] == [("alice", True)]
    finally:
        await service.store.close()  # type: ignore[attr-defined]


@needs_postgres
@pytest.mark.postgres
async def test_two_instances_grading_the_same_click_count_it_once(pg_url: str, clock: FakeClock) -> None:
    first = await build_service(pg_url, [CONTENT], clock=clock)
    second = await build_service(pg_url, [CONTENT], clock=clock)  # migrations already there: a no-op
    try:
        alice = member("alice")
        question = await first.quiz(alice)
        revealed = await first.act(alice, question.actions[0].id)
        assert isinstance(revealed, Message)
        easy = next(a for a in revealed.actions if a.id.endswith(":easy"))
        replies = await asyncio.gather(first.act(alice, easy.id), second.act(alice, easy.id))
        assert sorted(r.title.startswith("Easy") for r in replies) == [False, True]
        async with first.store.engine.connect() as conn:  # type: ignore[attr-defined]
            graded = (
                await conn.execute(sa.text("SELECT count(*) FROM asks WHERE grade IS NOT NULL"))
            ).scalar()
        assert graded == 1
        week = period_start(Period.WEEK, clock.now().date())
        boards = [
            await s.store.leaderboard(alice.workspace_id, Period.WEEK, week, 10) for s in (first, second)
        ]
        assert boards[0] == boards[1] and len(boards[0]) == 1
    finally:
        await first.store.close()  # type: ignore[attr-defined]
        await second.store.close()  # type: ignore[attr-defined]

"""Apply Alembic migrations, from the CLI (`studybot db upgrade`) or on start."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from bot.store.engine import create_engine, is_sqlite, normalise_url

_REPO_ROOT = Path(__file__).resolve().parents[2]
# Any fixed number, the same in every instance: names the PostgreSQL advisory lock taken at start.
STARTUP_LOCK_KEY = 0x5757_0001


def migrations_dir() -> Path:
    return Path(os.environ.get("STUDYBOT_MIGRATIONS", _REPO_ROOT / "migrations"))


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


async def upgrade(url: str, revision: str = "head") -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:

            def run(sync_conn: Connection) -> None:
                config = alembic_config(url)
                config.attributes["connection"] = sync_conn
                command.upgrade(config, revision)

            await conn.run_sync(run)
    finally:
        await engine.dispose()


@asynccontextmanager
async def startup_lock(url: str) -> AsyncIterator[None]:
    """On PostgreSQL, one instance at a time migrates and syncs the decks: instances started together
    would otherwise race to create the same tables and cards. SQLite serialises writers by itself."""
    if is_sqlite(normalise_url(url)):
        yield
        return
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": STARTUP_LOCK_KEY})
            try:
                yield
            finally:
                await conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": STARTUP_LOCK_KEY})
    finally:
        await engine.dispose()

"""Apply Alembic migrations, from the CLI (`studybot db upgrade`) or on start.

Alembic is imported only when there is something to do: a database already at the newest revision is
recognised by reading `alembic_version` and the revision ids in the migration files."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.engine import normalise_url

if TYPE_CHECKING:
    from alembic.config import Config

_REPO_ROOT = Path(__file__).resolve().parents[2]
# Any fixed number, the same in every instance: names the PostgreSQL advisory lock taken at start.
STARTUP_LOCK_KEY = 0x5757_0001
_REVISION = re.compile(r"^revision\s*(?::[^=]*)?=\s*[\"']([^\"']+)[\"']", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\s*(?::[^=]*)?=\s*(.+)$", re.MULTILINE)


def migrations_dir() -> Path:
    return Path(os.environ.get("STUDYBOT_MIGRATIONS", _REPO_ROOT / "migrations"))


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def head_revision() -> str | None:
    """The newest revision in the migration files; None when that is not plain (Alembic decides then)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (migrations_dir() / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(text), _DOWN_REVISION.search(text)
        if revision is None or down is None:
            return None
        revisions.add(revision[1])
        parents.update(re.findall(r"[\"']([^\"']+)[\"']", down[1]))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at; None when it has none yet (or it cannot be read)."""
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).scalars().all()
    except SQLAlchemyError:
        return None
    return str(rows[0]) if len(rows) == 1 else None


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    if revision == "head":
        head = head_revision()
        if head is not None and await current_revision(engine) == head:
            return
    await _run_alembic(engine, "upgrade", revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Back to `revision` (each downgrade runs); for operators undoing an upgrade, and for tests."""
    await _run_alembic(engine, "downgrade", revision)


async def _run_alembic(engine: AsyncEngine, direction: str, revision: str) -> None:
    from alembic import command

    url = engine.url.render_as_string(hide_password=False)
    step = command.upgrade if direction == "upgrade" else command.downgrade
    async with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        raw: Any = (await conn.get_raw_connection()).driver_connection
        if sqlite:
            # SQLite's own recipe for schema changes: a batch ALTER recreates a table that others refer to,
            # which foreign keys would refuse; they are off for the change (outside any transaction, where
            # the PRAGMA takes effect) and checked before it commits.
            await raw.execute("PRAGMA foreign_keys=OFF")
        try:
            async with conn.begin():

                def run(sync_conn: Connection) -> None:
                    config = alembic_config(url)
                    config.attributes["connection"] = sync_conn
                    step(config, revision)
                    if sqlite:
                        broken = sync_conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                        if broken:
                            raise RuntimeError(f"the migration leaves rows without a parent: {broken[:5]}")

                await conn.run_sync(run)
        finally:
            if sqlite:
                await raw.execute("PRAGMA foreign_keys=ON")


@asynccontextmanager
async def startup_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    """On PostgreSQL, one instance at a time migrates and syncs the decks: instances started together
    would otherwise race to create the same tables and cards. SQLite serialises writers by itself."""
    if engine.dialect.name == "sqlite":
        yield
        return
    async with engine.connect() as conn:
        await conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": STARTUP_LOCK_KEY})
        try:
            yield
        finally:
            try:
                await conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": STARTUP_LOCK_KEY})
                await conn.commit()
            except BaseException:
                # A session lock must not go back to the pool still held: drop the connection instead.
                await conn.invalidate()
                raise

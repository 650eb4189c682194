"""Which databases the store tests run on, and throw-away PostgreSQL databases for them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

POSTGRES_ENV = "STUDYBOT_TEST_POSTGRES_URL"


def database_urls() -> list[str]:
    return ["sqlite", "postgres"] if os.environ.get(POSTGRES_ENV) else ["sqlite"]


@contextmanager
def fresh_postgres_database(server: str | None = None, prefix: str = "studybot_test") -> Iterator[str]:
    """Create a uniquely named database on `server` (default: STUDYBOT_TEST_POSTGRES_URL), drop it after."""
    import asyncio

    import asyncpg  # type: ignore[import-untyped]
    from sqlalchemy.engine import make_url

    server = server or os.environ[POSTGRES_ENV]
    base = make_url(server.replace("postgresql+asyncpg://", "postgresql://"))
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin_dsn = base.set(drivername="postgresql").render_as_string(hide_password=False)

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

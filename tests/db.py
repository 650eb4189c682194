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
def fresh_postgres_database() -> Iterator[str]:
    """Create a uniquely named database on the server in STUDYBOT_TEST_POSTGRES_URL, drop it afterwards."""
    import asyncio

    import asyncpg  # type: ignore[import-untyped]
    from sqlalchemy.engine import make_url

    base = make_url(os.environ[POSTGRES_ENV].replace("postgresql+asyncpg://", "postgresql://"))
    name = f"studybot_test_{uuid.uuid4().hex[:12]}"
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

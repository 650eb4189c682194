"""What every store area works over: the engine, its writer, and the dialect's INSERT."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.store.engine import writer


def upsert(dialect_name: str, table: sa.Table) -> Any:
    """INSERT for the engine's dialect, so callers can add ON CONFLICT clauses portably."""
    if dialect_name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


class Db:
    """One engine shared by the areas: reads on `engine`, write transactions on `writer` (on SQLite these
    take the write lock at BEGIN). The facade owns it and disposes of the engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.writer = writer(engine)
        self.dialect = engine.dialect.name
        self._queue = asyncio.Lock()

    def upsert(self, table: sa.Table) -> Any:
        return upsert(self.dialect, table)

    @contextlib.asynccontextmanager
    async def queued_write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction. On SQLite, writers of this process queue here instead of in SQLite's busy
        handler, which sleeps in steps of milliseconds and wastes most of the time under contention."""
        if self.dialect != "sqlite":
            async with self.writer.begin() as conn:
                yield conn
            return
        async with self._queue, self.writer.begin() as conn:
            yield conn

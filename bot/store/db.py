"""What every store area works over: the engine, its writer, and the dialect's INSERT."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.store.compiled import CompiledStatement
from bot.store.engine import busy_timeout, writer
from bot.store.sqlite_lane import SqliteLane


def upsert(dialect_name: str, table: sa.Table) -> Any:
    """INSERT for the engine's dialect, so callers can add ON CONFLICT clauses portably."""
    if dialect_name == "postgresql":
        from sqlalchemy.dialects import postgresql  # ~17 ms of start-up that SQLite never needs

        return postgresql.insert(table)
    return sqlite.insert(table)


def _dropped_errors() -> tuple[type[BaseException], ...]:
    """What asyncpg raises on a connection the server closed (restart, idle timeout, terminated)."""
    import asyncpg.exceptions as pg  # type: ignore[import-untyped]  # only when PostgreSQL is used

    return (
        pg.ConnectionDoesNotExistError,
        pg.PostgresConnectionError,
        pg.AdminShutdownError,
        pg.InterfaceError,
        pg.InternalClientError,  # a protocol left mid-operation by the server's goodbye
        ConnectionError,
    )


class ConnectionDropped(Exception):
    """A pooled PostgreSQL connection was found closed; it has been thrown away."""


class Db:
    """One engine shared by the areas: reads on `engine`, write transactions on `writer` (on SQLite these
    take the write lock at BEGIN), and on SQLite the grade lane. The facade owns it and disposes of the
    engine after `close`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.writer = writer(engine)
        self.dialect = engine.dialect.name
        self._queue = asyncio.Lock()
        # Single-statement reads need no transaction: on PostgreSQL that saves the BEGIN and ROLLBACK
        # round trips around them.
        self._reader = (
            engine.execution_options(isolation_level="AUTOCOMMIT") if self.dialect != "sqlite" else engine
        )
        # SQLite files: the grade path's own connection (bot/store/sqlite_lane.py), opened on first use.
        database = engine.url.database
        self.lane = (
            SqliteLane(database, busy_timeout=busy_timeout(engine.url.render_as_string()))
            if self.dialect == "sqlite" and database and database != ":memory:"
            else None
        )

    async def open(self) -> None:
        if self.lane is not None:
            await self.lane.open()

    async def close(self) -> None:
        if self.lane is not None:
            await self.lane.close()

    async def read_retried(self, query: CompiledStatement, params: dict[str, Any]) -> Any:
        """The first row of a one-statement read on PostgreSQL, outside any transaction (no BEGIN or
        ROLLBACK round trips); run once more if the pooled connection was found dropped (there is no
        pre-ping on checkout, and a read is always safe to repeat)."""
        for attempt in (1, 2):
            try:
                async with self.driver() as driver:
                    raw = await driver.fetchrow(query.sql, *query.params(params))
                return None if raw is None else query.row(raw)
            except ConnectionDropped:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    @contextlib.asynccontextmanager
    async def driver(self) -> AsyncIterator[Any]:
        """A pooled PostgreSQL connection's own asyncpg connection, for the grade path's precompiled
        statements (asyncpg prepares each text once per connection). A connection found closed is
        thrown away and reported as ConnectionDropped."""
        dropped = _dropped_errors()
        async with self.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            try:
                yield raw.driver_connection
            except dropped as exc:
                await conn.invalidate()
                failure = exc
            else:
                return
        # As SQLAlchemy does on a disconnect: the server probably dropped every pooled connection
        # (a restart), so the pool starts again rather than hand out the others one failure at a time.
        await self.engine.dispose()
        raise ConnectionDropped(str(failure)) from failure

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

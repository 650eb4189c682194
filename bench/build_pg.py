"""The benchmark database on PostgreSQL: the cached SQLite file of bench/build_db.py copied into a cached
PostgreSQL database, and a throw-away clone of it for each run.

The schema comes from the real migrations and the cards from the bundled deck through StudyService (as on
SQLite); then the rows the leaderboard reads (teams, members, scores, team_scores, board_counts) are copied
with COPY, and the database is VACUUM ANALYZEd once, as autovacuum would have left it. Asks and card states
are not copied: no board reads them, and grades made during a run write their own. The cached database is
named after the SQLite file and its build parameters; `working_clone` makes `CREATE DATABASE ... TEMPLATE`
copies, so the grades a run writes do not pile up.

    server: STUDYBOT_BENCH_POSTGRES_URL, else STUDYBOT_TEST_POSTGRES_URL, else postgresql://postgres@127.0.0.1/test
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import sqlalchemy as sa
from build_db import CONTENT, PLATFORM, WORKSPACE_ID, BenchClock, BenchDb
from sqlalchemy.engine import make_url

from bot.bootstrap import build_service
from bot.store import tables

COPIED = ("teams", "members", "scores", "team_scores", "board_counts")
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/test"


def server_url() -> str:
    return (
        os.environ.get("STUDYBOT_BENCH_POSTGRES_URL")
        or os.environ.get("STUDYBOT_TEST_POSTGRES_URL")
        or DEFAULT_SERVER
    )


def _dsn(database: str) -> str:
    url = make_url(server_url().replace("postgresql+asyncpg://", "postgresql://"))
    return url.set(drivername="postgresql", database=database).render_as_string(hide_password=False)


def sa_url(database: str) -> str:
    return _dsn(database).replace("postgresql://", "postgresql+asyncpg://", 1)


def _name(db: BenchDb) -> str:
    tag = hashlib.sha1(json.dumps([asdict(db.params), db.revision]).encode()).hexdigest()[:10]
    return f"studybot_bench_{db.params.members}m_{tag}"


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(_dsn(make_url(server_url()).database or "postgres"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _exists(name: str) -> bool:
    conn = await asyncpg.connect(_dsn(make_url(server_url()).database or "postgres"))
    try:
        found = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not found:
            return False
        # Only a finished copy is marked: an interrupted build leaves no comment.
        comment = await conn.fetchval(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1", name
        )
        return comment == "complete"
    finally:
        await conn.close()


def _converters(table: sa.Table) -> list[Callable[[Any], Any]]:
    """SQLite's stored text back to the Python values asyncpg's COPY wants, by the column's type."""

    def as_date(v: Any) -> Any:
        return date.fromisoformat(v) if isinstance(v, str) else v

    def as_datetime(v: Any) -> Any:  # stored naive, in UTC (bot/store/tables.py UTCDateTime)
        return datetime.fromisoformat(v).replace(tzinfo=None) if isinstance(v, str) else v

    found: list[Callable[[Any], Any]] = []
    for column in table.columns:
        kind = column.type
        if isinstance(kind, sa.TypeDecorator):
            kind = kind.impl_instance
        if isinstance(kind, sa.DateTime):
            found.append(as_datetime)
        elif isinstance(kind, sa.Date):
            found.append(as_date)
        elif isinstance(kind, sa.Boolean):  # SQLite stores 0/1
            found.append(lambda v: bool(v) if v is not None else None)
        else:
            found.append(lambda v: v)
    return found


def _rows(path: str, table: sa.Table, batch: int = 200_000) -> Iterator[list[tuple[Any, ...]]]:
    convert = _converters(table)
    names = ", ".join(f'"{c.name}"' for c in table.columns)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        cursor = conn.execute(f"SELECT {names} FROM {table.name}")
        while rows := cursor.fetchmany(batch):
            yield [tuple(f(v) for f, v in zip(convert, row, strict=True)) for row in rows]
    finally:
        conn.close()


async def ensure_pg(db: BenchDb) -> tuple[str, float | None]:
    """The cached PostgreSQL copy of the SQLite bench database (name, seconds it took to build or None)."""
    name = _name(db)
    if await _exists(name):
        return name, None
    started = time.perf_counter()
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await _admin(f'CREATE DATABASE "{name}"')
    service = await build_service(sa_url(name), [CONTENT], clock=BenchClock(db.params.moment))
    try:
        await service.store.ensure_workspace(WORKSPACE_ID, PLATFORM)
    finally:
        await service.store.close()  # type: ignore[attr-defined]
    conn = await asyncpg.connect(_dsn(name))
    try:
        for table_name in COPIED:
            table = tables.metadata.tables[table_name]
            columns = [c.name for c in table.columns]
            for rows in _rows(str(db.path), table):
                await conn.copy_records_to_table(table_name, records=rows, columns=columns)
        for table_name, column in (("teams", "id"), ("members", "id")):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table_name}', '{column}'),"
                f" (SELECT max({column}) FROM {table_name}))"
            )
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    await _admin(f"COMMENT ON DATABASE \"{name}\" IS 'complete'")
    return name, time.perf_counter() - started


@asynccontextmanager
async def working_clone(name: str) -> AsyncIterator[str]:
    """A throw-away copy of the cached database (its SQLAlchemy URL), dropped afterwards."""
    clone = f"{name}_run"
    await _admin(f'DROP DATABASE IF EXISTS "{clone}" WITH (FORCE)')
    await _admin(f'CREATE DATABASE "{clone}" TEMPLATE "{name}"')
    try:
        yield sa_url(clone)
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{clone}" WITH (FORCE)')

"""Engine set-up: SQLite (aiosqlite, WAL, foreign keys) by default, PostgreSQL (asyncpg) by URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.config import ConfigError, normalise_url, sqlite_url

__all__ = ["create_engine", "is_sqlite", "normalise_url", "sqlite_url", "writer"]


POOL_RECYCLE_SECONDS = 300
# How long a SQLite connection waits for another writer's lock before "database is locked".
BUSY_TIMEOUT_SECONDS = 30.0


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def busy_timeout(url: str) -> float:
    """SQLite's lock wait in seconds: the URL's `timeout` (SQLAlchemy's own SQLite option), else 30 s."""
    raw = make_url(url).query.get("timeout")
    if raw is None:
        return BUSY_TIMEOUT_SECONDS
    text = raw if isinstance(raw, str) else raw[-1]
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 3600:
        raise ConfigError(f"DATABASE_URL: timeout must be a number of seconds from 0 to 3600, not {text!r}")
    return seconds


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    url = normalise_url(url)
    if not is_sqlite(url):
        # No pre-ping (a round trip on every checkout): connections are recycled before servers and
        # proxies drop idle ones, one the server closed is replaced at checkout (_drop_if_closed), and
        # the grade and its read retry once on a connection found dropped.
        kwargs.setdefault("pool_recycle", POOL_RECYCLE_SECONDS)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "checkout", _drop_if_closed)
        return engine

    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    timeout = busy_timeout(url)
    engine = create_async_engine(url, connect_args={"timeout": timeout}, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so writes can BEGIN IMMEDIATE (see on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={round(timeout * 1000)}")
        # No checkpoint inside a COMMIT: the store's checkpointer does them (bot/store/sqlite_lane.py).
        cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: Any) -> None:
        # A write that starts as a read can fail with SQLITE_BUSY when another process writes first;
        # taking the write lock up front makes concurrent writers wait (busy_timeout) instead.
        if conn.get_execution_options().get("sqlite_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


def _drop_if_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection the server closed meanwhile (a restart, pg_terminate_backend) is replaced before
    use, without a round trip: asyncpg notices the closed socket on its own, so ask it (SQLAlchemy's
    custom pessimistic disconnect handling). A drop nobody has noticed yet is still the retries' job."""
    driver = getattr(dbapi_connection, "driver_connection", None)
    is_closed = getattr(driver, "is_closed", None)
    if is_closed is not None and is_closed():
        raise exc.DisconnectionError("the server closed this pooled connection")


def writer(engine: AsyncEngine) -> AsyncEngine:
    """The same engine, marked so that its transactions take SQLite's write lock at BEGIN."""
    return engine.execution_options(sqlite_write=True)


def single_reads(engine: AsyncEngine) -> AsyncEngine:
    """The same engine for reads of one statement, which need no transaction around them: on PostgreSQL
    in autocommit, which saves the BEGIN and ROLLBACK round trips. SQLite's reads stay as they are."""
    if engine.dialect.name == "sqlite":
        return engine
    return engine.execution_options(isolation_level="AUTOCOMMIT")

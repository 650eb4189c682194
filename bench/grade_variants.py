"""Scratch experiments for the grade path: the engine proposals, measured on the current bot/ code.

Not product code: wrappers in bench/ only, each measured like bench/grade_path.py (same database, same kind
of jobs, sequential grades, fsrs on every side, interleaved blocks). A variant is `current[/<engine>]`:
the store and service are bot/'s own (SqlStore + StudyService: grade_context, then record_grade); only the
engine under SqlStore changes.

Engines:
- `aiosqlite` (default) the engine of bot/store/engine.py: SQLAlchemy's aiosqlite dialect, three to four
              event-loop <-> thread round trips per statement.
- `thread`    the same store code over a synchronous pysqlite engine (same PRAGMAs and BEGIN IMMEDIATE
              hook), each *store call* run whole on one dedicated worker thread: one round trip per call.
- `inline`    that synchronous engine on the event loop thread: no round trip (the loop blocks meanwhile).

The store variants measured earlier (`scores`, `prebuilt`, `merged`, `once`) emulated changes on the store
of commit f87722e; `scores` and `merged` are now in bot/ (single-row scores upsert, grade_context,
record_grade returning the streak), and were removed here with the others.

Every variant is first checked against bot/ on two copies of a small database (same replies, same rows
written; double clicks and other members' buttons included) before it is timed. `--wal-autocheckpoint 0`
turns SQLite's automatic WAL checkpoint off everywhere (what a checkpoint off the commit path would give).

    .venv/bin/python bench/grade_variants.py [--grades 1000] [--variants current,current/thread,...]
    .venv/bin/python bench/grade_variants.py --wal-autocheckpoint 0
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import random
import shutil
import tempfile
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from build_db import (
    CONTENT,
    BenchClock,
    BenchDb,
    BuildParams,
    add_db_arguments,
    caller_for,
    ensure_db,
    open_service,
    params_from,
    working_copy,
)
from grade_path import (
    DUMPS,
    HEADER,
    BareGrader,
    Job,
    Series,
    _card_ids,
    _jobs,
    bare_grade,
    dump,
    max_ask_id,
    service_grade,
    set_wal_autocheckpoint,
)
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.decks.loader import load_decks
from bot.core.ports import Store
from bot.core.service import StudyService
from bot.store.engine import create_engine
from bot.store.sql_store import SqlStore

# -- a synchronous engine made to look like the AsyncEngine SqlStore expects ----------------------------


def sync_engine(path: str) -> sa.Engine:
    """pysqlite with the set-up of bot/store/engine.py (WAL, foreign keys, BEGIN IMMEDIATE for writers)."""
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL", "busy_timeout=30000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Any) -> None:
        conn.exec_driver_sql(
            "BEGIN IMMEDIATE" if conn.get_execution_options().get("sqlite_write") else "BEGIN"
        )

    return engine


class _InlineConnection:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    async def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        return self._conn.execute(statement, *args, **kwargs)


class InlineEngine:
    """Enough of AsyncEngine for SqlStore, running every statement synchronously on the calling thread."""

    def __init__(self, engine: sa.Engine) -> None:
        self.sync_engine = engine
        self.dialect = engine.dialect

    def execution_options(self, **options: Any) -> InlineEngine:
        return InlineEngine(cast(sa.Engine, self.sync_engine.execution_options(**options)))

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[_InlineConnection]:
        with self.sync_engine.connect() as conn:
            yield _InlineConnection(conn)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[_InlineConnection]:
        with self.sync_engine.begin() as conn:
            yield _InlineConnection(conn)

    async def dispose(self) -> None:
        self.sync_engine.dispose()


class OneHopPerCall:
    """Runs each store call on one worker thread (its own loop, synchronous engine): one hop per call."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.engine = store.engine

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if not inspect.iscoroutinefunction(attr):
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            future = asyncio.run_coroutine_threadsafe(attr(*args, **kwargs), self._loop)
            return await asyncio.wrap_future(future)

        return call

    async def close(self) -> None:
        await self.__getattr__("close")()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()


# -- running the variants -------------------------------------------------------------------------------

STORES: dict[str, tuple[type[SqlStore], type[StudyService]]] = {"current": (SqlStore, StudyService)}
ENGINES = ("aiosqlite", "thread", "inline")
VARIANTS = ("current", "current/thread", "current/inline")


async def make_service(variant: str, db: BenchDb) -> StudyService:
    """`<store>[/<engine>]`; plain `current` is bot/ itself, built by bot.app.build_service."""
    if variant == "current":
        return await open_service(db, BenchClock())
    store_name, _, engine_name = variant.partition("/")
    engine_name = engine_name or "aiosqlite"
    if store_name not in STORES:
        raise SystemExit(f"unknown store {store_name!r}: one of {', '.join(STORES)}")
    store_cls, service_cls = STORES[store_name]
    if engine_name == "aiosqlite":
        engine = create_engine(db.url)
    elif engine_name in ENGINES:
        engine = cast(AsyncEngine, InlineEngine(sync_engine(str(db.path))))
    else:
        raise SystemExit(f"unknown engine {engine_name!r}: one of {', '.join(ENGINES)}")
    store: Any = store_cls(engine)
    if engine_name == "thread":
        store = OneHopPerCall(store)
    service = service_cls(cast(Store, store), BenchClock())
    await service.load_decks(load_decks([CONTENT])[0])  # as bot.app.build_service does
    return service


async def verify(variant: str, jobs: int = 150) -> None:
    """The variant must answer and write exactly as bot/ does: the same job list on two copies of a small
    database, replies compared field by field and the rows written compared table by table."""
    small = await ensure_db(BuildParams(members=500, reviews=5000))
    card_ids = _card_ids(str(small.path))
    with tempfile.TemporaryDirectory() as tmp:
        dumps = []
        replies: list[list[Any]] = []
        for name in ("current", variant):
            path = Path(tmp) / f"{name.replace('/', '-')}.db"
            shutil.copyfile(small.path, path)
            copy = BenchDb(path, small.params, small.revision, built=False, build_seconds=None)
            first_new = max_ask_id(path)
            service = await make_service(name, copy)
            rng = random.Random(3)
            out: list[Any] = []
            try:
                for job in _jobs(rng, 40, card_ids, jobs):  # few members: repeats, streaks, follow-ups
                    ask_id = await service.store.create_ask(
                        job.member_id, job.card_id, "quiz", service.clock.now()
                    )
                    if rng.random() < 0.2:
                        await service.store.set_typed_answer(ask_id, "my answer", service.clock.now())
                    grade = rng.choice(["again", "hard", "good", "easy"])
                    caller = caller_for(job.member_id)
                    out.append(await service.act(caller, f"grade:{ask_id}:{grade}"))
                    if rng.random() < 0.1:  # a double click
                        out.append(await service.act(caller, f"grade:{ask_id}:good"))
                    if rng.random() < 0.05:  # someone else's button
                        out.append(await service.act(caller_for(job.member_id + 1), f"grade:{ask_id}:good"))
                    if rng.random() < 0.3:
                        service.clock.current += timedelta(hours=rng.choice([1, 20, 30, 60]))  # type: ignore[attr-defined]
            finally:
                await service.store.close()  # type: ignore[attr-defined]
            dumps.append(dump(path, first_new))
            replies.append(out)
    for a, b in zip(*replies, strict=True):
        if a != b:
            raise AssertionError(f"{variant} answers differently:\n{a}\n{b}")
    for table in DUMPS:
        if dumps[0][table] != dumps[1][table]:
            raise AssertionError(f"{variant} writes {table} differently")


async def run(args: argparse.Namespace) -> None:
    variants = [v for v in args.variants.split(",") if v and v != "bare"]
    for v in variants:
        if v != "current":
            await verify(v)
    print(f"verified: {', '.join(v for v in variants if v != 'current')} answer and write as bot/ does")
    params = params_from(args)
    cached = await ensure_db(params, args.db, args.rebuild)
    with working_copy(cached) as db:
        await run_on(db, args)


async def run_on(db: BenchDb, args: argparse.Namespace) -> None:
    params = db.params
    card_ids = _card_ids(str(db.path))
    rng = random.Random(args.job_seed)
    variants = [v for v in args.variants.split(",") if v and v != "bare"]
    services = {v: await make_service(v, db) for v in variants}
    bare = BareGrader(str(db.path))
    helper = await open_service(db, BenchClock())  # creates the bare side's asks
    if args.wal_autocheckpoint is not None:
        for svc in [*services.values(), helper]:
            await set_wal_autocheckpoint(svc, bare, args.wal_autocheckpoint)
    results = {v: Series(v) for v in [*variants, "bare"]}

    async def grade(v: str, job: Job, series: Series | None) -> None:
        if v == "bare":
            await bare_grade(helper, bare, job, series)
        else:
            await service_grade(services[v], job, series)

    try:
        for v in results:
            for job in _jobs(rng, params.members, card_ids, args.warmup):
                await grade(v, job, None)
        block = max(1, args.grades // args.rounds)
        for _ in range(args.rounds):
            for v in results:
                for job in _jobs(rng, params.members, card_ids, block):
                    await grade(v, job, results[v])
    finally:
        bare.close()
        await helper.store.close()  # type: ignore[attr-defined]
        for svc in services.values():
            await svc.store.close()  # type: ignore[attr-defined]
    base = results["bare"]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"grade path variants, {len(base.ns):,} grades each, {db.path.name}, load average {load}")
    print(f"{HEADER} {'x bare':>7}")
    for series in results.values():
        print(f"{series.row()} {series.mean_ms / base.mean_ms:>6.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    add_db_arguments(parser)
    parser.add_argument("--grades", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--job-seed", type=int, default=2)
    parser.add_argument("--variants", default=",".join(VARIANTS), help="<store>[/<engine>], comma-separated")
    parser.add_argument(
        "--wal-autocheckpoint",
        type=int,
        default=None,
        help="experiment: PRAGMA wal_autocheckpoint everywhere",
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()

"""The grade path's durability and bounds: on SQLite the WAL stays bounded while grades keep coming (the
checkpointer keeps up with automatic checkpoints off); on PostgreSQL a grade that finds its pooled
connection dropped runs again once, and is counted once, but never after one of its statements ran."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
import sqlalchemy as sa

from bot.bootstrap import open_core
from bot.config import Settings
from bot.core.model import grading as scheduling
from bot.core.model.models import Grade, GradeRecord, Streak
from bot.store import engine as engine_setup
from bot.store import sqlite_lane
from bot.store.db import ConnectionDropped
from bot.store.sql_store import SqlStore
from bot.store.tables import asks, cards, scores
from tests.conftest import CONTENT, FakeClock, member
from tests.db import POSTGRES_ENV, fresh_postgres_database

MEMBERS = 20
GRADES_EACH = 100


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


@pytest.fixture
def pg_url() -> Iterator[str]:
    if not os.environ.get(POSTGRES_ENV):
        pytest.skip("needs PostgreSQL")
    with fresh_postgres_database() as url:
        yield url


def _record(ask_id: int, member_id: int, card_id: int, clock: FakeClock) -> GradeRecord:
    day = clock.now().date()
    return GradeRecord(
        ask_id=ask_id,
        member_id=member_id,
        workspace_id="test:guild-1",
        card_id=card_id,
        grade=Grade.GOOD,
        points=10,
        graded_at=clock.now(),
        new_state=scheduling.review(None, card_id, Grade.GOOD, clock.now()),
        local_day=day,
        week_start=day - timedelta(days=day.weekday()),
        month_start=day.replace(day=1),
        streak_seen=Streak(0, 0, None),
    )


async def test_the_wal_stays_bounded_while_grades_keep_coming(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The bound scaled down, so that a test's worth of grades crosses it several times.
    monkeypatch.setattr(sqlite_lane, "RESTART_PAGES", 300)
    monkeypatch.setattr(sqlite_lane, "WAKE_AFTER_CALLS", 100)
    monkeypatch.setattr(sqlite_lane, "CHECKPOINT_EVERY", 0.05)
    db = tmp_path / "wal.db"
    core = await open_core(
        Settings(database_url=f"sqlite+aiosqlite:///{db}", content_dirs=(CONTENT,)), clock=clock
    )
    store = core.service.store
    try:
        await store.ensure_workspace("test:guild-1", "test")
        ids = [(await store.ensure_member("test:guild-1", f"m{i}", f"m{i}")).id for i in range(MEMBERS)]
        raw = sqlite3.connect(db)
        card_ids = [r[0] for r in raw.execute("SELECT id FROM cards WHERE active = 1 ORDER BY id")]
        # Every member's asks, each on a card of its own (so each grade earns its points), made up front.
        with raw:
            for member_id in ids:
                raw.executemany(
                    "INSERT INTO asks (member_id, workspace_id, card_id, source, created_at)"
                    " VALUES (?, 'test:guild-1', ?, 'quiz', '2026-03-04 12:00:00.000000')",
                    [(member_id, card_ids[n % len(card_ids)]) for n in range(GRADES_EACH)],
                )
        work = {
            m: raw.execute("SELECT id, card_id FROM asks WHERE member_id = ? ORDER BY id", (m,)).fetchall()
            for m in ids
        }
        raw.close()
        wal = Path(f"{db}-wal")
        largest = 0

        async def watch() -> None:
            nonlocal largest
            while True:
                largest = max(largest, _size(wal))
                await asyncio.sleep(0.005)

        async def grade_all(member_id: int) -> int:
            done = 0
            for ask_id, card_id in work[member_id]:
                done += (await store.record_grade(_record(ask_id, member_id, card_id, clock))) is not None
                await asyncio.sleep(0.002)  # a busy bot's pace, not flat out
            return done

        watcher = asyncio.create_task(watch())
        graded = await asyncio.gather(*(grade_all(m) for m in ids))
        watcher.cancel()
        assert sum(graded) == MEMBERS * GRADES_EACH
        lane = store._db.lane  # type: ignore[attr-defined]
        assert lane.checkpointer.restarts >= 1  # the WAL did reach its bound, and started again
        # Unbounded, these 2,000 grades leave a WAL of about 14,000 pages; bounded, the bound plus what
        # comes in while one copy runs (1,000-2,000 pages here; more while the disk stalls).
        page = 4096
        assert largest <= 6000 * page, f"WAL grew to {largest // page} pages"
    finally:
        await core.close()
    assert _size(Path(f"{db}-wal")) == 0  # truncated on close


async def test_a_grade_on_a_dropped_connection_runs_once_more_and_counts_once(
    pg_url: str, clock: FakeClock
) -> None:
    url = pg_url
    if True:
        core = await open_core(Settings(database_url=url, content_dirs=(CONTENT,)), clock=clock)
        store = core.service.store
        try:
            await store.ensure_workspace("test:guild-1", "test")
            alice = await store.ensure_member("test:guild-1", "alice", "alice")
            async with store.engine.connect() as conn:  # type: ignore[attr-defined]
                card_id = (await conn.execute(sa.select(sa.func.min(cards.c.id)))).scalar_one()
            ask_id = await store.create_ask(alice.id, card_id, "quiz", clock.now())
            # The server drops every connection the pool holds (a restart, an idle timeout), and the pool
            # cannot tell at checkout (no FIN seen yet, as behind a proxy): the grade itself finds out.
            sa.event.remove(store.engine.sync_engine, "checkout", engine_setup._drop_if_closed)  # type: ignore[attr-defined]
            admin = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
            try:
                dropped = await admin.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            finally:
                await admin.close()
            assert dropped >= 1
            grading = store._grading  # type: ignore[attr-defined]
            attempts = []
            first_try = grading._record_on_connection

            async def counted(*args: Any) -> Any:
                attempts.append(1)
                return await first_try(*args)

            grading._record_on_connection = counted
            outcome = await store.record_grade(_record(ask_id, alice.id, card_id, clock))
            assert outcome is not None and outcome.points == 10
            assert len(attempts) == 2  # the dropped connection, then a new one
            grading._record_on_connection = first_try
            again = await store.record_grade(_record(ask_id, alice.id, card_id, clock))
            assert again is None  # the ask was graded once: a second grade of it writes nothing
            async with store.engine.connect() as conn:  # type: ignore[attr-defined]
                graded = (
                    await conn.execute(sa.select(sa.func.count()).where(asks.c.graded_at.is_not(None)))
                ).scalar_one()
                points = (
                    await conn.execute(
                        sa.select(sa.func.sum(scores.c.points)).where(scores.c.period == "all")
                    )
                ).scalar_one()
            assert (graded, points) == (1, 10)
        finally:
            await core.close()


class _DropsAfterFirstStatement:
    """An asyncpg connection whose server goes away once the grade's first statement has run."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.statements = 0

    def transaction(self) -> Any:
        return self.real.transaction()

    async def _next(self) -> None:
        self.statements += 1
        if self.statements == 2:
            await self.real.execute("SELECT pg_terminate_backend(pg_backend_pid())")

    async def fetch(self, *args: Any) -> Any:
        await self._next()
        return await self.real.fetch(*args)

    async def execute(self, *args: Any) -> Any:
        await self._next()
        return await self.real.execute(*args)


async def test_a_grade_whose_connection_drops_after_a_statement_ran_is_not_run_again(
    pg_url: str, clock: FakeClock
) -> None:
    core = await open_core(Settings(database_url=pg_url, content_dirs=(CONTENT,)), clock=clock)
    store = core.service.store
    try:
        await store.ensure_workspace("test:guild-1", "test")
        alice = await store.ensure_member("test:guild-1", "alice", "alice")
        async with store.engine.connect() as conn:  # type: ignore[attr-defined]
            card_id = (await conn.execute(sa.select(sa.func.min(cards.c.id)))).scalar_one()
        ask_id = await store.create_ask(alice.id, card_id, "quiz", clock.now())
        db = store._db  # type: ignore[attr-defined]
        real_driver = db.driver
        opened = []

        @contextlib.asynccontextmanager
        async def dropping() -> AsyncIterator[Any]:
            async with real_driver() as driver:
                opened.append(1)
                yield _DropsAfterFirstStatement(driver)

        db.driver = dropping
        with pytest.raises(ConnectionDropped):
            await store.record_grade(_record(ask_id, alice.id, card_id, clock))
        db.driver = real_driver
        assert len(opened) == 1  # the claim had run: a COMMIT might have happened, so no second try
        # It had not: the transaction died with the connection, and the ask can still be graded, once.
        outcome = await store.record_grade(_record(ask_id, alice.id, card_id, clock))
        assert outcome is not None and outcome.points == 10
        async with store.engine.connect() as conn:  # type: ignore[attr-defined]
            points = (
                await conn.execute(sa.select(sa.func.sum(scores.c.points)).where(scores.c.period == "all"))
            ).scalar_one()
        assert points == 10
    finally:
        await core.close()


async def test_a_reader_holding_a_snapshot_never_stalls_grades_and_the_wal_shrinks_after_it_leaves(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_lane, "MAX_RETRY_AFTER", 0.2)  # the back-off scaled down with the test
    # An online backup or a sqlite3 shell holds a read snapshot while grades keep coming and the WAL
    # passes its bound. The lane's own busy timeout is 2 s here: a RESTART waiting that long would show.
    db = tmp_path / "reader.db"
    lane = sqlite_lane.SqliteLane(str(db), busy_timeout=2.0, checkpoint_every=0.02, restart_pages=50)

    def grade(conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t VALUES (randomblob(3000))")
        conn.execute("COMMIT")

    async def grades_for(seconds: float) -> float:
        slowest, end = 0.0, asyncio.get_running_loop().time() + seconds
        while (start := asyncio.get_running_loop().time()) < end:
            await lane.run(grade)
            slowest = max(slowest, asyncio.get_running_loop().time() - start)
            await asyncio.sleep(0.002)
        return slowest

    await lane.run(lambda c: c.execute("CREATE TABLE t (x BLOB)"))
    reader = sqlite3.connect(db, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM t").fetchone()  # holds its snapshot until it ends
        with caplog.at_level("WARNING", logger=sqlite_lane.__name__):
            assert await grades_for(1.0) < 1.0
        assert lane.checkpointer is not None and lane.checkpointer.restarts == 0  # none could finish
        assert len([r for r in caplog.records if "WAL has grown" in r.getMessage()]) == 1
        reader.execute("COMMIT")
        wal = Path(f"{db}-wal")
        grown = _size(wal)
        for _ in range(40):  # the next try comes after the back-off
            await grades_for(0.25)
            if lane.checkpointer.restarts:
                break
        assert lane.checkpointer.restarts >= 1
        for _ in range(200):  # writes have stopped: the WAL file is emptied within a few seconds
            if _size(wal) == 0:
                break
            await asyncio.sleep(0.05)
        assert _size(wal) == 0 < grown
    finally:
        reader.close()
        await lane.close()


async def test_writes_that_stop_just_past_the_bound_leave_an_empty_wal_file(tmp_path: Path) -> None:
    db = tmp_path / "stop.db"
    lane = sqlite_lane.SqliteLane(str(db), checkpoint_every=0.02, restart_pages=50)
    try:
        await lane.run(lambda c: c.execute("CREATE TABLE t (x BLOB)"))
        # One write past the bound, then nothing: the WAL is copied back and started again once, and
        # then, writes having stopped, the file is emptied (not restarted again and again meanwhile).
        await lane.run(lambda c: c.executemany("INSERT INTO t VALUES (randomblob(3000))", [()] * 100))
        wal = Path(f"{db}-wal")
        for _ in range(100):
            if _size(wal) == 0:
                break
            await asyncio.sleep(0.05)
        assert _size(wal) == 0
        assert lane.checkpointer is not None and lane.checkpointer.restarts == 1
    finally:
        await lane.close()


async def test_a_start_up_that_fails_after_the_lane_opened_leaves_no_thread_behind(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Loading the decks finds the database locked (another instance, a backup): the process must still
    # exit, so none of the lane's worker threads (not daemons) may outlive the failed start.
    async def locked(*_args: Any) -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(SqlStore, "sync_decks", locked)
    before = set(threading.enumerate())
    db = tmp_path / "start.db"
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        await open_core(
            Settings(database_url=f"sqlite+aiosqlite:///{db}", content_dirs=(CONTENT,)), clock=clock
        )
    for thread in set(threading.enumerate()) - before:
        if thread.name.startswith("asyncio_"):
            continue  # the loop's default executor: asyncio.run shuts it down
        thread.join(timeout=2)
        assert not thread.is_alive() or thread.daemon, thread
    # And a closed lane is not opened again by a late call.
    lane = sqlite_lane.SqliteLane(str(db))
    await lane.open()
    await lane.close()
    with pytest.raises(sqlite3.ProgrammingError):
        await lane.run(lambda c: c.execute("SELECT 1"))


async def test_after_the_server_dropped_every_connection_quiz_works_first_time(
    pg_url: str, clock: FakeClock
) -> None:
    core = await open_core(Settings(database_url=pg_url, content_dirs=(CONTENT,)), clock=clock)
    try:
        service = core.service
        first = await service.quiz(member("alice"))  # the pool now holds connections
        assert not first.is_error
        # The server restarts (or an admin ends the sessions): every pooled connection is dropped.
        admin = await asyncpg.connect(pg_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            dropped = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await admin.close()
        assert dropped >= 1
        await asyncio.sleep(0.2)  # the bot idles a moment: its connections see the server gone
        card = await service.quiz(member("bob"))
        assert not card.is_error, card.title
        assert card.actions
    finally:
        await core.close()

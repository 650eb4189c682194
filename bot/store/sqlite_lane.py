"""The SQLite grade lane: one aiosqlite connection whose worker thread runs a whole store call (a read, or
a write transaction of several statements) per hand-off, and the WAL checkpointer that keeps checkpoints
off the commit path.

Every connection of the process sets `wal_autocheckpoint=0` (bot/store/engine.py), so no COMMIT pays for a
checkpoint. The checkpointer copies the WAL back in the background on its own connection and thread
(PASSIVE: it never blocks a reader or writer). A WAL only starts again from its beginning when a write
finds it wholly copied back, which a checkpoint running beside a busy writer never sees; so when the WAL
has grown past `restart_pages`, the last few frames are copied on the lane itself, between two grades,
with a RESTART checkpoint, and the next write starts the WAL again. When writes stop, the WAL file is
truncated. Both wait for readers of older snapshots (an online backup, a sqlite3 shell) only briefly, so
grades never stall behind one: a busy try is tried again later, less and less often."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable
from typing import Any, TypeVar

import aiosqlite

T = TypeVar("T")
log = logging.getLogger(__name__)

# How often the background checkpoint runs, and the WAL size (pages) past which the lane finishes a copy
# so the WAL can start again: at ~8 pages a grade, about every 1,200 grades, so that the copy's pause
# (two fsyncs, 3-10 ms on a busy disk) stays out of the p99; the WAL stays under ~50 MB.
CHECKPOINT_EVERY = 0.2
RESTART_PAGES = 10000
# A busy lane wakes the checkpointer after this many calls, rather than let the WAL grow for a whole tick.
WAKE_AFTER_CALLS = 500

# How long a RESTART or TRUNCATE on the lane waits for readers (ms): it holds the write lock meanwhile, so
# every grade and writer waits too. Busy, it is tried again after `every` * 2**n seconds, at most this long.
LANE_CHECKPOINT_BUSY_MS = 20
MAX_RETRY_AFTER = 30.0
# The WAL this many times past `restart_pages`: a reader has held a snapshot for long; said once.
WARN_FACTOR = 4

PRAGMAS = ("foreign_keys=ON", "synchronous=NORMAL", "wal_autocheckpoint=0")


async def _connect(path: str, busy_timeout: float) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None, timeout=busy_timeout)
    await conn.execute("PRAGMA journal_mode=WAL")
    for pragma in (*PRAGMAS, f"busy_timeout={round(busy_timeout * 1000)}"):
        await conn.execute(f"PRAGMA {pragma}")
    return conn


class SqliteLane:
    """Runs functions of a sqlite3 connection in its aiosqlite worker thread: one hand-off per call, however
    many statements the function sends. Calls run one at a time in the order they were made."""

    def __init__(
        self,
        path: str,
        *,
        busy_timeout: float = 30.0,
        checkpoint_every: float | None = None,
        restart_pages: int | None = None,
    ) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self._conn: aiosqlite.Connection | None = None
        self._opening = asyncio.Lock()
        self._calls = 0
        self._closed = False
        self.checkpointer: Checkpointer | None = None
        self._checkpoint_every = CHECKPOINT_EVERY if checkpoint_every is None else checkpoint_every
        self._restart_pages = RESTART_PAGES if restart_pages is None else restart_pages

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._conn or await self.open()
        self._calls += 1
        if self._calls >= WAKE_AFTER_CALLS and self.checkpointer is not None:
            self._calls = 0
            self.checkpointer.wake.set()
        return await in_thread(conn, fn)

    async def open(self) -> aiosqlite.Connection:
        """Connect and start the checkpointer (the store does at start; else the first call does)."""
        async with self._opening:
            if self._closed:  # a late call must not start threads that keep the process from exiting
                raise sqlite3.ProgrammingError("the grade lane is closed")
            if self._conn is None:
                self._conn = await _connect(self.path, self.busy_timeout)
                # What was written before (migrations, another run) is copied back and the WAL emptied.
                with contextlib.suppress(sqlite3.Error):
                    await in_thread(self._conn, _truncate)
                self.checkpointer = Checkpointer(self, self._checkpoint_every, self._restart_pages)
                await self.checkpointer.start()
            return self._conn

    async def close(self) -> None:
        self._closed = True  # no call reopens it (and its threads, which keep a process from exiting)
        if self.checkpointer is not None:
            await self.checkpointer.stop()
            self.checkpointer = None
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with contextlib.suppress(sqlite3.Error):
                await in_thread(conn, _truncate)
            await conn.close()


async def in_thread(conn: aiosqlite.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
    """`fn(the sqlite3 connection)` in the connection's worker thread: one hand-off. aiosqlite has no public
    call for this; `_execute` is what its own methods (execute, commit, create_function...) queue with, and
    tests/integration/test_grade_lane.py pins it."""
    raw = conn._conn  # only touched inside the worker thread
    result: T = await conn._execute(fn, raw)  # type: ignore[no-untyped-call]
    return result


def _checkpoint(conn: sqlite3.Connection, mode: str) -> tuple[int, int, int]:
    """(busy, frames in the WAL, frames copied back) as `PRAGMA wal_checkpoint` reports them."""
    busy, frames, copied = conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
    return int(busy), int(frames), int(copied)


class Checkpointer:
    """Copies the WAL back into the database every `every` seconds on its own connection (PASSIVE), has
    the lane finish the copy when the WAL passes `restart_pages`, and truncates it once writes stop."""

    def __init__(self, lane: SqliteLane, every: float, restart_pages: int) -> None:
        self.lane = lane
        self.every = every
        self.restart_pages = restart_pages
        self._conn: aiosqlite.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self.restarts = 0  # how often the lane finished a copy so the WAL could start again
        self.wake = asyncio.Event()
        self._busy_tries = 0  # lane checkpoints in a row that found a reader in the way
        self._retry_at = 0.0  # (monotonic) no lane checkpoint before this, after a busy one
        self._warned = False

    async def start(self) -> None:
        self._conn = await _connect(self.lane.path, self.lane.busy_timeout)
        await self._conn.execute("PRAGMA busy_timeout=0")  # a checkpoint never waits: it tries again later
        self._task = asyncio.create_task(self._loop(), name="sqlite-checkpointer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def _loop(self) -> None:
        assert self._conn is not None
        conn = self._conn
        last_frames, idle, restarted = -1, 0, -1
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.every)
            self.wake.clear()
            try:
                _busy, frames, _copied = await in_thread(conn, lambda c: _checkpoint(c, "PASSIVE"))
                self._warn_if_large(frames)
                if time.monotonic() < self._retry_at:
                    continue  # a reader was in the way a moment ago
                # Once restarted, the WAL starts again at the next write: until then (writes may have
                # stopped) it is left to the truncation below, not restarted again and again.
                if frames > self.restart_pages and frames != restarted:
                    if self._lane_done(await self.lane.run(_restart)):
                        self.restarts += 1
                        restarted = frames
                    last_frames, idle = -1, 0
                    continue
                idle = idle + 1 if frames == last_frames else 0
                last_frames = frames
                if frames > 0 and idle * self.every >= 1.0:
                    self._lane_done(await self.lane.run(_truncate))
                    last_frames, idle = -1, 0
            except sqlite3.Error as exc:  # a locked or busy database: try again on the next tick
                log.debug("checkpoint skipped: %s", exc)
            except Exception:  # never let the checkpointer die silently
                log.exception("WAL checkpoint failed")

    def _lane_done(self, result: tuple[int, int, int]) -> bool:
        """Whether a RESTART or TRUNCATE on the lane finished; if a reader was in the way, back off."""
        if result[0] == 0:
            self._busy_tries, self._retry_at = 0, 0.0
            return True
        self._busy_tries += 1
        delay = min(MAX_RETRY_AFTER, self.every * 2**self._busy_tries)
        self._retry_at = time.monotonic() + delay
        log.debug("WAL checkpoint on the lane busy (a reader holds a snapshot): next try in %.1f s", delay)
        return False

    def _warn_if_large(self, frames: int) -> None:
        if frames > WARN_FACTOR * self.restart_pages and not self._warned:
            self._warned = True
            log.warning(
                "the WAL has grown to %d pages: a reader (a backup, a sqlite3 shell?) has held a snapshot"
                " for long, so it cannot start again",
                frames,
            )
        elif frames <= self.restart_pages:
            self._warned = False


def _briefly(conn: sqlite3.Connection, mode: str) -> tuple[int, int, int]:
    """A checkpoint that waits for readers only LANE_CHECKPOINT_BUSY_MS: it holds the write lock meanwhile.
    A busy result (a reader still in the way) comes back as busy=1."""
    (previous,) = conn.execute("PRAGMA busy_timeout").fetchone()
    conn.execute(f"PRAGMA busy_timeout={LANE_CHECKPOINT_BUSY_MS}")
    try:
        return _checkpoint(conn, mode)
    finally:
        conn.execute(f"PRAGMA busy_timeout={int(previous)}")


def _truncate(conn: sqlite3.Connection) -> Any:
    """On the lane, once writes have stopped for a second: copy back everything and empty the WAL file."""
    return _briefly(conn, "TRUNCATE")


def _restart(conn: sqlite3.Connection) -> Any:
    """On the lane, between two grades: copy back what the background pass missed and make the next write
    start the WAL again. RESTART holds the write lock while it copies (little: the background pass has
    just run) and waits (briefly) for readers of older snapshots, so it succeeds whatever the process's
    other connections are doing; a PASSIVE copy here would miss whenever another connection was writing."""
    return _briefly(conn, "RESTART")

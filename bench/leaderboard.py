"""Leaderboard at 1M members: top 10 + own rank + team standings, while grades are written, on SQLite and
PostgreSQL.

The database (bench/build_db.py, copied into PostgreSQL by bench/build_pg.py) is taken at Sunday 2026-05-31
12:00 UTC: the last day of a week and of a month, so the week and month boards are at their biggest. Each
run works on a throw-away copy and:

- starts a writer PROCESS that grades through the real StudyService at `--grades-per-second` (default 50)
  on random members, on the same database, for the whole run (its achieved rate is printed);
- opens a fresh service (new engine, empty pool and statement cache) and times its very first
  `/leaderboard` call: the cold call;
- then, in `--rounds` rounds, for week, month and all time, for a caller at the median rank and one at the
  last rank (a DIFFERENT member every round, from the members around the median and from the lowest
  scores), times, interleaved:
  - `service.leaderboard`: the whole command as an adapter calls it (member lookup + the board read);
  - `store.board`: the one board statement through SQLAlchemy (one checkout, one round trip);
  - bare: the same compiled statement on the bare driver (sqlite3 / asyncpg), the floor.

Three runs; per run the median and p99 of each, then min/median/max over the runs. The goal is the
service's figure: <= 5 ms median and <= 10 ms p99 for every period and caller.

    .venv/bin/python bench/leaderboard.py [--databases sqlite,postgres] [--runs 3] [--rounds 200]
        [--grades-per-second 50] [--members 1000000 --reviews 3000000 --now 2026-05-31T12:00:00+00:00]
    (the writer: .venv/bin/python bench/leaderboard.py --writer URL ...; started by the bench itself)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from build_db import (
    CONTENT,
    WORKSPACE_ID,
    BenchClock,
    add_db_arguments,
    caller_for,
    ensure_db,
    params_from,
    working_copy,
)
from build_pg import ensure_pg, working_clone

from bot.bootstrap import build_service
from bot.core.messages import Message
from bot.core.model.models import Period
from bot.core.model.streaks import period_start
from bot.core.services.progress import LEADERBOARD_SIZE
from bot.store.boards import _BOARD

MEDIAN_GOAL_MS = 5.0
P99_GOAL_MS = 10.0
LEADERBOARD_NOW = "2026-05-31T12:00:00+00:00"  # a Sunday, the last day of May
PERIODS = (Period.WEEK, Period.MONTH, Period.ALL)


@dataclass
class Timing:
    ns: list[int] = field(default_factory=list)

    def pct(self, q: float) -> float:
        ordered = sorted(self.ns)
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))] / 1e6


@dataclass(frozen=True)
class Pool:
    period: Period
    start: date
    label: str  # "median" or "last"
    members: list[int]  # different callers, one per round
    rank: int  # the rank of the pool's first member
    ranked: int  # members on the board


def pools(path: str, now: datetime, rounds: int) -> list[Pool]:
    """Callers around the median rank and at the bottom of each board (none of them in the top 10)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    found = []
    try:
        for period in PERIODS:
            start = period_start(period, now.date())
            ids = [
                r[0]
                for r in conn.execute(
                    "SELECT member_id FROM scores WHERE workspace_id = ? AND period = ? AND period_start = ?"
                    " AND points > 0 ORDER BY points DESC, member_id",
                    (WORKSPACE_ID, period.value, start.isoformat()),
                )
            ]
            middle = max(LEADERBOARD_SIZE, len(ids) // 2 - rounds // 2)
            found.append(Pool(period, start, "median", ids[middle : middle + rounds], middle + 1, len(ids)))
            last = ids[-rounds:]
            found.append(Pool(period, start, "last", last[::-1], len(ids), len(ids)))
    finally:
        conn.close()
    return found


def _board_params(period: Period, start: date, member_id: int) -> dict[str, Any]:
    return {
        "b_workspace": WORKSPACE_ID,
        "b_period": period.value,
        "b_start": start,
        "b_member": member_id,
        "b_limit": LEADERBOARD_SIZE,
    }


class Bare:
    """The board statement, compiled once by SQLAlchemy for the dialect, on the bare driver."""

    def __init__(self, dialect: Any, pg: asyncpg.Connection | None, sqlite_path: str | None) -> None:
        self.compiled = _BOARD.compile(dialect=dialect)
        self.sql = str(self.compiled)
        self.pg = pg
        self.lite: sqlite3.Connection | None = None
        if sqlite_path is not None:
            self.lite = sqlite3.connect(sqlite_path, isolation_level=None)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000"):
                self.lite.execute(f"PRAGMA {pragma}")

    def _positional(self, period: Period, start: date, member_id: int) -> list[Any]:
        values = self.compiled.construct_params(_board_params(period, start, member_id))
        assert self.compiled.positiontup is not None
        row = [values[name] for name in self.compiled.positiontup]
        return [v.isoformat() if self.lite is not None and isinstance(v, date) else v for v in row]

    async def board(self, period: Period, start: date, member_id: int) -> int:
        params = self._positional(period, start, member_id)
        if self.lite is not None:
            return len(self.lite.execute(self.sql, params).fetchall())
        assert self.pg is not None
        return len(await self.pg.fetch(self.sql, *params))

    async def close(self) -> None:
        if self.lite is not None:
            self.lite.close()
        if self.pg is not None:
            await self.pg.close()


def start_writer(url: str, args: argparse.Namespace, out: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        __file__,
        "--writer",
        url,
        "--grades-per-second",
        str(args.grades_per_second),
        "--members",
        str(args.members),
        "--now",
        args.now,
    ]
    return subprocess.Popen(command, stdout=out.open("wb"), stderr=subprocess.STDOUT)


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def stop_writer(process: subprocess.Popen[bytes], out: Path) -> str:
    """Stop the writer; its last line (grades written and the rate achieved)."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    lines = _read(out).strip().splitlines()
    out.unlink(missing_ok=True)
    return lines[-1] if lines else "?"


async def writer(url: str, rate: float, members: int, now: datetime, workers: int = 4) -> None:
    """Grades through the real service at `rate` a second (quiz, then Good on a fresh ask, random members),
    on `workers` concurrent tasks so one slow grade does not lower the rate, until SIGINT."""
    service = await build_service(url, [CONTENT], clock=BenchClock(now))
    store: Any = service.store
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop.set)
    rng = random.Random(os.getpid())
    slots = iter(range(10**9))
    counts = {"done": 0, "late": 0}
    started = time.perf_counter()

    async def grade_forever() -> None:
        while not stop.is_set():
            wait = started + next(slots) / rate - time.perf_counter()
            if wait > 0:
                try:
                    await asyncio.wait_for(stop.wait(), wait)
                    return
                except TimeoutError:
                    pass
            elif wait < -0.1:
                counts["late"] += 1  # started more than 100 ms after its slot
            caller = caller_for(rng.randint(1, members))
            question = await service.quiz(caller)
            if not question.actions:
                continue
            ask = question.actions[0].id.split(":")[1]
            reply = await service.act(caller, f"grade:{ask}:good")
            if not isinstance(reply, Message) or reply.is_error:
                raise RuntimeError(f"grade failed: {reply}")
            counts["done"] += 1

    print("writer ready", flush=True)
    try:
        await asyncio.gather(*(grade_forever() for _ in range(workers)))
    finally:
        elapsed = time.perf_counter() - started
        await store.close()
        done, late = counts["done"], counts["late"]
        print(f"writer: {done} grades in {elapsed:.1f} s = {done / elapsed:.1f}/s ({late} over 100 ms late)")


@dataclass
class RunResult:
    cold_ms: float
    timings: dict[tuple[str, str, str], Timing]  # (what, period, label)
    writer: str
    load: float


async def one_run(
    kind: str, url: str, sqlite_path: str | None, pool_list: list[Pool], args: argparse.Namespace
) -> RunResult:
    out = Path(f"/tmp/studybot-bench-writer-{os.getpid()}.log")
    process = start_writer(url, args, out)
    try:
        # Wait until the writer is grading: its first line.
        deadline = time.perf_counter() + 120
        while time.perf_counter() < deadline and "writer ready" not in _read(out):
            if process.poll() is not None:
                raise RuntimeError(f"writer ended: {_read(out)}")
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)
        service = await build_service(url, [CONTENT], clock=BenchClock(args.moment))
        store: Any = service.store
        pg = (
            await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
            if kind == "postgres"
            else None
        )
        bare = Bare(store.engine.dialect, pg, sqlite_path)
        try:
            first = pool_list[0]
            started = time.perf_counter_ns()
            await service.leaderboard(caller_for(first.members[0]), first.period.value)
            cold_ms = (time.perf_counter_ns() - started) / 1e6
            # Each path's answer agrees with the others' once, before anything is timed.
            for pool in pool_list:
                member = pool.members[-1]
                board = await store.board(WORKSPACE_ID, member, pool.period, pool.start, LEADERBOARD_SIZE)
                assert board.mine is not None and board.mine.rank > LEADERBOARD_SIZE, (pool.label, board.mine)
                expected = len(board.top) + 1 + len(board.teams)
                assert await bare.board(pool.period, pool.start, member) == expected
            timings: dict[tuple[str, str, str], Timing] = {}
            calls: list[tuple[tuple[str, str, str], Callable[[int], Awaitable[Any]]]] = []
            for pool in pool_list:
                p, s = pool.period, pool.start
                calls += [
                    (
                        ("service", p.value, pool.label),
                        lambda m, p=p: service.leaderboard(caller_for(m), p.value),
                    ),
                    (
                        ("store.board", p.value, pool.label),
                        lambda m, p=p, s=s: store.board(WORKSPACE_ID, m, p, s, LEADERBOARD_SIZE),
                    ),
                    (("bare", p.value, pool.label), lambda m, p=p, s=s: bare.board(p, s, m)),
                ]
            for key, _call in calls:
                timings[key] = Timing()
            load = os.getloadavg()[0]
            for round_no in range(args.rounds):
                for pool in pool_list:
                    member = pool.members[round_no % len(pool.members)]
                    for key, call in calls:
                        if key[1] != pool.period.value or key[2] != pool.label:
                            continue
                        started = time.perf_counter_ns()
                        await call(member)
                        timings[key].ns.append(time.perf_counter_ns() - started)
            load = max(load, os.getloadavg()[0])
        finally:
            await bare.close()
            await store.close()
    finally:
        summary = stop_writer(process, out)
    return RunResult(cold_ms, timings, summary, load)


def report(kind: str, runs: list[RunResult], pool_list: list[Pool]) -> None:
    print(f"\n== {kind}: {len(runs)} runs; per run median / p99 ms; then min-median-max over the runs")
    for n, r in enumerate(runs, 1):
        print(f"run {n}: cold first call {r.cold_ms:.1f} ms; {r.writer}; load average {r.load:.2f}")
    header = f"{'':<44}" + "".join(f"{'run ' + str(n):>16}" for n in range(1, len(runs) + 1))
    print(header + f"{'median: min/med/max':>24}{'p99: min/med/max':>24}")
    worst_median = worst_p99 = 0.0
    for pool in pool_list:
        for what in ("service", "store.board", "bare"):
            key = (what, pool.period.value, pool.label)
            medians = [r.timings[key].pct(0.5) for r in runs]
            p99s = [r.timings[key].pct(0.99) for r in runs]
            tag = f"{what} {pool.period.value} {pool.label} (rank {pool.rank:,}/{pool.ranked:,})"
            cells = "".join(f"{m:>8.2f}/{p:<7.2f}" for m, p in zip(medians, p99s, strict=True))
            spread = lambda v: f"{min(v):.2f}/{statistics.median(v):.2f}/{max(v):.2f}"  # noqa: E731
            print(f"{tag:<44}{cells}{spread(medians):>24}{spread(p99s):>24}")
            if what == "service":
                worst_median = max(worst_median, statistics.median(medians))
                worst_p99 = max(worst_p99, statistics.median(p99s))
    verdict = "met" if worst_median <= MEDIAN_GOAL_MS and worst_p99 <= P99_GOAL_MS else "MISSED"
    print(
        f"goal service.leaderboard <= {MEDIAN_GOAL_MS:.0f} ms median, <= {P99_GOAL_MS:.0f} ms p99 ({kind}): "
        f"{verdict} (worst median {worst_median:.2f} ms, worst p99 {worst_p99:.2f} ms)"
    )


async def run(args: argparse.Namespace) -> None:
    params = params_from(args)
    db = await ensure_db(params, args.db, args.rebuild)
    built = f"built in {db.build_seconds:.0f} s" if db.built else "cached"
    print(f"database: {db.path.name} ({built}; {params.members:,} members, {params.reviews:,} reviews)")
    pool_list = pools(str(db.path), params.moment, args.rounds)
    for pool in pool_list:
        print(
            f"  {pool.period.value:<5} board: {pool.ranked:,} members;"
            f" {pool.label} callers from rank {pool.rank:,}"
        )
    for kind in args.databases.split(","):
        runs: list[RunResult] = []
        for _ in range(args.runs):
            if kind == "sqlite":
                with working_copy(db) as copy:
                    runs.append(await one_run(kind, copy.url, str(copy.path), pool_list, args))
            else:
                name, seconds = await ensure_pg(db)
                if seconds is not None:
                    print(f"postgres copy {name} built in {seconds:.0f} s")
                async with working_clone(name) as url:
                    runs.append(await one_run(kind, url, None, pool_list, args))
        report(kind, runs, pool_list)
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    add_db_arguments(parser)
    parser.set_defaults(members=1_000_000, reviews=3_000_000, now=LEADERBOARD_NOW)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--grades-per-second", type=float, default=50.0)
    parser.add_argument("--writer", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.moment = datetime.fromisoformat(args.now)
    if args.writer:
        asyncio.run(
            writer(args.writer, args.grades_per_second, args.members, args.moment + timedelta(seconds=1))
        )
        return
    asyncio.run(run(args))


if __name__ == "__main__":
    main()

"""Sustained load: 100 members grading at once for 60 s on one instance (SQLite, the default database).

On a throw-away copy of the cached benchmark database (bench/build_db.py), each of 100 random members gets
enough open asks made up front (bare sqlite3, outside the clock), then all 100 grade them at once for
`--seconds`, each `await service.act(caller, "grade:<ask>:good")`:

- paced (default, `--rate 1000`): each member's grades fall due every 100 ms from a random phase, 1,000
  grades/s offered in all; a grade's latency runs from when it fell due (so a stall counts against every
  grade it held back, not only the one it hit);
- flat out (`--rate 0`): each member grades again as soon as the previous grade is answered; grades/s is
  then the instance's capacity, and latency is mostly queueing (100 in flight / grades/s).
 Reported: grades/s, the grade latency's p50/p99/max while it runs, the WAL file's largest size,
and from the rows at the end: 0 lost (every grade answered as recorded is in `asks`) and 0 doubled (the
members' all-time `reviews` grew by exactly the number of graded asks).

    .venv/bin/python bench/sustained.py [--seconds 60] [--graders 100] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from build_db import (
    NOW,
    WORKSPACE_ID,
    BenchClock,
    BenchDb,
    add_db_arguments,
    caller_for,
    ensure_db,
    open_service,
    params_from,
    working_copy,
)
from grade_path import _card_ids, _sqlite_stamp

from bot.core.messages import Message

TARGET_RATE, TARGET_P99_MS = 1000.0, 20.0
ASKS_PER_MEMBER_SECOND = 40  # open asks made per member per second of the run: far more than they grade


@dataclass
class Result:
    grades: int
    seconds: float
    latencies_ns: list[int]
    wal_bytes: int
    lost: int
    doubled: int
    ran_out: int
    load: tuple[float, float, float]

    def pct_ms(self, q: float) -> float:
        ordered = sorted(self.latencies_ns)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6

    window: float = 0.0  # paced: the seconds in which grades fell due

    @property
    def rate(self) -> float:
        # Paced, every grade that fell due in the window was answered (else the run reports it): the rate
        # is the grades of the window over the window, not over the window plus the last answers' time.
        return self.grades / (self.window or self.seconds)


def make_asks(path: Path, members: list[int], per_member: int, card_ids: list[int]) -> dict[int, list[int]]:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        first = conn.execute("SELECT coalesce(max(id), 0) FROM asks").fetchone()[0]
        created = _sqlite_stamp(NOW)
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO asks (member_id, workspace_id, card_id, source, created_at)"
            " VALUES (?, ?, ?, 'quiz', ?)",
            [
                (m, WORKSPACE_ID, card_ids[n % len(card_ids)], created)
                for m in members
                for n in range(per_member)
            ],
        )
        conn.execute("COMMIT")
        asks: dict[int, list[int]] = {m: [] for m in members}
        for ask_id, member_id in conn.execute(
            "SELECT id, member_id FROM asks WHERE id > ? ORDER BY id", (first,)
        ):
            asks[member_id].append(ask_id)
        return asks
    finally:
        conn.close()


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def reviews_of(path: Path, members: list[int]) -> int:
    conn = sqlite3.connect(path)
    try:
        marks = ",".join("?" * len(members))
        sql = f"SELECT coalesce(sum(reviews), 0) FROM scores WHERE period = 'all' AND member_id IN ({marks})"
        return int(conn.execute(sql, members).fetchone()[0])
    finally:
        conn.close()


def graded_of(path: Path, ask_ids: list[int]) -> set[int]:
    conn = sqlite3.connect(path)
    try:
        conn.execute("CREATE TEMP TABLE mine (id INTEGER PRIMARY KEY)")
        conn.executemany("INSERT INTO mine VALUES (?)", [(a,) for a in ask_ids])
        rows = conn.execute(
            "SELECT asks.id FROM asks JOIN mine ON mine.id = asks.id WHERE graded_at IS NOT NULL"
        )
        return {r[0] for r in rows}
    finally:
        conn.close()


async def one_run(db: BenchDb, args: argparse.Namespace, seed: int) -> Result:
    rng = random.Random(seed)
    members = rng.sample(range(1, db.params.members + 1), args.graders)
    card_ids = _card_ids(str(db.path))
    asks = make_asks(db.path, members, int(ASKS_PER_MEMBER_SECOND * args.seconds) + 10, card_ids)
    before = reviews_of(db.path, members)
    service = await open_service(db, BenchClock())
    wal = Path(f"{db.path}-wal")
    answered: list[int] = []
    latencies: list[int] = []
    ran_out = 0
    stop_at = 0.0
    largest_wal = 0

    interval = args.graders / args.rate if args.rate else 0.0  # seconds between one member's grades

    async def member(member_id: int) -> None:
        nonlocal ran_out
        caller = caller_for(member_id)
        # Paced: each member's grades fall due every `interval` from a random phase, and a grade's time
        # runs from when it fell due, so a stall also counts against the grades it held back.
        due = time.perf_counter_ns() + int(rng.random() * interval * 1e9)
        for ask_id in asks[member_id]:
            if interval:
                delay = (due - time.perf_counter_ns()) / 1e9
                if delay > 0:
                    await asyncio.sleep(delay)
            if time.perf_counter() >= stop_at:
                return
            started = due if interval else time.perf_counter_ns()
            reply = await service.act(caller, f"grade:{ask_id}:good")
            latencies.append(time.perf_counter_ns() - started)
            due += int(interval * 1e9)
            if not isinstance(reply, Message) or reply.is_error:
                raise RuntimeError(f"grading ask {ask_id} failed: {reply}")
            answered.append(ask_id)
        ran_out += 1

    async def watch_wal() -> None:
        nonlocal largest_wal
        while True:
            largest_wal = max(largest_wal, _size(wal))
            await asyncio.sleep(0.1)

    try:
        watcher = asyncio.create_task(watch_wal())
        started = time.perf_counter()
        stop_at = started + args.seconds
        await asyncio.gather(*(member(m) for m in members))
        elapsed = time.perf_counter() - started
        watcher.cancel()
        load = os.getloadavg()
    finally:
        await service.store.close()  # type: ignore[attr-defined]
    graded = graded_of(db.path, [a for m in members for a in asks[m]])
    lost = len(set(answered) - graded)
    doubled = (reviews_of(db.path, members) - before) - len(graded)
    window = args.seconds if interval else 0.0
    return Result(len(answered), elapsed, latencies, largest_wal, lost, doubled, ran_out, load, window)


async def run(args: argparse.Namespace) -> int:
    cached = await ensure_db(params_from(args), args.db, args.rebuild)
    pace = (
        f"each every {args.graders / args.rate * 1000:.0f} ms ({args.rate:,.0f}/s offered)"
        if args.rate
        else "flat out"
    )
    print(f"database: {cached.path.name} ({cached.params.members:,} members)")
    print(f"{args.graders} members grading at once, {pace}, for {args.seconds:.0f} s a run")
    results = []
    for i in range(args.runs):
        with working_copy(cached) as db:
            r = await one_run(db, args, seed=i + 1)
        results.append(r)
        load = ", ".join(f"{x:.2f}" for x in r.load)
        print(
            f"run {i + 1}: {r.grades:,} grades answered in {r.seconds:.1f} s, {r.rate:,.0f} grades/s;"
            f" grade p50 {r.pct_ms(0.5):.2f} ms, p99 {r.pct_ms(0.99):.2f} ms,"
            f" max {max(r.latencies_ns) / 1e6:.1f} ms;"
            f" WAL at most {r.wal_bytes / 2**20:.1f} MiB; lost {r.lost}, doubled {r.doubled}"
            f"{f', {r.ran_out} members ran out of asks' if r.ran_out else ''}; load average {load}"
        )

    def spread(values: list[float], fmt: str) -> str:
        return " / ".join(format(v, fmt) for v in (min(values), statistics.median(values), max(values)))

    rates = [r.rate for r in results]
    p99s = [r.pct_ms(0.99) for r in results]
    print(f"over {len(results)} runs, min / median / max:")
    print(f"  grades/s  {spread(rates, ',.0f')}")
    print(f"  p99 ms    {spread(p99s, '.2f')}")
    print(f"  lost {sum(r.lost for r in results)}, doubled {sum(r.doubled for r in results)}")
    rate, p99 = statistics.median(rates), statistics.median(p99s)
    if args.rate:  # paced, the rate is the offered one: the capacity is the flat-out run's (--rate 0)
        print(f"paced at {args.rate:,.0f} grades/s offered: answered {rate:,.0f}/s (capacity: --rate 0)")
    else:
        print(
            f"goal >= {TARGET_RATE:,.0f} grades/s: {'met' if rate >= TARGET_RATE else 'MISSED'} ({rate:,.0f})"
        )
    print(f"goal p99 <= {TARGET_P99_MS:.0f} ms: {'met' if p99 <= TARGET_P99_MS else 'MISSED'} ({p99:.2f} ms)")
    ok = all(r.lost == 0 and r.doubled == 0 for r in results)
    print(f"goal 0 lost, 0 doubled: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    add_db_arguments(parser)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--graders", type=int, default=100, help="members grading at once")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--rate", type=float, default=1000.0, help="grades/s offered in all (paced); 0: every member flat out"
    )
    args = parser.parse_args()
    raise SystemExit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()

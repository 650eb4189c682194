"""Leaderboard: top 10 plus the caller's own rank, this week and all time, on the benchmark database.

Times `StudyService.leaderboard(caller, period)` for callers who are NOT in the top 10 (one at the median
rank, one at the last rank: the own-rank count is longest for them), then each store query on its own,
then the same SQL in bare sqlite3 (the floor), and the service over the one-round-trip-per-store-call
engine of bench/grade_variants.py. Team standings read the `team_scores` running totals (migration
0004). Measurements are interleaved, one call of each per round.

    .venv/bin/python bench/leaderboard.py [--iterations 300] [--members 100000 --reviews 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

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
from grade_variants import make_service

from bot.core.model.models import Caller, Period
from bot.core.model.streaks import period_start
from bot.core.services.progress import LEADERBOARD_SIZE

TARGET_MEDIAN_MS = 10.0

# The statements SqlStore sends for one /leaderboard (captured with a before_cursor_execute hook).
BOARD_WHERE = "scores.workspace_id = ? AND scores.period = ? AND scores.period_start = ?"
BARE_SQL = {
    "workspace": "SELECT workspaces.timezone FROM workspaces WHERE workspaces.id = ?",
    "member": (
        "SELECT members.id, members.workspace_id, members.user_ref, members.display_name, members.timezone,"
        " members.team_id, members.streak_current, members.streak_best, members.last_study_day,"
        " members.created_at FROM members WHERE members.workspace_id = ? AND members.user_ref = ?"
    ),
    "top": (
        "SELECT scores.member_id, scores.points, members.display_name, members.user_ref,"
        " members.streak_current, members.last_study_day"
        " FROM scores JOIN members ON members.id = scores.member_id"
        f" WHERE {BOARD_WHERE} AND scores.points > ?"
        " ORDER BY scores.points DESC, scores.member_id LIMIT ? OFFSET ?"
    ),
    "mine": (
        "SELECT scores.points, members.display_name, members.user_ref, members.streak_current,"
        " members.last_study_day FROM scores JOIN members ON members.id = scores.member_id"
        f" WHERE {BOARD_WHERE} AND scores.member_id = ?"
    ),
    "ahead": f"SELECT count(*) AS count_1 FROM scores WHERE {BOARD_WHERE} AND scores.points > ?",
    # Team standings from the running totals of migration 0004 (SqlStore.team_standings).
    "teams": (
        "SELECT teams.id, teams.name, coalesce(team_scores.points, ?) AS points,"
        " coalesce(team_scores.active, ?) AS active FROM teams LEFT OUTER JOIN team_scores"
        " ON team_scores.team_id = teams.id AND team_scores.period = ? AND team_scores.period_start = ?"
        " WHERE teams.workspace_id = ? AND (EXISTS (SELECT * FROM members WHERE members.team_id = teams.id))"
    ),
}


@dataclass
class Timing:
    name: str
    ns: list[int] = field(default_factory=list)

    def pct(self, q: float) -> float:
        ordered = sorted(self.ns)
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))] / 1e6


@dataclass(frozen=True)
class Subject:
    period: Period
    start: date
    label: str  # "median" or "last"
    member_id: int
    rank: int
    ranked: int  # members on this board


def pick_subjects(path: str) -> list[Subject]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    subjects = []
    try:
        for period in (Period.WEEK, Period.ALL):
            start = period_start(period, NOW.date())
            ids = [
                r[0]
                for r in conn.execute(
                    f"SELECT member_id FROM scores WHERE {BOARD_WHERE} AND points > 0"
                    " ORDER BY points DESC, member_id",
                    (WORKSPACE_ID, period.value, start.isoformat()),
                )
            ]
            for label, index in (("median", len(ids) // 2), ("last", len(ids) - 1)):
                subjects.append(Subject(period, start, label, ids[index], index + 1, len(ids)))
    finally:
        conn.close()
    return subjects


def _team_params(period: Period, start: date) -> tuple[Any, ...]:
    return (0, 0, period.value, start.isoformat(), WORKSPACE_ID)


class Bare:
    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL", "busy_timeout=30000"):
            self.conn.execute(f"PRAGMA {pragma}")

    def leaderboard(self, s: Subject) -> None:
        """What the service's /leaderboard runs, as SqlStore does: each query its own read transaction."""
        c = self.conn
        board = (WORKSPACE_ID, s.period.value, s.start.isoformat())
        queries: list[tuple[str, tuple[Any, ...]]] = [
            ("workspace", (WORKSPACE_ID,)),
            ("member", (WORKSPACE_ID, f"u{s.member_id}")),
            ("top", (*board, 0, LEADERBOARD_SIZE, 0)),
        ]
        for name, params in queries:
            c.execute("BEGIN")
            c.execute(BARE_SQL[name], params).fetchall()
            c.execute("ROLLBACK")
        c.execute("BEGIN")
        (points, *_rest) = c.execute(BARE_SQL["mine"], (*board, s.member_id)).fetchone()
        c.execute(BARE_SQL["ahead"], (*board, points)).fetchone()
        c.execute("ROLLBACK")
        c.execute("BEGIN")
        c.execute(BARE_SQL["teams"], _team_params(s.period, s.start)).fetchall()
        c.execute("ROLLBACK")

    def one(self, name: str, params: tuple[Any, ...]) -> None:
        self.conn.execute(BARE_SQL[name], params).fetchall()


async def run(args: argparse.Namespace) -> None:
    params = params_from(args)
    cached = await ensure_db(params, args.db, args.rebuild)
    with working_copy(cached) as db:
        await run_on(db, args)


async def run_on(db: BenchDb, args: argparse.Namespace) -> None:
    params = db.params
    built = f"built in {db.build_seconds:.1f} s" if db.built else "cached"
    print(f"database: {db.path.name} ({built}; {params.members:,} members, {params.reviews:,} reviews)")
    service = await open_service(db, BenchClock())
    store: Any = service.store
    # The same service over the one-round-trip-per-store-call engine proposed in bench/grade_variants.py.
    threaded = await make_service("current/thread", db)
    bare = Bare(str(db.path))
    subjects = pick_subjects(str(db.path))
    timed: list[tuple[Timing, Callable[..., Awaitable[Any]], tuple[Any, ...]]] = []

    def add(name: str, call: Callable[..., Awaitable[Any]], *args: Any) -> None:
        timed.append((Timing(name), call, args))

    for s in subjects:
        caller = caller_for(s.member_id)
        mine = await store.member_rank(WORKSPACE_ID, s.member_id, s.period, s.start)
        top = await store.leaderboard(WORKSPACE_ID, s.period, s.start, LEADERBOARD_SIZE)
        assert mine is not None and mine.rank > LEADERBOARD_SIZE
        assert all(r.member_id != s.member_id for r in top)
        tag = f"{s.period.value}, caller rank {s.rank:,}/{s.ranked:,}"
        board = (WORKSPACE_ID, s.period.value, s.start.isoformat())
        add(f"service.leaderboard [{tag}]", service.leaderboard, caller, s.period.value)
        add(f"  service.leaderboard, thread engine [{tag}]", threaded.leaderboard, caller, s.period.value)
        add(
            f"  store.member_rank [{tag}]",
            store.member_rank,
            WORKSPACE_ID,
            s.member_id,
            s.period,
            s.start,
        )
        add(f"  bare: whole leaderboard [{tag}]", _sync, bare.leaderboard, s)
        add(f"  bare: own rank count [{tag}]", _sync, bare.one, "ahead", (*board, mine.points))
        if s.label == "median":
            period = s.period.value
            add(
                f"  store.leaderboard top 10 [{period}]",
                store.leaderboard,
                WORKSPACE_ID,
                s.period,
                s.start,
                LEADERBOARD_SIZE,
            )
            add(
                f"  store.team_standings [{period}]",
                store.team_standings,
                WORKSPACE_ID,
                s.period,
                s.start,
            )
            add(
                f"  bare: team standings [{period}]",
                _sync,
                bare.one,
                "teams",
                _team_params(s.period, s.start),
            )
            add("  store.ensure_workspace+ensure_member", _who, store, caller)
    try:
        for _ in range(args.warmup):
            for _timing, call, call_args in timed:
                await call(*call_args)
        for _ in range(args.iterations):
            for timing, call, call_args in timed:
                started = time.perf_counter_ns()
                await call(*call_args)
                timing.ns.append(time.perf_counter_ns() - started)
    finally:
        bare.conn.close()
        await store.close()
        await threaded.store.close()  # type: ignore[attr-defined]

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nleaderboard, {args.iterations} interleaved rounds, load average {load}")
    print(f"{'':<72} {'median ms':>9} {'p99 ms':>8}")
    for timing, _call, _args in timed:
        print(f"{timing.name:<72} {timing.pct(0.5):>9.2f} {timing.pct(0.99):>8.2f}")
    for label, prefix in (
        ("", "service.leaderboard ["),
        (", thread engine", "  service.leaderboard, thread"),
    ):
        worst = max(t.pct(0.5) for t, _, _ in timed if t.name.startswith(prefix))
        verdict = "met" if worst <= TARGET_MEDIAN_MS else "MISSED"
        target = f"target service.leaderboard median <= {TARGET_MEDIAN_MS:.0f} ms{label}"
        print(f"{target}: {verdict} (worst {worst:.2f} ms)")


async def _who(store: Any, caller: Caller) -> None:
    await store.ensure_workspace(caller.workspace_id, caller.platform)
    await store.ensure_member(caller.workspace_id, caller.user_ref, caller.display_name)


async def _sync(fn: Callable[..., Any], *args: Any) -> None:
    fn(*args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    add_db_arguments(parser)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()

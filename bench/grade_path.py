"""Grade path: one self-grade through StudyService against the same statements sent bare, on SQLite and on
PostgreSQL, per-grade median and p99 from the same run, three runs.

On the cached benchmark database (bench/build_db.py: 100,000 members, 1,000,000 reviews by default; for
PostgreSQL the same rows copied into a throw-away database):

- service: `await service.act(caller, "grade:<ask>:good")`, the path a Discord/Slack button click takes
  (SqlStore through the real composition root: on SQLite the grade lane, bot/store/sqlite_lane.py; on
  PostgreSQL SQLAlchemy over asyncpg);
- bare: the statements the store sends for that grade, taken from the store itself (bot/store/asks.py's
  grade read and bot/store/grading.py's `grade_statements`, compiled for the dialect), in the same order and
  the same transactions, with parameters formatted by hand: sqlite3 on one connection with the same PRAGMAs
  (automatic checkpoints off, as the service's), or one asyncpg connection with prepared statements.

Both sides run the real fsrs computation and the same points/day arithmetic; only the service builds its
reply. Each grade is on a fresh ask created by store.create_ask outside the timed region, for a random member
and card; the two sides alternate in blocks. Before timing, both sides grade the same jobs on two copies of
a small SQLite database and must leave identical rows.

    .venv/bin/python bench/grade_path.py [--grades 2000] [--runs 3] [--databases sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Generator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import sqlalchemy as sa
from build_db import (
    WORKSPACE_ID,
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
from sqlalchemy.engine import Dialect

from bot.bootstrap import build_service, open_engine
from bot.core.messages import Message
from bot.core.model import grading
from bot.core.model.grading import points_for
from bot.core.model.models import ALL_TIME_START, CardState, Grade, Period, Streak
from bot.core.model.streaks import extend_streak, local_day, period_start, zone
from bot.core.model.team_activity import becomes_active
from bot.core.service import StudyService
from bot.store import sqlite_lane
from bot.store.asks import _GRADE_CONTEXT
from bot.store.db import Db
from bot.store.grading import grade_statements
from bot.store.migrate import upgrade
from bot.store.tables import UTCDateTime, metadata

SQLITE_RATIO, SQLITE_P99_MS = 2.0, 3.0
PG_RATIO, PG_P99_MS = 1.5, 5.0
PG_SERVER = os.environ.get("STUDYBOT_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

# Column positions in a grade-read row, by label (a_ ask, c_ card, w_ workspace, m_ member, s_ state,
# f_ follow-up, fs_ its state).
POS = {c.key: i for i, c in enumerate(_GRADE_CONTEXT.selected_columns)}


def col(row: Sequence[Any], name: str) -> Any:
    return row[POS[name]]


@dataclass(frozen=True)
class Sql:
    """A store statement compiled for one dialect: its text, and the names of its parameters in order."""

    text: str
    order: tuple[str, ...]
    defaults: dict[str, Any]

    @classmethod
    def of(cls, statement: Any, dialect: Dialect) -> Sql:
        compiled = statement.compile(dialect=dialect)
        names = compiled.positiontup or []
        if dialect.name == "postgresql":  # $n parameters: each name once, in order of first use
            names = list(dict.fromkeys(names))
        return cls(compiled.string, tuple(names), {k: b.value for k, b in compiled.binds.items()})

    def args(self, values: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(values[k] if k in values else self.defaults[k] for k in self.order)


def store_sql(dialect: Dialect, engine: Any) -> dict[str, Sql]:
    """The store's own statements: the grade read and every statement a grade may send."""
    statements = {"grade_context": _GRADE_CONTEXT, **grade_statements(Db(engine))}
    return {name: Sql.of(s, dialect) for name, s in statements.items()}


# -- the bare grade: hand-formatted values, the store's statements ---------------------------------------


@dataclass(frozen=True)
class Formats:
    """How values go to and come from the database: SQLite keeps text, asyncpg native naive UTC."""

    stamp: Callable[[datetime], Any]
    day: Callable[[date], Any]
    read_stamp: Callable[[Any], datetime | None]
    read_day: Callable[[Any], date | None]


def _sqlite_stamp(moment: datetime) -> str:
    m = moment.astimezone(UTC)
    return f"{m:%Y-%m-%d %H:%M:%S}.{m.microsecond:06d}"


SQLITE_FORMATS = Formats(
    stamp=_sqlite_stamp,
    day=date.isoformat,
    read_stamp=lambda v: None if v is None else datetime.fromisoformat(v).replace(tzinfo=UTC),
    read_day=lambda v: None if v is None else date.fromisoformat(v),
)
PG_FORMATS = Formats(
    stamp=lambda m: m.astimezone(UTC).replace(tzinfo=None),
    day=lambda d: d,
    read_stamp=lambda v: None if v is None else v.replace(tzinfo=UTC),
    read_day=lambda v: v,
)

Write = Generator[tuple[str, Any], tuple[int, list[Any]], bool]


def _state(row: Sequence[Any], prefix: str, f: Formats) -> CardState | None:
    if col(row, f"{prefix}member_id") is None:
        return None
    due = f.read_stamp(col(row, f"{prefix}due"))
    assert due is not None
    return CardState(
        col(row, f"{prefix}state"),
        col(row, f"{prefix}step"),
        col(row, f"{prefix}stability"),
        col(row, f"{prefix}difficulty"),
        due,
        f.read_stamp(col(row, f"{prefix}last_review")),
        col(row, f"{prefix}reps"),
        col(row, f"{prefix}lapses"),
    )


def bare_check(ctx: Sequence[Any] | None, workspace_id: str) -> str | None:
    if ctx is None or col(ctx, "a_workspace_id") != workspace_id:
        return "no such ask in this workspace"
    if col(ctx, "m_id") is None:
        return "not a member yet (the service would take the long way)"
    if col(ctx, "m_id") != col(ctx, "a_member_id") or col(ctx, "a_grade") is not None:
        return "someone else's ask, or already graded"
    return None


def bare_write(ctx: Sequence[Any], workspace_id: str, grade: Grade, now: datetime, f: Formats) -> Write:
    """The grade's write transaction as a plain program would send it: (statement name, values) in turn."""
    ask_id, member_id, card_id = col(ctx, "a_id"), col(ctx, "m_id"), col(ctx, "c_id")
    # Decode what the service decodes: both cards' key terms and both card states.
    if isinstance(col(ctx, "c_key_terms"), str):
        json.loads(col(ctx, "c_key_terms"))
    if col(ctx, "f_id") is not None and isinstance(col(ctx, "f_key_terms"), str):
        json.loads(col(ctx, "f_key_terms"))
    _state(ctx, "fs_", f)
    new = grading.review(_state(ctx, "s_", f), card_id, grade, now)
    workspace_tz = col(ctx, "w_timezone")
    member_tz = col(ctx, "m_timezone") or workspace_tz
    board_today = local_day(now, zone(workspace_tz))
    points = points_for(grade, wrote_answer=bool(col(ctx, "a_typed_answer")))
    day = local_day(now, zone(member_tz))
    periods = (
        ("week", f.day(period_start(Period.WEEK, board_today))),
        ("month", f.day(period_start(Period.MONTH, board_today))),
        ("all", f.day(ALL_TIME_START)),
    )
    claim = {"b_ask_id": ask_id, "b_member_id": member_id, "b_grade": int(grade), "b_graded_at": f.stamp(now)}
    rowcount, _ = yield "claim_ask", {**claim, "b_points": points}
    if rowcount != 1:
        return False
    if points > 0:
        ids = {"b_member_id": member_id, "b_card_id": card_id, "b_ask_id": ask_id}
        _, taken = yield "take_card_points", {**ids, "b_local_day": f.day(day)}
        if not taken:
            yield "no_points", {"b_ask_id": ask_id}
            points = 0
    yield (
        "card_state",
        {
            "b_member_id": member_id,
            "b_card_id": card_id,
            "s_state": new.state,
            "s_step": new.step,
            "s_stability": new.stability,
            "s_difficulty": new.difficulty,
            "s_due": f.stamp(new.due),
            "s_last_review": f.stamp(new.last_review) if new.last_review else None,
            "s_reps": new.reps,
            "s_lapses": new.lapses,
        },
    )
    scores: dict[str, Any] = {}
    for i, (period, start) in enumerate(periods):
        row = {"member_id": member_id, "period": period, "period_start": start, "workspace_id": workspace_id}
        scores.update({f"r{i}_{k}": v for k, v in {**row, "points": points, "reviews": 1}.items()})
    _, totals = yield "add_scores", scores
    if points > 0:
        moves: dict[tuple[Any, Any, int], int] = {}
        for period, start, total in totals:
            if total - points > 0:
                moves[(period, start, total - points)] = -1
            moves[(period, start, total)] = 1
        yield (
            "move_on_boards",
            [
                {
                    "bc_workspace_id": workspace_id,
                    "bc_period": period,
                    "bc_period_start": start,
                    "bc_points": total,
                    "bc_members": delta,
                }
                for (period, start, total), delta in sorted(moves.items())
            ],
        )
    seen = Streak(
        col(ctx, "m_streak_current"),
        col(ctx, "m_streak_best"),
        f.read_day(col(ctx, "m_last_study_day")),
        col(ctx, "m_streak_freezes"),
        col(ctx, "m_streak_saved"),
    )
    after = extend_streak(seen, day)
    streak = {"b_current": after.current, "b_best": after.best, "b_last": f.day(after.last_day)}
    seen_values = {"b_seen_current": seen.current, "b_seen_best": seen.best}
    seen_values["b_seen_last"] = None if seen.last_day is None else f.day(seen.last_day)
    _, written = yield "write_seen_streak", {"b_member_id": member_id, **seen_values, **streak}
    team_id = written[0][0] if written else None
    if not written:
        raise RuntimeError("a bench member's streak changed under the grade (no concurrent grades here)")
    if (after.freezes, after.saved) != (seen.freezes, seen.saved):
        yield "write_freezes", {"b_member_id": member_id, "b_freezes": after.freezes, "b_saved": after.saved}
    if team_id is not None and points > 0:
        mine: dict[str, Any] = {}
        for i, (period, start) in enumerate(periods):
            row = {"team_id": team_id, "member_id": member_id, "period": period, "period_start": start}
            mine.update({f"r{i}_{k}": v for k, v in {**row, "points": points}.items()})
        _, totals = yield "add_team_member_scores", mine
        team: dict[str, Any] = {}
        for i, (period, start, total) in enumerate(sorted(totals)):
            active = 1 if becomes_active(total - points, total) else 0
            row = {"team_id": team_id, "period": period, "period_start": start, "workspace_id": workspace_id}
            team.update({f"r{i}_{k}": v for k, v in {**row, "points": points, "active": active}.items()})
        yield "add_team_scores", team
    return True


class BareGrader:
    """The grade path with nothing but sqlite3: the store's statements, the same PRAGMAs as the grade lane,
    the read alone, then the write transaction."""

    def __init__(self, path: str, sql: dict[str, Sql] | None = None) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.failure: str | None = None  # why the last grade wrote nothing
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL", "busy_timeout=30000"):
            self.conn.execute(f"PRAGMA {pragma}")
        self.conn.execute("PRAGMA wal_autocheckpoint=0")  # as every connection of the service
        self.sql = sql or store_sql(open_engine(f"sqlite+aiosqlite:///{path}").dialect, _sqlite_engine())

    def close(self) -> None:
        self.conn.close()

    def grade(self, workspace_id: str, user_ref: str, ask_id: int, grade: Grade, now: datetime) -> bool:
        c, sql = self.conn, self.sql
        read = sql["grade_context"]
        # fetchall, as the lane does: a statement left unfinished keeps its read snapshot, and the WAL
        # cannot start again while any connection reads an old one.
        rows = c.execute(
            read.text, read.args({"workspace_id": workspace_id, "user_ref": user_ref, "ask_id": ask_id})
        ).fetchall()
        ctx = rows[0] if rows else None
        self.failure = bare_check(ctx, workspace_id)
        if self.failure is not None:
            return False
        c.execute("BEGIN IMMEDIATE")
        try:
            steps = bare_write(ctx, workspace_id, grade, now, SQLITE_FORMATS)
            step = next(steps)
            while True:
                name, values = step
                if isinstance(values, list):
                    c.executemany(sql[name].text, [sql[name].args(v) for v in values])
                    step = steps.send((len(values), []))
                    continue
                cursor = c.execute(sql[name].text, sql[name].args(values))
                rows = cursor.fetchall()
                step = steps.send((cursor.rowcount, rows))
        except StopIteration as stop:
            ok = bool(stop.value)
            c.execute("COMMIT" if ok else "ROLLBACK")
            self.failure = None if ok else "the ask was already graded (UPDATE matched no row)"
            return ok
        except BaseException:
            c.execute("ROLLBACK")
            raise


def _sqlite_engine() -> Any:
    return open_engine("sqlite+aiosqlite:///:memory:")


class BarePgGrader:
    """The grade path with nothing but asyncpg: the store's statements prepared once on one connection, the
    read alone (autocommit, as the store's), then the write transaction."""

    def __init__(self, conn: asyncpg.Connection, sql: dict[str, Sql]) -> None:
        self.conn = conn
        self.sql = sql
        self.prepared: dict[str, Any] = {}

    @classmethod
    async def connect(cls, dsn: str, sql: dict[str, Sql]) -> BarePgGrader:
        bare = cls(await asyncpg.connect(dsn), sql)
        for name, statement in sql.items():
            bare.prepared[name] = await bare.conn.prepare(statement.text)
        return bare

    async def close(self) -> None:
        await self.conn.close()

    async def grade(self, workspace_id: str, user_ref: str, ask_id: int, grade: Grade, now: datetime) -> bool:
        read = self.sql["grade_context"]
        args = read.args({"workspace_id": workspace_id, "user_ref": user_ref, "ask_id": ask_id})
        ctx = await self.prepared["grade_context"].fetchrow(*args)
        if bare_check(ctx, workspace_id) is not None:
            return False
        async with self.conn.transaction():
            steps = bare_write(tuple(ctx), workspace_id, grade, now, PG_FORMATS)
            try:
                step = next(steps)
                while True:
                    name, values = step
                    if isinstance(values, list):
                        await self.prepared[name].executemany([self.sql[name].args(v) for v in values])
                        step = steps.send((len(values), []))
                        continue
                    statement = self.prepared[name]
                    rows = await statement.fetch(*self.sql[name].args(values))
                    rowcount = int((statement.get_statusmsg() or "0").split()[-1])
                    step = steps.send((rowcount, [tuple(r) for r in rows]))
            except StopIteration as stop:
                return bool(stop.value)


# -- measuring ------------------------------------------------------------------------------------------


@dataclass
class Series:
    name: str
    ns: list[int] = field(default_factory=list)

    def add(self, elapsed_ns: int) -> None:
        self.ns.append(elapsed_ns)

    def pct_ms(self, q: float) -> float:
        ordered = sorted(self.ns)
        index = min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))
        return ordered[index] / 1e6

    @property
    def mean_ms(self) -> float:
        return sum(self.ns) / len(self.ns) / 1e6

    def row(self) -> str:
        return (
            f"{self.name:<30} {self.pct_ms(0.5):>8.3f} {self.pct_ms(0.99):>8.3f} {max(self.ns) / 1e6:>8.2f}"
            f" {self.mean_ms:>8.3f}"
        )


HEADER = f"{'':<30} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'mean ms':>8}"


@dataclass(frozen=True)
class Job:
    member_id: int
    card_id: int


def _jobs(rng: random.Random, members: int, card_ids: list[int], n: int) -> list[Job]:
    return [Job(rng.randint(1, members), rng.choice(card_ids)) for _ in range(n)]


async def _new_ask(service: StudyService, job: Job, now: datetime) -> int:
    return await service.store.create_ask(job.member_id, job.card_id, "quiz", now)


async def service_grade(service: StudyService, job: Job, series: Series | None) -> None:
    ask_id = await _new_ask(service, job, service.clock.now())
    caller = caller_for(job.member_id)
    started = time.perf_counter_ns()
    reply = await service.act(caller, f"grade:{ask_id}:good")
    elapsed = time.perf_counter_ns() - started
    if not isinstance(reply, Message) or reply.is_error:
        raise RuntimeError(f"grading ask {ask_id} failed: {reply}")
    if series is not None:
        series.add(elapsed)


async def bare_grade(service: StudyService, bare: BareGrader, job: Job, series: Series | None) -> None:
    ask_id = await _new_ask(service, job, service.clock.now())
    now = service.clock.now()
    started = time.perf_counter_ns()
    ok = bare.grade(WORKSPACE_ID, f"u{job.member_id}", ask_id, Grade.GOOD, now)
    elapsed = time.perf_counter_ns() - started
    if not ok:
        raise RuntimeError(f"bare grading of ask {ask_id} (member {job.member_id}) failed: {bare.failure}")
    if series is not None:
        series.add(elapsed)


async def bare_pg_grade(service: StudyService, bare: BarePgGrader, job: Job, series: Series | None) -> None:
    ask_id = await _new_ask(service, job, service.clock.now())
    now = service.clock.now()
    started = time.perf_counter_ns()
    ok = await bare.grade(WORKSPACE_ID, f"u{job.member_id}", ask_id, Grade.GOOD, now)
    elapsed = time.perf_counter_ns() - started
    if not ok:
        raise RuntimeError(f"bare asyncpg grading of ask {ask_id} (member {job.member_id}) failed")
    if series is not None:
        series.add(elapsed)


async def set_wal_autocheckpoint(service: StudyService, bare: BareGrader, pages: int) -> None:
    """Kept for bench/grade_variants.py: the service sets wal_autocheckpoint=0 itself now."""
    bare.conn.execute(f"PRAGMA wal_autocheckpoint={pages}")


def _card_ids(path: str) -> list[int]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute("SELECT id FROM cards WHERE active = 1 ORDER BY id")]
    finally:
        conn.close()


# What a grade writes, for comparing two databases after the same jobs (rows added since `first_new` ask id).
DUMPS = {
    "asks": "SELECT id, member_id, card_id, grade, graded_at, points, skipped_at FROM asks WHERE id > ?",
    "card_states": "SELECT * FROM card_states WHERE last_review >= ? ORDER BY member_id, card_id",
    "scores": (
        "SELECT * FROM scores WHERE member_id IN (SELECT member_id FROM asks WHERE id > ?)"
        " ORDER BY member_id, period, period_start"
    ),
    "members": "SELECT * FROM members WHERE id IN (SELECT member_id FROM asks WHERE id > ?) ORDER BY id",
    "team_scores": (
        "SELECT * FROM team_scores WHERE team_id IN (SELECT team_id FROM members"
        " WHERE id IN (SELECT member_id FROM asks WHERE id > ?)) ORDER BY team_id, period, period_start"
    ),
    "card_points": "SELECT * FROM card_points WHERE ask_id > ? ORDER BY ask_id",
    "board_counts": "SELECT * FROM board_counts WHERE ? IS NOT NULL ORDER BY 1, 2, 3, 4",
}


def dump(path: Path, first_new: int) -> dict[str, list[Any]]:
    conn = sqlite3.connect(path)
    try:
        return {table: conn.execute(sql, (first_new,)).fetchall() for table, sql in DUMPS.items()}
    finally:
        conn.close()


def max_ask_id(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT max(id) FROM asks").fetchone()[0])
    finally:
        conn.close()


async def verify_bare(jobs: int = 120) -> None:
    """The bare side must write exactly what the service writes: the same jobs (few members, so repeats,
    streaks and new days) on two copies of a small database, then the rows compared table by table."""
    small = await ensure_db(BuildParams(members=500, reviews=5000))
    card_ids = _card_ids(str(small.path))
    dumps = []
    with tempfile.TemporaryDirectory() as tmp:
        for side in ("service", "bare"):
            path = Path(tmp) / f"{side}.db"
            shutil.copyfile(small.path, path)
            first_new = max_ask_id(path)
            service = await open_service(
                BenchDb(path, small.params, small.revision, False, None), BenchClock()
            )
            bare = BareGrader(str(path)) if side == "bare" else None
            rng = random.Random(3)
            try:
                for job in _jobs(rng, 40, card_ids, jobs):
                    if bare is not None:
                        await bare_grade(service, bare, job, None)
                    else:
                        await service_grade(service, job, None)
                    if rng.random() < 0.3:
                        service.clock.current += timedelta(hours=rng.choice([1, 20, 30, 60]))  # type: ignore[attr-defined]
            finally:
                if bare is not None:
                    bare.close()
                await service.store.close()  # type: ignore[attr-defined]
            dumps.append(dump(path, first_new))
    for table in DUMPS:
        if dumps[0][table] != dumps[1][table]:
            raise AssertionError(f"the bare side writes {table} differently from the service")


# -- PostgreSQL: the same rows, copied into a throw-away database ---------------------------------------


def _pg_value(column: sa.Column[Any]) -> Callable[[Any], Any]:
    kind = column.type
    if isinstance(kind, UTCDateTime | sa.DateTime):
        return lambda v: None if v is None else datetime.fromisoformat(v)
    if isinstance(kind, sa.Date):
        return lambda v: None if v is None else date.fromisoformat(v)
    if isinstance(kind, sa.Boolean):
        return lambda v: None if v is None else bool(v)
    return lambda v: v


async def copy_to_postgres(sqlite_path: Path, dsn: str) -> None:
    """The schema through the migrations, then every table's rows copied over (COPY), sequences moved on."""
    url = "postgresql+asyncpg://" + dsn.split("://", 1)[1]
    engine = open_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    src = sqlite3.connect(sqlite_path)
    conn = await asyncpg.connect(dsn)
    try:
        for table in metadata.sorted_tables:
            columns = list(table.columns)
            names = [c.name for c in columns]
            convert = [_pg_value(c) for c in columns]
            cursor = src.execute(f"SELECT {', '.join(names)} FROM {table.name}")
            while batch := cursor.fetchmany(50_000):
                records = [tuple(f(v) for f, v in zip(convert, row, strict=True)) for row in batch]
                await conn.copy_records_to_table(table.name, records=records, columns=names)
            for column in columns:
                if column.primary_key and isinstance(column.type, sa.Integer) and column.autoincrement:
                    await conn.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'),"
                        f" greatest(1, (SELECT max({column.name}) FROM {table.name})))"
                    )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
        src.close()


# -- runs ------------------------------------------------------------------------------------------------


@dataclass
class Run:
    ours: Series
    bare: Series
    load: tuple[float, float, float]

    @property
    def p50_ratio(self) -> float:
        return self.ours.pct_ms(0.5) / self.bare.pct_ms(0.5)


async def one_run(
    service: StudyService,
    bare_fn: Callable[[Job, Series | None], Awaitable[None]],
    jobs: Callable[[int], list[Job]],
    grades: int,
    rounds: int,
    label: str,
) -> Run:
    ours, theirs = Series(f"service ({label})"), Series(f"bare ({label})")
    block = max(1, grades // rounds)
    remaining = grades
    while remaining > 0:
        n = min(block, remaining)
        for job in jobs(n):
            await service_grade(service, job, ours)
        for job in jobs(n):
            await bare_fn(job, theirs)
        remaining -= n
    return Run(ours, theirs, os.getloadavg())


def report(label: str, runs: list[Run], ratio_goal: float, p99_goal: float) -> None:
    print(f"\n{label}: {len(runs[0].ours.ns):,} sequential grades a side per run, fsrs on both")
    for i, run in enumerate(runs, 1):
        load = ", ".join(f"{x:.2f}" for x in run.load)
        print(f"run {i} (load average {load})")
        print(f"  {HEADER}")
        print(f"  {run.ours.row()}")
        print(f"  {run.bare.row()}")
        print(f"  {'ratio service / bare (p50)':<30} {run.p50_ratio:>7.2f}x")

    def spread(values: list[float], unit: str) -> str:
        return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f} {unit}"

    ratios = [r.p50_ratio for r in runs]
    p99s = [r.ours.pct_ms(0.99) for r in runs]
    print(f"  over {len(runs)} runs, min / median / max:")
    print(f"    service p50   {spread([r.ours.pct_ms(0.5) for r in runs], 'ms')}")
    print(f"    bare p50      {spread([r.bare.pct_ms(0.5) for r in runs], 'ms')}")
    print(f"    ratio p50     {spread(ratios, 'x')}")
    print(f"    service p99   {spread(p99s, 'ms')}")
    print(f"    bare p99      {spread([r.bare.pct_ms(0.99) for r in runs], 'ms')}")
    ratio, p99 = statistics.median(ratios), statistics.median(p99s)
    verdict = "met" if ratio <= ratio_goal else "MISSED"
    print(f"  goal service <= {ratio_goal}x bare by median: {verdict} ({ratio:.2f}x)")
    print(f"  goal service p99 <= {p99_goal} ms: {'met' if p99 <= p99_goal else 'MISSED'} ({p99:.2f} ms)")


async def run_sqlite(db: BenchDb, args: argparse.Namespace) -> None:
    if args.checkpoint_every is not None:  # an experiment: how much of the tail the checkpointer adds
        sqlite_lane.CHECKPOINT_EVERY = args.checkpoint_every
    service = await open_service(db, BenchClock())
    bare = BareGrader(str(db.path))
    rng = random.Random(args.job_seed)
    card_ids = _card_ids(str(db.path))

    def jobs(n: int) -> list[Job]:
        return _jobs(rng, db.params.members, card_ids, n)

    async def bare_fn(job: Job, series: Series | None) -> None:
        await bare_grade(service, bare, job, series)

    try:
        for job in jobs(args.warmup):
            await service_grade(service, job, None)
            await bare_fn(job, None)
        runs = [
            await one_run(service, bare_fn, jobs, args.grades, args.rounds, "SQLite")
            for _ in range(args.runs)
        ]
        report("grade path, SQLite (aiosqlite grade lane vs bare sqlite3)", runs, SQLITE_RATIO, SQLITE_P99_MS)
        if args.tail:
            print(await tail(service, jobs(args.tail), SQLITE_P99_MS))
        if args.profile:
            print(await profile(service, jobs(args.profile), args.profile_top))
    finally:
        bare.close()
        await service.store.close()  # type: ignore[attr-defined]


async def run_postgres(db: BenchDb, args: argparse.Namespace) -> None:
    name = args.pg_database or f"studybot_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(PG_SERVER)
    dsn = PG_SERVER.rsplit("/", 1)[0] + f"/{name}"
    try:
        if not args.pg_database:
            await admin.execute(f'CREATE DATABASE "{name}"')
            started = time.perf_counter()
            await copy_to_postgres(db.path, dsn)
            print(f"\nPostgreSQL: copied the database into {name} in {time.perf_counter() - started:.1f} s")
        url = "postgresql+asyncpg://" + dsn.split("://", 1)[1]
        service = await build_service(url, [db.path.parent.parent / "content"], clock=BenchClock())
        engine = service.store.engine  # type: ignore[attr-defined]
        bare = await BarePgGrader.connect(dsn, store_sql(engine.dialect, engine))
        rng = random.Random(args.job_seed)
        card_ids = _card_ids(str(db.path))

        def jobs(n: int) -> list[Job]:
            return _jobs(rng, db.params.members, card_ids, n)

        async def bare_fn(job: Job, series: Series | None) -> None:
            await bare_pg_grade(service, bare, job, series)

        try:
            for job in jobs(args.warmup):
                await service_grade(service, job, None)
                await bare_fn(job, None)
            runs = [
                await one_run(service, bare_fn, jobs, args.grades, args.rounds, "PostgreSQL")
                for _ in range(args.runs)
            ]
            report("grade path, PostgreSQL (SQLAlchemy + asyncpg vs bare asyncpg)", runs, PG_RATIO, PG_P99_MS)
            if args.profile:
                print(await profile(service, jobs(args.profile), args.profile_top))
        finally:
            await bare.close()
            await service.store.close()  # type: ignore[attr-defined]
    finally:
        if args.pg_keep:
            print(f"kept PostgreSQL database {name} (--pg-database {name} reuses it; drop it when done)")
        else:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def tail(service: StudyService, jobs: list[Job], slow_ms: float) -> str:
    """Where the slow grades' time goes, hand-off by hand-off on the grade lane: waiting to start in the
    worker thread (behind another call, or for the thread to be scheduled), running there, and waiting
    for the event loop to resume the grade afterwards."""
    calls: list[tuple[int, int, int, str]] = []
    original = sqlite_lane.in_thread

    async def timed(conn: Any, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        marks: dict[str, int] = {}

        def run(c: sqlite3.Connection) -> Any:
            marks["start"] = time.perf_counter_ns()
            try:
                return fn(c)
            finally:
                marks["end"] = time.perf_counter_ns()

        queued = time.perf_counter_ns()
        result = await original(conn, run)
        resumed = time.perf_counter_ns()
        kind = "checkpoint" if fn in (sqlite_lane._restart, sqlite_lane._truncate) else "grade"
        calls.append((marks["start"] - queued, marks["end"] - marks["start"], resumed - marks["end"], kind))
        return result

    sqlite_lane.in_thread = timed  # type: ignore[assignment]
    slow: list[tuple[int, list[tuple[int, int, int, str]]]] = []
    try:
        for job in jobs:
            ask_id = await _new_ask(service, job, service.clock.now())
            calls.clear()
            started = time.perf_counter_ns()
            await service.act(caller_for(job.member_id), f"grade:{ask_id}:good")
            elapsed = time.perf_counter_ns() - started
            if elapsed > slow_ms * 1e6:
                slow.append((elapsed, list(calls)))
    finally:
        sqlite_lane.in_thread = original
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [f"\ntail: {len(slow)} of {len(jobs)} grades over {slow_ms} ms (load average {load})"]
    behind_checkpoint = sum(1 for _, cs in slow if any(k == "checkpoint" for *_, k in cs))
    ms = 1e6
    late_start = sum(1 for _, cs in slow if any(a > ms and k == "grade" for a, _, _, k in cs))
    long_run = sum(1 for _, cs in slow if any(b > ms and k == "grade" for _, b, _, k in cs))
    late_resume = sum(1 for _, cs in slow if any(c > ms for _, _, c, _ in cs))
    lines.append(f"  behind a lane checkpoint (WAL restart):          {behind_checkpoint}")
    lines.append(f"  a grade call waited > 1 ms to start in the thread: {late_start}")
    lines.append(f"  a grade call ran > 1 ms in the thread (SQLite/IO): {long_run}")
    lines.append(f"  the loop resumed > 1 ms after the thread finished: {late_resume}")
    lines.append("  slowest (ms; per lane call: wait to start / in thread / wait to resume):")
    for elapsed, cs in sorted(slow, reverse=True)[:8]:
        parts = "  ".join(f"{k} {a / ms:.2f}/{b / ms:.2f}/{c / ms:.2f}" for a, b, c, k in cs)
        lines.append(f"    {elapsed / ms:6.2f}  {parts}")
    return "\n".join(lines)


async def profile(service: StudyService, jobs: list[Job], top: int) -> str:
    profiler = cProfile.Profile()
    for job in jobs:
        ask_id = await _new_ask(service, job, service.clock.now())
        caller = caller_for(job.member_id)
        profiler.enable()
        await service.act(caller, f"grade:{ask_id}:good")
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


async def run(args: argparse.Namespace) -> int:
    await verify_bare()
    print("verified: the bare side writes the same rows as the service")
    cached = await ensure_db(params_from(args), args.db, args.rebuild)
    built = f"built in {cached.build_seconds:.1f} s" if cached.built else "cached"
    size = f"{cached.params.members:,} members, {cached.params.reviews:,} reviews"
    print(f"database: {cached.path.name} ({built}; {size})")
    databases = args.databases.split(",")
    if "sqlite" in databases:
        with working_copy(cached) as db:
            await run_sqlite(db, args)
    if "postgres" in databases:
        await run_postgres(cached, args)
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    add_db_arguments(parser)
    parser.add_argument("--grades", type=int, default=2000, help="timed grades on each side, per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=100, help="untimed grades on each side first")
    parser.add_argument("--rounds", type=int, default=4, help="alternate the two sides in this many blocks")
    parser.add_argument("--job-seed", type=int, default=1, help="which members and cards are graded")
    parser.add_argument("--databases", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument(
        "--checkpoint-every", type=float, default=None, help="experiment: the SQLite checkpointer's tick (s)"
    )
    parser.add_argument("--pg-keep", action="store_true", help="keep the PostgreSQL copy after the run")
    parser.add_argument(
        "--pg-database", default="", help="reuse a kept PostgreSQL copy (its rows have grown)"
    )
    parser.add_argument("--tail", type=int, default=0, help="SQLite: grades to trace hand-offs of (0: skip)")
    parser.add_argument("--profile", type=int, default=0, help="grades to run under cProfile (0: skip)")
    parser.add_argument("--profile-top", type=int, default=30)
    args = parser.parse_args()
    raise SystemExit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()

"""Build, and cache, the benchmark database shared by bench/grade_path.py and bench/leaderboard.py.

The schema comes from the real migrations and the cards from the bundled deck through StudyService; the
bulk (members, reviews, card states, scores, streaks, teams) is then loaded with bare sqlite3
`executemany` in a few big transactions, consistent with what the store itself would have written:

- one big workspace (`bench:ws`, a large Discord server), `--members` members, a share of them in teams;
- `--reviews` graded asks spread over the `DAYS` days before `NOW`, per-member activity heavy-tailed
  (a few members review hundreds of times, many a handful, some never);
- one `card_states` row per member and card reviewed (at most the deck's 30 cards), its reps, lapses,
  last review and due date following that member's reviews (stability/difficulty are plausible values,
  not a replay of fsrs: replaying 1M reviews through fsrs would take longer than the whole build);
- `scores` rows per member for every week and month with reviews, and all time, summing the asks' points;
- `members.streak_current/streak_best/last_study_day` from the days the member studied;
- `team_scores` per team and period: the sum of its members' scores rows and how many of them have points;
- `board_counts` (migration 0009) per board and score: how many members hold it.

`--now` moves the benchmark's "now" (default Wednesday 2026-03-04 12:00 UTC): bench/leaderboard.py takes
Sunday 2026-05-31, the last day of a week and of a month, where those boards are at their biggest.

Benchmarks run on a throw-away copy of it (`working_copy`), so the grades they add do not accumulate.
The file is cached in bench/ (gitignored: bench/*.db, bench/*.db-*) with a sidecar `<db>-params.json`;
it is rebuilt with --rebuild, when the build parameters change, or when the migrations' revision chain
differs from the one the file was built at.

Run alone to (re)build: `.venv/bin/python bench/build_db.py [--members N --reviews N --rebuild]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import shutil
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory

from bot.bootstrap import build_service
from bot.core.model.models import Caller
from bot.core.service import StudyService
from bot.store.engine import sqlite_url
from bot.store.migrate import alembic_config

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
CONTENT = REPO / "content"

# Bump when the generated data changes, so cached files are rebuilt.
BUILDER_VERSION = 3  # 2: team_scores (migration 0004); 3: board_counts (migration 0009), --now

PLATFORM = "bench"
WORKSPACE_REF = "ws"
WORKSPACE_ID = f"{PLATFORM}:{WORKSPACE_REF}"
# The benchmark's "now": a Wednesday noon UTC, as in tests/conftest.py. Reviews lie in the DAYS before it.
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
DAYS = 60
MAX_REVIEWS_PER_MEMBER = 600
TYPED_SHARE = 0.15  # asks with a typed answer (15 points instead of 10)
GRADE_WEIGHTS = ((1, 0.10), (2, 0.15), (3, 0.60), (4, 0.15))  # Again, Hard, Good, Easy

_US = 1_000_000
_DAY_US = 86_400 * _US


@dataclass(frozen=True)
class BuildParams:
    members: int = 100_000
    reviews: int = 1_000_000
    teams: int = 50
    team_share: float = 0.2
    seed: int = 7
    now: str = NOW.isoformat()
    builder: int = BUILDER_VERSION

    @property
    def moment(self) -> datetime:
        return datetime.fromisoformat(self.now)


@dataclass(frozen=True)
class BenchDb:
    path: Path
    params: BuildParams
    revision: str
    built: bool
    build_seconds: float | None

    @property
    def url(self) -> str:
        return sqlite_url(self.path)


class BenchClock:
    """A clock at NOW that moves forward a little on every read, so each grade has its own instant."""

    def __init__(self, start: datetime = NOW, step: timedelta = timedelta(milliseconds=1)) -> None:
        self.current = start
        self.step = step

    def now(self) -> datetime:
        self.current += self.step
        return self.current


def caller_for(member_id: int) -> Caller:
    """The Caller an adapter would build for a bench member (same display name, so no write on lookup)."""
    return Caller(
        platform=PLATFORM,
        workspace_ref=WORKSPACE_REF,
        user_ref=f"u{member_id}",
        display_name=f"Member {member_id}",
    )


def default_path(params: BuildParams) -> Path:
    at = "" if params.now == NOW.isoformat() else f"_{params.moment:%Y%m%d}"
    return BENCH_DIR / f"bench_{params.members}m_{params.reviews}r{at}.db"


def head_revision() -> str:
    """The whole chain, newest first: a revision re-chained under the same id still makes the cache stale."""
    script = ScriptDirectory.from_config(alembic_config("sqlite:///unused.db"))
    return ">".join(r.revision for r in script.walk_revisions())


def _meta_path(path: Path) -> Path:
    return path.with_name(path.name + "-params.json")  # matches bench/*.db-* in .gitignore


def _cached(path: Path, params: BuildParams, revision: str) -> bool:
    meta = _meta_path(path)
    if not path.exists() or not meta.exists():
        return False
    try:
        saved = json.loads(meta.read_text())
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            (stored_revision,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            conn.close()
    except (OSError, ValueError, sqlite3.Error, TypeError):
        return False
    return bool(
        saved.get("params") == asdict(params) and saved.get("revision") == revision == stored_revision
    )


def add_db_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = BuildParams()
    group = parser.add_argument_group("benchmark database")
    group.add_argument("--members", type=int, default=defaults.members)
    group.add_argument("--reviews", type=int, default=defaults.reviews)
    group.add_argument("--teams", type=int, default=defaults.teams, help="named teams in the workspace")
    group.add_argument(
        "--team-share", type=float, default=defaults.team_share, help="share of members in a team"
    )
    group.add_argument("--seed", type=int, default=defaults.seed)
    group.add_argument(
        "--now",
        default=defaults.now,
        help="the benchmark's now, ISO 8601 with offset (reviews lie before it)",
    )
    group.add_argument("--db", type=Path, default=None, help="database file (default: bench/bench_<size>.db)")
    group.add_argument("--rebuild", action="store_true", help="rebuild even if a cached file matches")


def params_from(args: argparse.Namespace) -> BuildParams:
    return BuildParams(
        members=args.members,
        reviews=args.reviews,
        teams=args.teams,
        team_share=args.team_share,
        seed=args.seed,
        now=datetime.fromisoformat(args.now).isoformat(),
    )


async def ensure_db(params: BuildParams, path: Path | None = None, rebuild: bool = False) -> BenchDb:
    """The cached database for these parameters, built first when missing, stale or asked for."""
    path = path or default_path(params)
    revision = head_revision()
    if not rebuild and _cached(path, params, revision):
        return BenchDb(path, params, revision, built=False, build_seconds=None)
    started = time.perf_counter()
    await build(path, params)
    elapsed = time.perf_counter() - started
    _meta_path(path).write_text(
        json.dumps(
            {"params": asdict(params), "revision": revision, "build_seconds": round(elapsed, 1)}, indent=2
        )
    )
    return BenchDb(path, params, revision, built=True, build_seconds=elapsed)


@contextmanager
def working_copy(db: BenchDb) -> Iterator[BenchDb]:
    """A throw-away copy of the cached file to run on, so every run starts from the same rows."""
    path = db.path.with_name(db.path.stem + ".run.db")
    files = [path.with_name(path.name + suffix) for suffix in ("", "-wal", "-shm")]
    for stale in files:
        stale.unlink(missing_ok=True)
    shutil.copyfile(db.path, path)
    try:
        yield BenchDb(path, db.params, db.revision, db.built, db.build_seconds)
    finally:
        for stale in files:
            stale.unlink(missing_ok=True)


async def open_service(db: BenchDb, clock: BenchClock | None = None) -> StudyService:
    """StudyService through the real composition root (migrations are a no-op, the deck is re-synced)."""
    return await build_service(db.url, [CONTENT], clock=clock or BenchClock())


# -- building -------------------------------------------------------------------------------------------


async def build(path: Path, params: BuildParams) -> None:
    for stale in (
        path,
        path.with_name(path.name + "-wal"),
        path.with_name(path.name + "-shm"),
        _meta_path(path),
    ):
        stale.unlink(missing_ok=True)
    # Schema through the migrations, cards through the service, the workspace through the store.
    service = await open_service(
        BenchDb(path, params, "", built=True, build_seconds=None), BenchClock(params.moment)
    )
    try:
        await service.store.ensure_workspace(WORKSPACE_ID, PLATFORM)
    finally:
        await service.store.close()  # type: ignore[attr-defined]

    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-1000000")  # 1 GB while loading
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA foreign_keys=OFF")  # the generated rows are consistent by construction
        _load(conn, params)
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()


def _deck_order(conn: sqlite3.Connection) -> list[tuple[int, str, int | None]]:
    """Card ids in study order: each main card followed by its follow-up; (id, kind, parent_id)."""
    rows = conn.execute(
        "SELECT id, kind, parent_id FROM cards WHERE active = 1 ORDER BY deck_id, position"
    ).fetchall()
    followups = {parent: card_id for card_id, kind, parent in rows if kind == "followup"}
    order: list[tuple[int, str, int | None]] = []
    for card_id, kind, parent in rows:
        if kind == "main":
            order.append((card_id, kind, parent))
            if card_id in followups:
                order.append((followups[card_id], "followup", card_id))
    return order


def _activity(rng: random.Random, members: int, reviews: int) -> list[int]:
    """Reviews per member: heavy-tailed (log-normal), capped, summing exactly to `reviews`."""
    weights = [rng.lognormvariate(0.0, 1.3) for _ in range(members)]
    scale = reviews / sum(weights)
    counts = [min(MAX_REVIEWS_PER_MEMBER, int(w * scale)) for w in weights]
    missing = reviews - sum(counts)
    if missing > members * MAX_REVIEWS_PER_MEMBER:
        raise ValueError("too many reviews for that many members")
    while missing > 0:
        i = rng.randrange(members)
        if counts[i] < MAX_REVIEWS_PER_MEMBER:
            counts[i] += 1
            missing -= 1
    return counts


def _day_strings(first: date, days: int) -> list[str]:
    return [(first + timedelta(days=d)).isoformat() for d in range(days)]


def _stamp(day_strings: list[str], t_us: int) -> str:
    """SQLAlchemy's SQLite DATETIME storage format, for a time in µs since the base day's midnight."""
    day, rest = divmod(t_us, _DAY_US)
    seconds, micros = divmod(rest, _US)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    return f"{day_strings[day]} {hours:02d}:{minutes:02d}:{seconds:02d}.{micros:06d}"


def _runs(days: Sequence[int]) -> tuple[int, int]:
    """(current, best) streak for sorted distinct study days: current is the run ending on the last day."""
    best = current = 0
    previous = None
    for day in days:
        current = current + 1 if previous is not None and day == previous + 1 else 1
        best = max(best, current)
        previous = day
    return current, best


def _load(conn: sqlite3.Connection, params: BuildParams) -> None:
    rng = random.Random(params.seed)
    order = _deck_order(conn)
    if not order:
        raise RuntimeError("no cards loaded; is content/ there?")

    now = params.moment
    base_day = (now - timedelta(days=DAYS + 2)).date()
    base = datetime(base_day.year, base_day.month, base_day.day, tzinfo=UTC)
    now_us = int((now - base).total_seconds()) * _US
    span_max_us = DAYS * _DAY_US
    day_count = DAYS + 2 + 370  # up to a year of due dates after NOW
    day_str = _day_strings(base_day, day_count)
    week_start = [
        (base_day + timedelta(days=d - (base_day + timedelta(days=d)).weekday())).isoformat()
        for d in range(day_count)
    ]
    month_start = [(base_day + timedelta(days=d)).replace(day=1).isoformat() for d in range(day_count)]
    grade_cut = []
    acc = 0.0
    for grade, weight in GRADE_WEIGHTS:
        acc += weight
        grade_cut.append((acc, grade))

    counts = _activity(rng, params.members, params.reviews)
    # (graded_at µs, member, card, grade, typed) for every review; ids are given in time order below.
    reviews: list[tuple[int, int, int, int, bool]] = []
    member_rows: list[tuple[Any, ...]] = []
    state_rows: list[tuple[Any, ...]] = []
    score_rows: list[tuple[Any, ...]] = []
    # (team, period, period start) -> [points, active members], as SqlStore keeps them on every grade.
    team_totals: dict[tuple[int, str, str], list[int]] = {}
    for index, count in enumerate(counts):
        member_id = index + 1
        team = rng.randint(1, params.teams) if params.teams and rng.random() < params.team_share else None
        # Longer-standing members are likelier: the span is skewed towards the whole window.
        span = max(3600 * _US, int(span_max_us * math.sqrt(rng.random())))
        start = now_us - span
        created = start - rng.randrange(3600 * _US)
        times = sorted(start + int(rng.random() * span) for _ in range(count))
        distinct = min(len(order), max(1, math.ceil(count / 3)))
        per_card: dict[int, list[int]] = {}  # card -> [reps, lapses, last_us, last_grade]
        week_points: Counter[str] = Counter()
        month_points: Counter[str] = Counter()
        week_reviews: Counter[str] = Counter()
        month_reviews: Counter[str] = Counter()
        total = 0
        days: set[int] = set()
        for j, t in enumerate(times):
            card_id = order[j % distinct][0]
            r = rng.random()
            grade = next(g for cut, g in grade_cut if r < cut) if r < grade_cut[-1][0] else 4
            typed = rng.random() < TYPED_SHARE
            points = 15 if typed else 10
            reviews.append((t, member_id, card_id, grade, typed))
            day = t // _DAY_US
            days.add(day)
            week_points[week_start[day]] += points
            week_reviews[week_start[day]] += 1
            month_points[month_start[day]] += points
            month_reviews[month_start[day]] += 1
            total += points
            info = per_card.get(card_id)
            if info is None:
                per_card[card_id] = [1, 0, t, grade]
            else:
                info[0] += 1
                info[1] += 1 if grade == 1 else 0
                info[2] = t
                info[3] = grade
        for card_id, (reps, lapses, last, last_grade) in sorted(per_card.items()):
            stability = (
                min(365.0, 2.3 * 2.2 ** (reps - 1 - lapses)) if last_grade != 1 else 0.4 + rng.random()
            )
            difficulty = min(10.0, max(1.0, rng.gauss(5.0, 1.5) + lapses * 0.5))
            interval_days = max(1, round(stability))
            state_rows.append(
                (
                    member_id,
                    card_id,
                    2,  # fsrs State.Review: no learning steps in this bot
                    None,
                    round(stability, 4),
                    round(difficulty, 4),
                    _stamp(day_str, last + interval_days * _DAY_US),
                    _stamp(day_str, last),
                    reps,
                    lapses,
                )
            )
        if count:
            for week, points in week_points.items():
                score_rows.append((member_id, "week", week, WORKSPACE_ID, points, week_reviews[week]))
            for month, points in month_points.items():
                score_rows.append((member_id, "month", month, WORKSPACE_ID, points, month_reviews[month]))
            score_rows.append((member_id, "all", "1970-01-01", WORKSPACE_ID, total, count))
            if team is not None:
                for key, points in (
                    *(((team, "week", w), p) for w, p in week_points.items()),
                    *(((team, "month", m), p) for m, p in month_points.items()),
                    ((team, "all", "1970-01-01"), total),
                ):
                    totals = team_totals.setdefault(key, [0, 0])
                    totals[0] += points
                    totals[1] += 1
        current, best = _runs(sorted(days))
        last_day = day_str[max(days)] if days else None
        member_rows.append(
            (
                member_id,
                WORKSPACE_ID,
                f"u{member_id}",
                f"Member {member_id}",
                None,
                team,
                current,
                best,
                last_day,
                _stamp(day_str, created),
            )
        )

    reviews.sort()

    def ask_rows() -> Iterator[tuple[Any, ...]]:
        kinds = {card_id: kind for card_id, kind, _parent in order}
        for ask_id, (t, member_id, card_id, grade, typed) in enumerate(reviews, start=1):
            shown = t - (10 + ask_id * 7919 % 290) * _US
            typed_answer = "my answer, in my own words" if typed else None
            yield (
                ask_id,
                member_id,
                WORKSPACE_ID,
                card_id,
                "followup" if kinds[card_id] == "followup" else "quiz",
                None,
                None,
                _stamp(day_str, shown),
                typed_answer,
                _stamp(day_str, t - 5 * _US) if typed else None,
                None,
                grade,
                _stamp(day_str, t),
                15 if typed else 10,
            )

    team_rows = [
        (team, WORKSPACE_ID, f"Team {team}", f"team {team}", _stamp(day_str, 0))
        for team in range(1, params.teams + 1)
    ]
    # Secondary indexes are dropped for the load and re-created from their own (migration-made) SQL after:
    # building an index from sorted data is much faster than a million random inserts into it.
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        " AND tbl_name IN ('members', 'asks', 'card_states', 'scores')"
    ).fetchall()
    conn.execute("BEGIN")
    for name, _sql in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    conn.executemany(
        "INSERT INTO teams (id, workspace_id, name, name_key, created_at) VALUES (?, ?, ?, ?, ?)", team_rows
    )
    conn.executemany(
        "INSERT INTO members (id, workspace_id, user_ref, display_name, timezone, team_id, streak_current,"
        " streak_best, last_study_day, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        member_rows,
    )
    conn.executemany(
        "INSERT INTO asks (id, member_id, workspace_id, card_id, source, parent_ask_id, daily_post_id,"
        " created_at, typed_answer, answered_at, skipped_at, grade, graded_at, points)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ask_rows(),
    )
    conn.executemany(
        "INSERT INTO card_states (member_id, card_id, state, step, stability, difficulty, due, last_review,"
        " reps, lapses) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        state_rows,
    )
    conn.executemany(
        "INSERT INTO scores (member_id, period, period_start, workspace_id, points, reviews)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        score_rows,
    )
    conn.executemany(
        "INSERT INTO team_scores (team_id, period, period_start, workspace_id, points, active)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [
            (team, period, start, WORKSPACE_ID, points, active)
            for (team, period, start), (points, active) in sorted(team_totals.items())
        ],
    )
    # The rank histogram, as every grade keeps it: members per board and positive score.
    histogram = Counter(
        (period, start, points) for _m, period, start, _w, points, _n in score_rows if points > 0
    )
    conn.executemany(
        "INSERT INTO board_counts (workspace_id, period, period_start, points, members)"
        " VALUES (?, ?, ?, ?, ?)",
        [(WORKSPACE_ID, *key, n) for key, n in sorted(histogram.items())],
    )
    for _name, sql in indexes:
        conn.execute(sql)
    conn.execute("COMMIT")


CHECKS = {
    "all-time scores = sum of the asks' points": """
        SELECT count(*) FROM scores s JOIN (
            SELECT member_id, sum(points) AS p, count(*) AS n FROM asks WHERE graded_at IS NOT NULL
            GROUP BY member_id
        ) a ON a.member_id = s.member_id
        WHERE s.period = 'all' AND (s.points != a.p OR s.reviews != a.n)""",
    "weekly scores = sum of the asks' points per Monday week": """
        SELECT count(*) FROM (
            SELECT member_id, date(graded_at, 'weekday 0', '-6 days') AS wk, sum(points) AS p, count(*) AS n
            FROM asks WHERE graded_at IS NOT NULL GROUP BY member_id, wk
        ) a LEFT JOIN scores s ON s.member_id = a.member_id AND s.period = 'week' AND s.period_start = a.wk
        WHERE s.points IS NULL OR s.points != a.p OR s.reviews != a.n""",
    "monthly scores = sum of the asks' points per month": """
        SELECT count(*) FROM (
            SELECT member_id, date(graded_at, 'start of month') AS mo, sum(points) AS p, count(*) AS n
            FROM asks WHERE graded_at IS NOT NULL GROUP BY member_id, mo
        ) a LEFT JOIN scores s ON s.member_id = a.member_id AND s.period = 'month' AND s.period_start = a.mo
        WHERE s.points IS NULL OR s.points != a.p OR s.reviews != a.n""",
    "card_states reps and last review follow the asks": """
        SELECT count(*) FROM (
            SELECT member_id, card_id, count(*) AS n, max(graded_at) AS last FROM asks
            WHERE graded_at IS NOT NULL GROUP BY member_id, card_id
        ) a LEFT JOIN card_states c ON c.member_id = a.member_id AND c.card_id = a.card_id
        WHERE c.reps IS NULL OR c.reps != a.n OR c.last_review != a.last""",
    "members.last_study_day = day of the last grade": """
        SELECT count(*) FROM members m LEFT JOIN (
            SELECT member_id, max(date(graded_at)) AS d FROM asks WHERE graded_at IS NOT NULL
            GROUP BY member_id
        ) a ON a.member_id = m.id
        WHERE m.last_study_day IS NOT a.d""",
    "team_scores = sum of the team members' scores (points > 0), and how many": """
        SELECT count(*) FROM (
            SELECT m.team_id, s.period, s.period_start, sum(s.points) AS p, count(*) AS n
            FROM scores s JOIN members m ON m.id = s.member_id
            WHERE m.team_id IS NOT NULL AND s.points > 0
            GROUP BY m.team_id, s.period, s.period_start
        ) a FULL OUTER JOIN (SELECT * FROM team_scores WHERE points != 0 OR active != 0) t
            ON t.team_id = a.team_id AND t.period = a.period AND t.period_start = a.period_start
        WHERE a.p IS NOT t.points OR a.n IS NOT t.active""",
    "board_counts = members per board and positive score": """
        SELECT count(*) FROM (
            SELECT workspace_id, period, period_start, points, count(*) AS n FROM scores WHERE points > 0
            GROUP BY workspace_id, period, period_start, points
        ) a FULL OUTER JOIN (SELECT * FROM board_counts WHERE members != 0) b
            ON b.workspace_id = a.workspace_id AND b.period = a.period AND b.period_start = a.period_start
            AND b.points = a.points
        WHERE a.n IS NOT b.members""",
    "at most 30 cards per member": """
        SELECT count(*) FROM (SELECT member_id FROM card_states GROUP BY member_id HAVING count(*) > 30)""",
}


def check(path: Path) -> dict[str, int]:
    """Rows breaking each consistency rule (all zero on a freshly built file)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {name: int(conn.execute(sql).fetchone()[0]) for name, sql in CHECKS.items()}
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    add_db_arguments(parser)
    parser.add_argument("--check", action="store_true", help="verify the generated rows are consistent")
    args = parser.parse_args()
    db = asyncio.run(ensure_db(params_from(args), args.db, args.rebuild))
    state = f"built in {db.build_seconds:.1f} s" if db.built else "cached"
    size_mb = db.path.stat().st_size / 1e6
    print(f"{db.path} ({state}, {size_mb:.0f} MB, revision {db.revision})")
    conn = sqlite3.connect(db.path)
    for table in ("members", "asks", "card_states", "scores", "teams", "team_scores", "board_counts"):
        (n,) = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        print(f"  {table:<12} {n:>10,}")
    conn.close()
    if args.check:
        for name, bad in check(db.path).items():
            print(f"  check: {name}: {'ok' if bad == 0 else f'{bad} rows differ'}")


if __name__ == "__main__":
    main()

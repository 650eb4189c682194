"""Cold start: whole `studybot` processes timed from outside, from spawn to the moment a person could type.

- `--help`: spawn to exit (the parser's text printed).
- `console`: spawn to the first prompt (`> `) on a pseudo-terminal, on a database already at the newest
  migration (the everyday start); then Ctrl-D. A first start on an empty database (migrations run) is
  reported on its own line, it is not the goal's figure.
- the same console start with its bytecode cached, as an installed bot starts: `pip install` (the Docker
  image) compiles every module, and a checkout caches them on its first start. Here the checkout runs under
  PYTHONDONTWRITEBYTECODE=1 (this machine sets it; so does this bench, to leave the checkout clean), so the
  line above compiles all of `bot/` on every start. The cache is a temporary PYTHONPYCACHEPREFIX, written
  by one untimed start.
- the floor: `python -c pass` with the same interpreter, the part no change in `bot/` can remove.

Each run starts every command REPEAT times, interleaved (help, console, floor, help, ...), and keeps each
command's median; three runs are printed with min/median/max over them, next to the load average.

    .venv/bin/python bench/cold_start.py [--runs 3] [--repeat 9] [--compare OTHER/.venv/bin/studybot]

`--compare` interleaves another checkout's console (e.g. main's) into the same runs: the machine's speed
drifts more between runs minutes apart than one change moves the figure, so before/after is read there.
"""

from __future__ import annotations

import argparse
import os
import pty
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STUDYBOT = Path(sys.executable).parent / "studybot"
HELP_GOAL_S = 0.15
CONSOLE_GOAL_S = 0.35


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STUDYBOT_", "DISCORD_", "SLACK_"))}
    env.update({"STUDYBOT_DATA_DIR": str(data_dir), "PYTHONDONTWRITEBYTECODE": "1", "TERM": "dumb"})
    return env


def _cached(env: dict[str, str], pycache: Path) -> dict[str, str]:
    """`env` with bytecode written to and read from `pycache` (outside the checkout)."""
    cached = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**cached, "PYTHONPYCACHEPREFIX": str(pycache)}


def time_help(env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([str(STUDYBOT), "--help"], env=env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def time_floor(env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
    return time.perf_counter() - start


def time_console(env: dict[str, str], db: Path, timeout: float = 20.0, studybot: Path = STUDYBOT) -> float:
    """Spawn to the first `> ` the console writes on its terminal; then Ctrl-D and wait for the exit."""
    main, child = pty.openpty()
    start = time.perf_counter()
    process = subprocess.Popen(
        [str(studybot), "console", "--db", str(db), "--user", "bench"],
        env=env,
        stdin=child,
        stdout=child,
        stderr=child,
        close_fds=True,
    )
    os.close(child)
    seen = b""
    elapsed = None
    try:
        while time.perf_counter() - start < timeout:
            ready, _, _ = select.select([main], [], [], 0.5)
            if not ready:
                continue
            try:
                seen += os.read(main, 65536)
            except OSError:
                break
            if b"\n> " in seen or seen.startswith(b"> "):
                elapsed = time.perf_counter() - start
                break
        if elapsed is None:
            raise RuntimeError(f"no prompt within {timeout} s; the console wrote: {seen[-500:]!r}")
        os.write(main, b"\x04")  # Ctrl-D: leave
        try:
            while os.read(main, 65536):
                pass
        except OSError:
            pass
        process.wait(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(main)
    return elapsed


def fmt(values: list[float]) -> str:
    return f"{min(values) * 1000:6.0f} {statistics.median(values) * 1000:6.0f} {max(values) * 1000:6.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=9, help="starts of each command per run (median kept)")
    parser.add_argument("--compare", type=Path, help="another install's `studybot`, timed alongside")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="studybot-cold-"))
    try:
        env = _env(work / "data")
        db = work / "bot.db"
        first = time_console(env, db)  # creates the database: migrations run, decks loaded
        print(f"first start on an empty database (migrations run): {first * 1000:.0f} ms")
        time_console(env, db)  # warm the OS caches once
        cached = _cached(env, work / "pycache")
        time_console(cached, db)  # compiles and caches every module the console imports
        other_db = work / "other.db"
        if args.compare:
            for other_env in (env, cached):
                time_console(other_env, other_db, studybot=args.compare)
        rows: dict[str, list[float]] = {
            "--help": [],
            "console first prompt": [],
            "console, bytecode cached": [],
            "python -c pass": [],
        }
        if args.compare:
            rows["compared: console first prompt"] = []
            rows["compared: bytecode cached"] = []
        for run in range(1, args.runs + 1):
            samples: dict[str, list[float]] = {name: [] for name in rows}
            load = os.getloadavg()[0]
            for _ in range(args.repeat):
                samples["--help"].append(time_help(env))
                samples["console first prompt"].append(time_console(env, db))
                samples["console, bytecode cached"].append(time_console(cached, db))
                samples["python -c pass"].append(time_floor(env))
                if args.compare:
                    other = args.compare
                    samples["compared: console first prompt"].append(
                        time_console(env, other_db, studybot=other)
                    )
                    samples["compared: bytecode cached"].append(
                        time_console(cached, other_db, studybot=other)
                    )
            load = max(load, os.getloadavg()[0])
            medians = {name: statistics.median(values) for name, values in samples.items()}
            for name, value in medians.items():
                rows[name].append(value)
            print(
                f"run {run}: "
                + ", ".join(f"{name} {value * 1000:.0f} ms" for name, value in medians.items())
                + f"  (median of {args.repeat}; load average {load:.2f})"
            )
        if args.compare:
            print(f"compared: {args.compare}")
        print(f"\n{'ms, median per run':32} {'min':>6} {'median':>6} {'max':>6}   goal")
        goals = {
            "--help": HELP_GOAL_S,
            "console first prompt": CONSOLE_GOAL_S,
            "console, bytecode cached": CONSOLE_GOAL_S,
        }
        for name, values in rows.items():
            goal = goals.get(name)
            verdict = ""
            if goal is not None:
                met = statistics.median(values) <= goal
                verdict = f"<= {goal * 1000:.0f} ms: {'met' if met else 'MISSED'}"
            print(f"{name:32} {fmt(values)}   {verdict}")
        print(f"load average now: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""A grade committed with SQLite's automatic checkpoint off (it lives only in the WAL until the store's
checkpointer copies it back) survives the process being killed with SIGKILL mid-run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.support.callers import CONTENT, REPO

# The child: the real core on a file database; grades one question, says so, then keeps running (its
# checkpointer given an hour, so the grade is in the WAL alone when the kill comes).
CHILD = """
import asyncio, sys
from pathlib import Path
from bot.bootstrap import open_core
from bot.config import Settings
from bot.store import sqlite_lane
from tests.support.callers import member

sqlite_lane.CHECKPOINT_EVERY = 3600.0

async def main() -> None:
    core = await open_core(Settings(database_url=sys.argv[1], content_dirs=(Path(sys.argv[2]),)))
    alice = member("alice")
    quiz = await core.service.quiz(alice)
    ask = int(quiz.actions[0].id.split(":")[1])
    reply = await core.service.act(alice, f"grade:{ask}:good")
    assert not reply.is_error, reply
    print(f"graded {ask}", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


def test_a_committed_grade_survives_kill_9(tmp_path: Path) -> None:
    db = tmp_path / "kill9.db"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, f"sqlite+aiosqlite:///{db}", str(CONTENT)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.startswith("graded "), line
        ask = int(line.split()[1])
        wal = Path(f"{db}-wal")
        assert wal.exists() and wal.stat().st_size > 0  # not checkpointed away: the grade is in the WAL
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    conn = sqlite3.connect(db)
    try:
        grade, points = conn.execute("SELECT grade, points FROM asks WHERE id = ?", (ask,)).fetchone()
        total = conn.execute("SELECT sum(points) FROM scores WHERE period = 'all'").fetchone()[0]
    finally:
        conn.close()
    assert grade is not None and points == 10
    assert total == 10

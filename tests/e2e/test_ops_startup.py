"""A command that cannot reach its database says why in one line and exits non-zero, whichever command it
is: `studybot console` and `studybot db upgrade` behave like `studybot run`."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

# The installed `studybot` command when there is one, else the same entry point through the module.
_SCRIPT = Path(sys.executable).with_name("studybot")
STUDYBOT = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "bot.cli"]

# Nothing may create files in /proc, not even root: a read-only place for the SQLite file.
READ_ONLY_DB = "sqlite:////proc/studybot-test.db"
# Nothing listens on port 9.
UNREACHABLE_PG = "postgresql://studybot:s3cret-Pass@127.0.0.1:9/studybot"


def run(args: list[str], tmp_path: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STUDYBOT_", "DATABASE", "SLACK_"))}
    env.update(
        DATABASE_URL=database_url,
        STUDYBOT_DATA_DIR=str(tmp_path / "data"),
        STUDYBOT_CONTENT=str(REPO / "content"),
        PYTHONPATH=str(REPO),
    )
    return subprocess.run(
        [*STUDYBOT, *args], input="/quiz\n", capture_output=True, text=True, timeout=90, cwd=tmp_path, env=env
    )


def assert_one_clear_line(result: subprocess.CompletedProcess[str], reason: str) -> None:
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr, result.stderr
    # `run` logs what it starts at INFO first; the problem itself is one line.
    lines = [line for line in result.stderr.strip().splitlines() if "level=INFO" not in line]
    assert len(lines) == 1, result.stderr
    assert "cannot start: database" in lines[0] and reason in lines[0], lines[0]
    assert "s3cret" not in result.stderr


@pytest.fixture
def locked_db(tmp_path: Path) -> Iterator[str]:
    """A SQLite file another program holds an exclusive lock on."""
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE other (x)")
    holder.execute("BEGIN EXCLUSIVE")
    yield f"sqlite:///{path}?timeout=1"  # SQLAlchemy's SQLite option: wait 1 s for the lock, not 30
    holder.close()


@pytest.mark.parametrize("command", [["console"], ["db", "upgrade"], ["run"]])
@pytest.mark.parametrize(
    ("database_url", "reason"),
    [(READ_ONLY_DB, "unable to open database file"), (UNREACHABLE_PG, "ConnectionRefusedError")],
    ids=["read-only-sqlite", "unreachable-postgres"],
)
def test_a_database_that_cannot_be_used_gives_one_line(
    tmp_path: Path, command: list[str], database_url: str, reason: str
) -> None:
    assert_one_clear_line(run(command, tmp_path, database_url), reason)


def test_a_locked_sqlite_file_gives_one_line(tmp_path: Path, locked_db: str) -> None:
    # SQLite waits its busy timeout (the URL's, here 1 s) for the lock before giving up.
    assert_one_clear_line(run(["db", "upgrade"], tmp_path, locked_db), "database is locked")

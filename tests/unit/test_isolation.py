"""The unit tests' own guarantees: the core runs on the memory store, and no database can be reached."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from bot.core.model.models import Grade
from bot.core.service import StudyService
from tests.fakes.memory_store import MemoryStore
from tests.support.callers import member


def test_the_service_runs_on_the_memory_store(service: StudyService) -> None:
    assert isinstance(service.store, MemoryStore)


def test_opening_a_database_fails_the_test() -> None:
    with pytest.raises(AssertionError, match="opened a database"):
        sqlite3.connect(":memory:")


def test_the_memory_store_and_the_core_import_no_store_code() -> None:
    code = (
        "import sys, tests.fakes.memory_store, bot.core.service;"
        "db = ('bot.store', 'sqlalchemy', 'aiosqlite', 'asyncpg');"
        "bad = sorted(m for m in sys.modules if m.startswith(db));"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


async def test_a_quiz_and_a_grade_leave_their_rows_in_memory(service: StudyService) -> None:
    question = await service.quiz(member("ana"))
    ask_id = int(question.actions[0].id.split(":")[1])
    await service.grade(member("ana"), ask_id, Grade.GOOD)
    store = service.store
    assert isinstance(store, MemoryStore)
    assert [a.grade for a in store.asks.values()] == [3]

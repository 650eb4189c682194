"""One composition root: only bot/bootstrap.py builds the engine, the store and the services; the command
starts without loading what it does not need."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory

from bot.bootstrap import migrate, open_core, open_engine
from bot.config import Settings
from bot.store.migrate import alembic_config, head_revision
from bot.store.sql_store import SqlStore
from tests.conftest import CONTENT, REPO, member

# What may be called where: the composition root builds; the engine factory wraps SQLAlchemy's.
BUILDERS = {
    "create_engine": {"bot/bootstrap.py"},
    "create_async_engine": {"bot/store/engine.py"},
    "SqlStore": {"bot/bootstrap.py"},
    "StudyService": {"bot/bootstrap.py"},
}


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def test_only_the_composition_root_constructs_engines_stores_and_services() -> None:
    found: list[str] = []
    for path in sorted((REPO / "bot").rglob("*.py")):
        where = path.relative_to(REPO).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = _called_name(node)
                if name in BUILDERS and where not in BUILDERS[name]:
                    found.append(f"{where}:{node.lineno}: {name}(...)")
    assert found == [], "build these in bot/bootstrap.py and hand them in:\n" + "\n".join(found)


# Nothing past argument parsing: no event loop (asyncio alone is a third of `--help`), no database,
# migration, chat or scheduler library, none of the core.
HEAVY = (
    *("asyncio", "sqlalchemy", "alembic", "discord", "slack_bolt", "slack_sdk", "aiohttp", "apscheduler"),
    "fsrs",
)
HEAVY_OURS = ("bot.core", "bot.store", "bot.adapters", "bot.schedule", "bot.ops")


def _imported(*args: str, code: str | None = None, env: dict[str, str] | None = None) -> set[str]:
    """The modules a fresh interpreter imports for `python -X importtime <args>` (or `-c code`)."""
    command = [sys.executable, "-X", "importtime", *(["-c", code] if code else args)]
    environ = {**os.environ, **(env or {})}
    result = subprocess.run(
        command, capture_output=True, text=True, cwd=REPO, env=environ, stdin=subprocess.DEVNULL, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("import time:")]
    return {line.rsplit("|", 1)[-1].strip() for line in lines}


def test_help_loads_no_database_migration_or_chat_library() -> None:
    modules = _imported("-m", "bot.cli", "--help")
    assert "bot" in modules  # bot.cli itself runs as __main__
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY_OURS))
    assert heavy == []


def test_the_migration_head_is_read_from_the_files_as_alembic_reads_it(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    assert head_revision() == ScriptDirectory.from_config(alembic_config(url)).get_current_head()


async def test_a_database_already_at_head_starts_without_alembic(tmp_path: Path) -> None:
    db = tmp_path / "studybot.db"
    await migrate(f"sqlite+aiosqlite:///{db}")
    code = (
        "import asyncio\n"
        "from bot.bootstrap import open_core\n"
        "from bot.config import Settings\n"
        "async def main():\n"
        "    core = await open_core(Settings.from_env(dotenv=False))\n"
        "    await core.close()\n"
        "asyncio.run(main())\n"
    )
    env = {"DATABASE_URL": f"sqlite:///{db}", "STUDYBOT_CONTENT": str(CONTENT)}
    modules = _imported(code=code, env=env)
    assert "bot.bootstrap" in modules and "sqlalchemy" in modules
    assert not any(m.split(".")[0] == "alembic" for m in modules)


# Off the console's path to its first prompt, each imported where it is first used: the metrics (`studybot
# run` only), fsrs (the first grade), the stemmer and the typo distance (the first typed answer), Pillow (the
# first /stats picture), the migrations (a database behind), the chat platforms.
NOT_BEFORE_THE_PROMPT = (
    *("prometheus_client", "fsrs", "snowballstemmer", "rapidfuzz", "PIL", "alembic"),
    *("discord", "slack_bolt", "slack_sdk", "aiohttp"),
)
NOT_BEFORE_THE_PROMPT_OURS = (
    *("bot.ops.metrics", "bot.ops.health", "bot.pictures", "bot.adapters.discord", "bot.adapters.slack"),
)


async def test_the_console_reaches_its_prompt_without_what_it_does_not_use_yet(tmp_path: Path) -> None:
    db = tmp_path / "studybot.db"
    await migrate(f"sqlite+aiosqlite:///{db}")
    env = {"STUDYBOT_DATA_DIR": str(tmp_path / "data"), "STUDYBOT_CONTENT": str(CONTENT)}
    # Input ends at once: the console starts, shows its prompt, reads end of input and leaves.
    modules = _imported("-m", "bot.cli", "console", "--db", str(db), "--user", "ada", env=env)
    assert "bot.adapters.console" in modules and "bot.core.service" in modules
    loaded = sorted(
        m
        for m in modules
        if m.split(".")[0] in NOT_BEFORE_THE_PROMPT or m.startswith(NOT_BEFORE_THE_PROMPT_OURS)
    )
    assert loaded == []


async def test_a_store_passed_in_is_used_and_no_database_is_made(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'theirs.db'}"
    await migrate(url)
    store = SqlStore(open_engine(url))
    try:
        settings = Settings(data_dir=tmp_path / "data", content_dirs=(CONTENT,))
        core = await open_core(settings, store=store)
        assert core.engine is None and core.service.store is store
        question = await core.service.quiz(member("alice"))
        assert not question.is_error and question.actions
        await core.close()  # not ours to close: the test's store still works
        assert await store.deck_ids()
        assert not (tmp_path / "data").exists()
    finally:
        await store.close()

"""Reloading the deck files without a restart: SIGHUP to a whole `studybot console` or `studybot run`
process, and `/decks reload` for admins."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from pathlib import Path

import aiohttp

from bot.bootstrap import build_service
from bot.core.service import StudyService
from tests.conftest import CONTENT, REPO, FakeClock, member
from tests.e2e.test_ops_sigterm import BotProcess, bot_env, command
from tests.fakes.discord.fixtures import DiscordEnv
from tests.fakes.slack.driver import Member
from tests.fakes.slack.server import MockSlack
from tests.integration.test_deck_loading import GOOD
from tests.integration.test_discord import ADMIN, ALICE

pytest_plugins = ("tests.fakes.discord.fixtures",)  # the discord_env fixture

BROKEN = GOOD.replace("**Theory:**\nAtoms", "Atoms")  # question 2 has no Theory, at line 16


def content_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "decks"
    folder.mkdir()
    shutil.copy(CONTENT / "ml-interview-questions.md", folder)
    return folder


def add_decks(folder: Path) -> None:
    (folder / "chem.md").write_text(GOOD, encoding="utf-8")
    (folder / "broken.md").write_text(BROKEN, encoding="utf-8")


async def read_until(stream: asyncio.StreamReader, text: str, within: float = 30) -> str:
    seen: list[str] = []
    async with asyncio.timeout(within):
        while not any(text in line for line in seen):
            line = await stream.readline()
            if not line:
                raise AssertionError(f"output ended before {text!r}:\n" + "".join(seen))
            seen.append(line.decode())
    return "".join(seen)


async def test_sighup_reloads_the_decks_of_a_running_console(tmp_path: Path) -> None:
    folder = content_folder(tmp_path)
    env = {**os.environ, "STUDYBOT_DATA_DIR": str(tmp_path / "data"), "STUDYBOT_CONTENT": str(folder)}
    env.pop("DATABASE_URL", None)
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot.cli", "console", "--user", "alice", "--db", str(tmp_path / "t.db")),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=REPO,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        await read_until(proc.stdout, "studybot in your terminal")
        add_decks(folder)
        proc.send_signal(signal.SIGHUP)
        await read_until(proc.stdout, "Decks reloaded: 2 served, 1 refused (see /decks)")

        proc.stdin.write(b"/decks\n")
        listed = await read_until(proc.stdout, "Decks refused")
        assert "Chemistry basics" in listed and "/quiz chem" in listed
        refused = await read_until(proc.stdout, "broken.md")
        assert f"{folder / 'broken.md'}:16: question 2 has no **Theory:** section" in refused

        (folder / "broken.md").unlink()
        proc.stdin.write(b"/decks reload\n")
        reloaded = await read_until(proc.stdout, "chem — “Chemistry basics”")
        assert "Decks reloaded: 2 served, 0 refused" in reloaded
        proc.stdin.close()
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    errors = (await proc.stderr.read()).decode()
    assert "Traceback" not in errors, errors


async def test_sighup_reloads_the_decks_of_a_running_bot(tmp_path: Path) -> None:
    folder = content_folder(tmp_path)
    mock = MockSlack()
    await mock.start()
    bot = BotProcess(bot_env(tmp_path, mock, STUDYBOT_CONTENT=str(folder)), tmp_path)
    alice = Member("U_ALICE", name="alice")
    try:
        await bot.start()
        await bot.wait_for_log("running: ")
        add_decks(folder)
        bot._proc.send_signal(signal.SIGHUP)  # type: ignore[union-attr]
        await bot.wait_for_log("decks reloaded: 2 served, 1 refused")
        async with aiohttp.ClientSession() as http:
            listed = await mock.reply(await command(http, mock, bot, "decks", alice), within=10)
            assert "Chemistry basics" in str(listed)
            refused = await mock.reply(await command(http, mock, bot, "decks reload", alice), within=10)
            assert "Only admins can reload the decks." in str(refused)
            mock.admins.add("U_BOSS")
            boss = Member("U_BOSS", name="boss")
            reloaded = await mock.reply(await command(http, mock, bot, "decks reload", boss), within=10)
            assert "Decks reloaded: 2 served, 1 refused" in str(reloaded)
            assert "broken.md:16: question 2 has no" in str(reloaded)
        code, _ = await bot.terminate()
    finally:
        await bot.kill()
        await mock.stop()
    assert code == 0, bot.output
    assert "deck refused: " in bot.output and "Traceback" not in bot.output


async def test_only_admins_reload_and_the_answer_says_what_changed(tmp_path: Path, clock: FakeClock) -> None:
    folder = content_folder(tmp_path)
    service = await build_service(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}", [folder], clock=clock)
    try:
        add_decks(folder)
        denied = await service.decks_reload(member("alice"))
        assert denied.is_error and "Only admins" in denied.title
        assert "chem" not in (await service.store.deck_ids())
        answer = (await service.decks_reload(member("boss", admin=True))).plain_text()
        assert "Decks reloaded: 2 served, 1 refused" in answer
        assert "chem — “Chemistry basics”, 2 questions + 1 follow-up" in answer
        assert "ml-interview-questions — " in answer
        assert f"{folder / 'broken.md'}:16: question 2 has no **Theory:** section" in answer
        assert await service.store.deck_ids() == ["chem", "ml-interview-questions"]
        (folder / "chem.md").unlink()
        await service.decks_reload(member("boss", admin=True))
        assert await service.store.deck_ids() == ["ml-interview-questions"]
    finally:
        await service.store.close()  # type: ignore[attr-defined]


async def test_discord_decks_reload_is_for_server_admins(
    discord_env: DiscordEnv, service: StudyService, tmp_path: Path
) -> None:
    folder = content_folder(tmp_path)
    service.library.content = (folder,)
    add_decks(folder)
    bot = discord_env.driver
    denied = await bot.slash("decks", ALICE, options={"action": "reload"})
    assert denied.callback.ephemeral and denied.callback.title == "Only admins can reload the decks."
    reloaded = await bot.slash("decks", ADMIN, options={"action": "reload"})
    assert reloaded.callback.ephemeral
    assert reloaded.callback.title == "Decks reloaded: 2 served, 1 refused"
    assert "chem — “Chemistry basics”" in reloaded.callback.text()
    listed = await bot.slash("decks", ALICE)
    assert "Chemistry basics" in listed.callback.text()

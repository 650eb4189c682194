"""Whole `studybot run` processes on Discord: discord.py connects to a fake gateway (DISCORD_GATEWAY_URL) and
answers over a fake REST API (DISCORD_API_BASE); the assertions are on what those two received."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import discord
import pytest
import yarl
from discord.gateway import DiscordWebSocket

from bot.adapters.discord import app as app_module
from bot.adapters.discord.app import DiscordAdapter, use_gateway
from bot.bootstrap import build_service
from bot.config import ConfigError, Settings
from bot.core.service import StudyService
from tests.conftest import CONTENT, REPO
from tests.fakes.discord.driver import DiscordDriver, button
from tests.fakes.discord.gateway import (
    HEARTBEAT,
    IDENTIFY,
    RESUME,
    RESUME_PATH,
    FakeGateway,
    fake_gateway,
    shard_of,
)
from tests.fakes.discord.server import GUILD_ID, MESSAGE, MODAL, TOKEN, UPDATE_MESSAGE, FakeDiscord, User
from tests.support.network import free_port

__all__ = ["fake_gateway"]

STUDYBOT = Path(sys.executable).parent / "studybot"
ALICE = User(1001, "Alice")
START_WITHIN = 40.0  # a cold process start on a loaded machine; passing runs take a few seconds
ANSWER_WITHIN = 15.0


class Process:
    """One `studybot run`, its log in a file (a pipe nobody reads could fill and block it)."""

    def __init__(self, env: dict[str, str], cwd: Path, health_port: int, log: Path) -> None:
        self.env, self.cwd, self.health_port, self.log = env, cwd, health_port, log
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                str(STUDYBOT), "run", cwd=self.cwd, env=self.env, stdout=log, stderr=log
            )

    async def discord_status(self) -> str:
        try:
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{self.health_port}/healthz") as response:
                    body: dict[str, Any] = await response.json()
                    return str(body["adapters"]["discord"])
        except aiohttp.ClientError:
            return "not listening"

    async def wait_connected(self) -> None:
        """Until the health endpoint says Discord is connected (READY and the guilds received)."""
        deadline = asyncio.get_running_loop().time() + START_WITHIN
        status = ""
        while (status := await self.discord_status()) != "connected":
            assert self.process is not None and self.process.returncode is None, self.output()
            assert asyncio.get_running_loop().time() < deadline, f"discord is {status!r}\n{self.output()}"
            await asyncio.sleep(0.1)

    async def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), 20)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def run_env(gateway: FakeGateway, tmp_path: Path, health_port: int) -> dict[str, str]:
    assert gateway.rest is not None
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DISCORD_", "STUDYBOT_", "DATABASE_"))
    }
    return env | {
        "DISCORD_TOKEN": TOKEN,
        "DISCORD_API_BASE": gateway.rest.base,
        "DISCORD_GATEWAY_URL": gateway.url,
        "STUDYBOT_HEALTH_PORT": str(health_port),
        "STUDYBOT_DATA_DIR": str(tmp_path / "data"),
        "STUDYBOT_CONTENT": str(CONTENT),
        "STUDYBOT_MIGRATIONS": str(REPO / "migrations"),
    }


def adapter_settings(gateway: FakeGateway, tmp_path: Path, url: str = "") -> Settings:
    assert gateway.rest is not None
    return Settings(
        data_dir=tmp_path,
        discord_token=TOKEN,
        discord_api_base=gateway.rest.base,
        discord_gateway_url=url or gateway.url,
    )


@pytest.fixture
async def sqlite_service(tmp_path: Path) -> AsyncIterator[StudyService]:
    """These tests are about the gateway, not the database: SQLite only, even when PostgreSQL is set."""
    service = await build_service(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}", [CONTENT])
    yield service
    await service.store.close()  # type: ignore[attr-defined]


@pytest.fixture
def process_wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """An adapter in this process sets discord.py's REST base and gateway; put them back afterwards."""
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", DiscordWebSocket.DEFAULT_GATEWAY)


async def test_studybot_run_on_the_fake_gateway(fake_gateway: FakeGateway, tmp_path: Path) -> None:
    gateway, rest = fake_gateway, fake_gateway.rest
    assert rest is not None
    port = free_port()
    env = run_env(gateway, tmp_path, port)
    first = Process(env, tmp_path, port, tmp_path / "first.log")
    second = Process(env, tmp_path, port, tmp_path / "second.log")
    try:
        # Logging in: REST for the token, then the gateway: HELLO, a heartbeat, IDENTIFY, READY, GUILD_CREATE.
        await first.start()
        await first.wait_connected()
        assert rest.received("GET", "^/users/@me$")
        [connection] = gateway.connections
        assert connection.query["v"] == "10" and connection.query["encoding"] == "json"
        identify = connection.ops(IDENTIFY)[0]["d"]
        assert identify["token"] == TOKEN
        assert identify["intents"] == discord.Intents(guilds=True).value  # nothing privileged
        assert "shard" not in identify
        assert connection.ops(HEARTBEAT), "discord.py heartbeats at once after HELLO"

        bot = DiscordDriver(rest, deliver=gateway.interaction, within=ANSWER_WITHIN)

        # /quiz, Reveal, then a grade: each an INTERACTION_CREATE on the gateway, each answered over REST.
        quiz = await bot.slash("quiz", ALICE)
        assert quiz.callback.type == MESSAGE and quiz.callback.ephemeral
        assert "What Is Deep Learning" in quiz.callback.text()
        assert [b.split(":")[0] for b in quiz.callback.custom_ids] == ["reveal", "write", "skip"]
        reveal = await bot.click(quiz.message, button(quiz.message, "reveal:"), ALICE)
        assert reveal.callback.type == UPDATE_MESSAGE and "Model answer" in reveal.callback.text()
        assert [b.rsplit(":", 1)[1] for b in reveal.callback.custom_ids] == ["again", "hard", "good", "easy"]
        graded = await bot.click(reveal.message, button(reveal.message, "Good"), ALICE)
        assert graded.callback.title.startswith("Good — next review")

        # A written answer: the button opens a modal, its submission turns the card over.
        quiz = await bot.slash("quiz", ALICE)
        opened = await bot.click(quiz.message, button(quiz.message, "write:"), ALICE)
        assert opened.callback.type == MODAL
        shown = await bot.submit(opened.callback, "Layers that learn features.", ALICE, message=quiz.message)
        assert shown.callback.type == UPDATE_MESSAGE
        assert (
            "Your answer" in shown.callback.text() and "Layers that learn features." in shown.callback.text()
        )

        # Discord drops the connection (4000, resumable); an interaction comes while the bot is away.
        session = gateway.session_for()
        last_seen = session.seq
        await gateway.disconnect(session)
        quiz = await bot.slash("quiz", ALICE, wait=False)
        await gateway.wait_for(lambda: session.resumes == 1, ANSWER_WITHIN)
        resumed = gateway.connections[-1]
        assert resumed.path == RESUME_PATH  # at READY's resume_gateway_url, not the first URL
        assert resumed.ops(RESUME)[0]["d"] == {"token": TOKEN, "session_id": session.id, "seq": last_seen}
        await rest.wait_for(lambda: rest.callbacks(quiz.id), ANSWER_WITHIN)  # replayed on RESUME
        assert quiz.callback.type == MESSAGE and quiz.callback.custom_ids
        reveal = await bot.click(quiz.message, button(quiz.message, "reveal:"), ALICE)  # and events flow on
        assert reveal.callback.type == UPDATE_MESSAGE
        assert len(gateway.identified()) == 1, "resumed, not a new session"
        assert await first.discord_status() == "connected"

        # A restart: the new process identifies afresh, and the card from before it can still be graded.
        assert await first.stop() == 0, first.output()
        await second.start()
        await second.wait_connected()
        assert len(gateway.identified()) == 2
        graded = await bot.click(reveal.message, button(reveal.message, "Easy"), ALICE)
        assert graded.callback.type == UPDATE_MESSAGE
        assert graded.callback.title.startswith("Easy — next review")
        assert await second.stop() == 0, second.output()
    finally:
        await first.stop()
        await second.stop()
    for process in (first, second):
        assert TOKEN not in process.log.read_text(), "the token reached the log"


# -- the adapter in this process, on the fake gateway ---------------------------------------------


async def test_every_shard_connects_to_the_gateway_setting(
    fake_gateway: FakeGateway, sqlite_service: StudyService, tmp_path: Path, process_wide: None
) -> None:
    """With DISCORD_SHARD_COUNT, each shard identifies at DISCORD_GATEWAY_URL and gets its guilds' events."""
    gateway, rest = fake_gateway, fake_gateway.rest
    assert rest is not None
    gateway.guilds = (GUILD_ID, GUILD_ID + (1 << 22))  # one guild on each of two shards
    assert sorted(shard_of(g, 2) for g in gateway.guilds) == [0, 1]
    settings = replace(adapter_settings(gateway, tmp_path), discord_shard_count=2)
    adapter = DiscordAdapter(settings, sqlite_service)
    await adapter.start()
    try:
        # discord.py waits 5 s before identifying each shard after the first, as Discord asks.
        await gateway.wait_for(lambda: adapter.status == "connected", within=START_WITHIN)
        shards = sorted(tuple(c.ops(IDENTIFY)[0]["d"]["shard"]) for c in gateway.identified())
        assert shards == [(0, 2), (1, 2)]
        assert {c.path for c in gateway.identified()} == {"/"}
        for guild in gateway.guilds:
            bot = DiscordDriver(rest, guild_id=guild, deliver=gateway.interaction, within=ANSWER_WITHIN)
            quiz = await bot.slash("quiz", ALICE)
            assert quiz.callback.type == MESSAGE and quiz.callback.custom_ids
            assert gateway.session_for(guild).shard == (shard_of(guild, 2), 2)
    finally:
        await adapter.stop()


async def test_an_invalidated_session_identifies_again_and_answers(
    fake_gateway: FakeGateway, sqlite_service: StudyService, tmp_path: Path, process_wide: None
) -> None:
    gateway, rest = fake_gateway, fake_gateway.rest
    assert rest is not None
    adapter = DiscordAdapter(adapter_settings(gateway, tmp_path), sqlite_service)
    await adapter.start()
    try:
        first = await gateway.wait_for(lambda: gateway.sessions.get("session1"), within=START_WITHIN)
        await gateway.invalidate(first)
        await gateway.wait_for(lambda: len(gateway.identified()) == 2, within=ANSWER_WITHIN)
        assert gateway.identified()[1].path == "/"  # a new session starts at DISCORD_GATEWAY_URL again
        bot = DiscordDriver(rest, deliver=gateway.interaction, within=ANSWER_WITHIN)
        quiz = await bot.slash("quiz", ALICE)
        assert quiz.callback.type == MESSAGE and quiz.callback.custom_ids
        assert gateway.session_for().id == "session2"
    finally:
        await adapter.stop()


async def test_a_gateway_down_at_start_is_retried_until_it_answers(
    fake_gateway: FakeGateway,
    sqlite_service: StudyService,
    tmp_path: Path,
    process_wide: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """discord.py gives up when its very first connection fails (Rapptz/discord.py#10520); the adapter
    retries, so a bot started while the gateway is unreachable connects once it is back."""
    later = FakeGateway(fake_gateway.rest)
    port = free_port()
    monkeypatch.setattr(app_module, "GATEWAY_RETRY_FIRST", 0.05)
    adapter = DiscordAdapter(adapter_settings(later, tmp_path, f"ws://127.0.0.1:{port}/"), sqlite_service)
    await adapter.start()
    try:
        failed = "discord gateway connection failed"
        await later.wait_for(lambda: any(failed in r.getMessage() for r in caplog.records), START_WITHIN)
        assert adapter.status == "connecting"
        await later.start(port)
        await later.wait_for(lambda: adapter.status == "connected", within=START_WITHIN)
        assert len(later.identified()) == 1
    finally:
        await adapter.stop()
        await later.close()


# -- the fake and the setting ----------------------------------------------------------------------


async def test_the_fake_routes_guilds_to_their_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two clients, one shard each (as two instances would run): each gets its own guild's events only."""
    rest = FakeDiscord()
    monkeypatch.setattr(discord.http.Route, "BASE", await rest.start())
    guilds = (GUILD_ON_0, GUILD_ON_1) = (8 << 22, 9 << 22)
    assert (shard_of(GUILD_ON_0, 2), shard_of(GUILD_ON_1, 2)) == (0, 1)
    gateway = FakeGateway(rest, guilds=guilds)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(await gateway.start()))
    seen: dict[int, list[int]] = {0: [], 1: []}
    clients: list[discord.AutoShardedClient] = []
    running: list[asyncio.Task[None]] = []
    try:
        for shard in (0, 1):
            client = discord.AutoShardedClient(
                intents=discord.Intents(guilds=True), shard_ids=[shard], shard_count=2
            )

            async def on_guild_channel_create(channel: Any, shard: int = shard) -> None:
                seen[shard].append(channel.guild.id)

            client.event(on_guild_channel_create)  # type: ignore[arg-type]
            await client.login(TOKEN)
            clients.append(client)
            running.append(asyncio.create_task(client.connect()))
        await gateway.wait_for(lambda: len(gateway.sessions) == 2)
        shards = sorted(tuple(c.ops(IDENTIFY)[0]["d"]["shard"]) for c in gateway.identified())
        assert shards == [(0, 2), (1, 2)]
        await gateway.wait_for(lambda: all(c.get_guild(g) for c, g in zip(clients, guilds, strict=True)))
        assert [[g.id for g in c.guilds] for c in clients] == [[GUILD_ON_0], [GUILD_ON_1]]
        for guild in guilds:
            channel = {"id": str(guild + 5), "type": 0, "guild_id": str(guild), "name": "new", "position": 1}
            await gateway.dispatch("CHANNEL_CREATE", channel, guild)
        await gateway.wait_for(lambda: seen[0] and seen[1])
        assert seen == {0: [GUILD_ON_0], 1: [GUILD_ON_1]}
        for connection in gateway.identified():
            assert connection.ops(HEARTBEAT)
    finally:
        for client in clients:
            await client.close()
        await asyncio.gather(*running, return_exceptions=True)
        await gateway.close()
        await rest.close()


def test_the_gateway_url_setting() -> None:
    assert Settings.from_env({}).discord_gateway_url == ""
    url = "ws://127.0.0.1:8765/"
    assert Settings.from_env({"DISCORD_GATEWAY_URL": f" {url} "}).discord_gateway_url == url
    for wrong in ("https://gateway.discord.gg", "127.0.0.1:8765", "ws://"):
        with pytest.raises(ConfigError, match="DISCORD_GATEWAY_URL must be a ws:// or wss:// URL"):
            Settings.from_env({"DISCORD_GATEWAY_URL": wrong})


def test_without_the_setting_discord_py_uses_discords_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", DiscordWebSocket.DEFAULT_GATEWAY)
    use_gateway(Settings(discord_gateway_url="ws://127.0.0.1:8765/"))
    assert str(DiscordWebSocket.DEFAULT_GATEWAY) == "ws://127.0.0.1:8765/"
    use_gateway(Settings())  # a later adapter without it does not inherit the fake
    assert str(DiscordWebSocket.DEFAULT_GATEWAY) == "wss://gateway.discord.gg/"

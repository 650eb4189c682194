"""Discord shards split across instances: DISCORD_SHARD_IDS with DISCORD_SHARD_COUNT (or Discord's count).

The settings are parsed and checked at start; the adapter identifies with exactly its shards at the fake
gateway; and two whole `studybot run` processes on one PostgreSQL each answer the servers of their own
shard, while their daily runners post once per channel between them."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import discord
import pytest
from aiohttp import web
from discord.gateway import DiscordWebSocket
from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.discord.app import DiscordAdapter
from bot.bootstrap import build_service
from bot.config import MAX_SHARDS, ConfigError, Settings, format_shard_ids, parse_shard_ids
from bot.core.model.models import Caller
from bot.core.service import StudyService
from tests.conftest import CONTENT
from tests.db import POSTGRES_ENV
from tests.e2e.test_discord_process import ANSWER_WITHIN, START_WITHIN, Process, run_env
from tests.fakes.discord.driver import DiscordDriver
from tests.fakes.discord.gateway import IDENTIFY, FakeGateway, shard_of
from tests.fakes.discord.server import MESSAGE, TOKEN, FakeDiscord, User, _json
from tests.support.network import free_port

ALICE = User(1001, "Alice")
GUILDS = (GUILD_ON_0, GUILD_ON_1) = (8 << 22, 9 << 22)  # on shards 0 and 1 of 2


def channel_of(guild_id: int) -> int:
    return guild_id + 1  # the text channel the fake gateway gives each of these guilds


def driver(gateway: FakeGateway, guild_id: int) -> DiscordDriver:
    """Interactions from a member in the guild's channel, sent through the gateway to its shard."""
    assert gateway.rest is not None
    return DiscordDriver(
        gateway.rest,
        guild_id=guild_id,
        channel_id=channel_of(guild_id),
        deliver=gateway.interaction,
        within=ANSWER_WITHIN,
    )


class RecommendingDiscord(FakeDiscord):
    """The REST fake, recommending `shards` shards at GET /gateway/bot as Discord does for a grown bot."""

    def __init__(self, shards: int) -> None:
        super().__init__()
        self.shards = shards

    def _route(self, method: str, path: str, body: Any) -> web.Response:
        if (method, path) == ("GET", "/gateway/bot"):
            limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
            return _json({"url": self.gateway_url, "shards": self.shards, "session_start_limit": limit})
        return super()._route(method, path, body)


# -- the settings --------------------------------------------------------------------------------


def shards(**env: str) -> tuple[int | None, tuple[int, ...] | None, bool]:
    settings = Settings.from_env(env)
    return settings.discord_shard_count, settings.discord_shard_ids, settings.discord_auto_shards


def test_without_shard_settings_one_connection_as_before() -> None:
    assert shards() == (None, None, False)
    assert not Settings.from_env({"DISCORD_SHARD_IDS": " ", "DISCORD_SHARD_COUNT": ""}).discord_sharded


def test_shard_ids_ranges_and_lists() -> None:
    assert shards(DISCORD_SHARD_COUNT="4", DISCORD_SHARD_IDS="0-3") == (4, (0, 1, 2, 3), False)
    assert shards(DISCORD_SHARD_COUNT="4", DISCORD_SHARD_IDS="0,2") == (4, (0, 2), False)
    assert shards(DISCORD_SHARD_COUNT="16", DISCORD_SHARD_IDS=" 8 - 10 , 1 ") == (16, (1, 8, 9, 10), False)
    assert shards(DISCORD_SHARD_COUNT="1", DISCORD_SHARD_IDS="0") == (1, (0,), False)
    assert shards(DISCORD_SHARD_COUNT="3") == (3, None, False)  # every shard in this instance


def test_the_count_from_discord() -> None:
    assert shards(DISCORD_SHARD_COUNT="auto") == (None, None, True)
    assert shards(DISCORD_SHARD_COUNT=" AUTO ", DISCORD_SHARD_IDS="1") == (None, (1,), True)
    assert shards(DISCORD_SHARD_IDS="0,2") == (None, (0, 2), True)  # ids alone: the count is Discord's
    assert Settings.from_env({"DISCORD_SHARD_COUNT": "auto"}).discord_sharded


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DISCORD_SHARD_IDS": "3-1"}, "the range 3-1 runs backwards; write 1-3"),
        ({"DISCORD_SHARD_IDS": "0,2,0"}, "lists shard 0 twice"),
        ({"DISCORD_SHARD_IDS": "0-3,2"}, "lists shard 2 twice"),
        ({"DISCORD_SHARD_IDS": "0,,2"}, "an empty entry"),
        ({"DISCORD_SHARD_IDS": "0;2"}, "'0;2' is not a shard id or a range; write e.g. 0-3 or 0,2"),
        ({"DISCORD_SHARD_IDS": "-1"}, "'-1' is not a shard id"),
        ({"DISCORD_SHARD_IDS": "1" * 5000}, f"shard 111111111111… is beyond the limit of {MAX_SHARDS}"),
        ({"DISCORD_SHARD_COUNT": "4", "DISCORD_SHARD_IDS": "2,4"}, "has shard 4, but with "),
        (
            {"DISCORD_SHARD_COUNT": "2", "DISCORD_SHARD_IDS": "1-5"},
            "DISCORD_SHARD_COUNT=2 the shards are 0 to 1",
        ),
        ({"DISCORD_SHARD_COUNT": "0"}, "DISCORD_SHARD_COUNT must be a whole number from 1"),
        ({"DISCORD_SHARD_COUNT": "-2"}, "DISCORD_SHARD_COUNT must be a whole number from 1"),
        ({"DISCORD_SHARD_COUNT": "two"}, "or auto, not 'two'"),
        ({"DISCORD_SHARD_COUNT": str(MAX_SHARDS + 1)}, "DISCORD_SHARD_COUNT must be a whole number"),
    ],
)
def test_bad_shard_settings_are_refused_saying_why(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(env)
    assert message in str(raised.value)


@given(st.text(max_size=40), st.one_of(st.none(), st.integers(1, 64)))
def test_any_shard_ids_text_gives_ids_or_a_config_error(raw: str, count: int | None) -> None:
    try:
        ids = parse_shard_ids(raw, count)
    except ConfigError as exc:
        assert "DISCORD_SHARD" in str(exc)
        return
    if ids is not None:
        assert ids == tuple(sorted(set(ids))) and ids
        assert all(0 <= shard < (count or MAX_SHARDS) for shard in ids)


@given(st.text(alphabet="0123456789-, \t", max_size=30), st.text(alphabet="0123456789auto ", max_size=8))
def test_any_shard_settings_give_settings_or_a_config_error(raw_ids: str, raw_count: str) -> None:
    try:
        Settings.from_env({"DISCORD_SHARD_IDS": raw_ids, "DISCORD_SHARD_COUNT": raw_count})
    except ConfigError as exc:
        assert "DISCORD_SHARD" in str(exc)


@given(st.sets(st.integers(0, 300), min_size=1, max_size=40))
def test_the_logged_shard_list_reads_back_as_the_same_shards(ids: set[int]) -> None:
    assert parse_shard_ids(format_shard_ids(ids)) == tuple(sorted(ids))


# -- the adapter in this process -----------------------------------------------------------------


@pytest.fixture
async def sqlite_service(tmp_path: Path) -> AsyncIterator[StudyService]:
    service = await build_service(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}", [CONTENT])
    yield service
    await service.store.close()  # type: ignore[attr-defined]


@pytest.fixture
async def recommending(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeGateway]:
    """The fake gateway with the two guilds, beside a REST fake that recommends 2 shards."""
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)  # adapters set these
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", DiscordWebSocket.DEFAULT_GATEWAY)
    rest = RecommendingDiscord(shards=2)
    await rest.start()
    gateway = FakeGateway(rest, guilds=GUILDS)
    await gateway.start()
    yield gateway
    await gateway.close()
    await rest.close()


def settings_on(gateway: FakeGateway, tmp_path: Path) -> Settings:
    assert gateway.rest is not None
    return Settings(
        data_dir=tmp_path,
        discord_token=TOKEN,
        discord_api_base=gateway.rest.base,
        discord_gateway_url=gateway.url,
    )


async def test_shard_ids_without_a_count_take_discords_count(
    recommending: FakeGateway,
    sqlite_service: StudyService,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    gateway, rest = recommending, recommending.rest
    assert rest is not None
    settings = Settings.from_env(
        {
            "DISCORD_TOKEN": TOKEN,
            "DISCORD_API_BASE": rest.base,
            "DISCORD_GATEWAY_URL": gateway.url,
            "DISCORD_SHARD_IDS": "1",
            "STUDYBOT_DATA_DIR": str(tmp_path),
        }
    )
    adapter = DiscordAdapter(settings, sqlite_service)
    caplog.set_level(logging.INFO, "bot.adapters.discord.app")
    await adapter.start()
    try:
        await gateway.wait_for(lambda: adapter.status == "connected", within=START_WITHIN)
        assert rest.received("GET", "^/gateway/bot$")
        [connection] = gateway.identified()
        assert connection.ops(IDENTIFY)[0]["d"]["shard"] == [1, 2]
        assert connection.path == "/"  # still at DISCORD_GATEWAY_URL, not at the URL /gateway/bot names
        assert "this instance runs shard(s) 1 of 2, count from Discord" in caplog.text
        bot = driver(gateway, GUILD_ON_1)
        quiz = await bot.slash("quiz", ALICE)
        assert quiz.callback.type == MESSAGE and quiz.callback.custom_ids
    finally:
        await adapter.stop()


async def test_shard_ids_beyond_discords_count_stop_the_start(
    recommending: FakeGateway, sqlite_service: StudyService, tmp_path: Path
) -> None:
    settings = replace(
        settings_on(recommending, tmp_path), discord_shard_ids=(2, 3), discord_auto_shards=True
    )
    adapter = DiscordAdapter(settings, sqlite_service)
    with pytest.raises(ConfigError, match=r"has shard 2, but with Discord's recommended count of 2 "):
        await adapter.start()
    assert adapter.client.is_closed()
    assert recommending.connections == []  # nothing identified with shards that do not exist


async def test_automatic_sharding_runs_every_shard_of_discords_count(
    recommending: FakeGateway, sqlite_service: StudyService, tmp_path: Path
) -> None:
    assert recommending.rest is not None
    recommending.rest.shards = 1  # one shard: no 5 s wait between identifies
    adapter = DiscordAdapter(
        replace(settings_on(recommending, tmp_path), discord_auto_shards=True), sqlite_service
    )
    await adapter.start()
    try:
        await recommending.wait_for(lambda: adapter.status == "connected", within=START_WITHIN)
        [connection] = recommending.identified()
        assert connection.ops(IDENTIFY)[0]["d"]["shard"] == [0, 1]
    finally:
        await adapter.stop()


async def test_the_default_is_one_unsharded_connection(
    recommending: FakeGateway, sqlite_service: StudyService, tmp_path: Path
) -> None:
    adapter = DiscordAdapter(settings_on(recommending, tmp_path), sqlite_service)
    assert not isinstance(adapter.client, discord.AutoShardedClient)
    await adapter.start()
    try:
        await recommending.wait_for(lambda: adapter.status == "connected", within=START_WITHIN)
        [connection] = recommending.identified()
        assert "shard" not in connection.ops(IDENTIFY)[0]["d"]
        assert recommending.rest is not None and not recommending.rest.received("GET", "^/gateway/bot$")
    finally:
        await adapter.stop()


# -- whole processes -----------------------------------------------------------------------------


async def test_a_bad_shard_setting_stops_studybot_run_at_once(tmp_path: Path) -> None:
    rest = FakeDiscord()
    await rest.start()
    gateway = FakeGateway(rest)
    await gateway.start()
    try:
        env = run_env(gateway, tmp_path, free_port()) | {
            "DISCORD_SHARD_COUNT": "4",
            "DISCORD_SHARD_IDS": "3-1",
        }
        process = Process(env, tmp_path, 0, tmp_path / "run.log")
        await process.start()
        assert process.process is not None
        assert await asyncio.wait_for(process.process.wait(), START_WITHIN) == 2
        assert "DISCORD_SHARD_IDS: the range 3-1 runs backwards; write 1-3" in process.output()
        assert gateway.connections == [] and not rest.requests
    finally:
        await gateway.close()
        await rest.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    if not os.environ.get(POSTGRES_ENV):
        pytest.skip(f"{POSTGRES_ENV} not set: the two-instance Discord test needs PostgreSQL")
    from tests.db import fresh_postgres_database

    with fresh_postgres_database() as url:
        yield url


async def metric(http: aiohttp.ClientSession, process: Process, sample: str) -> float:
    async with http.get(f"http://127.0.0.1:{process.health_port}/metrics") as response:
        text = await response.text()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(sample))


def next_minute(after: timedelta) -> datetime:
    return (datetime.now(UTC) + after + timedelta(minutes=1)).replace(second=0, microsecond=0)


async def configure_daily_posts(pg_url: str, at: datetime) -> None:
    """A daily question at `at` (UTC) in each guild's channel, in the database before the instances start:
    each runner schedules both channels as it starts, and at that minute both wake for both at once."""
    service = await build_service(pg_url, [CONTENT])
    try:
        for guild in GUILDS:
            admin = Caller("discord", str(guild), str(ALICE.id), "Alice", is_admin=True)
            done = await service.daily.configure(admin, str(channel_of(guild)), f"{at:%H:%M}", "UTC")
            assert done.title.startswith("Daily question set"), done
    finally:
        await service.store.close()  # type: ignore[attr-defined]


@pytest.mark.postgres
async def test_two_instances_split_the_shards_and_post_once(tmp_path: Path, pg_url: str) -> None:
    rest = FakeDiscord()
    await rest.start()
    gateway = FakeGateway(rest, guilds=GUILDS)
    await gateway.start()
    assert [shard_of(g, 2) for g in GUILDS] == [0, 1]
    # Time to start both first (had they not, their start-up sweeps would post it: still once).
    post_at = next_minute(after=timedelta(seconds=15))
    await configure_daily_posts(pg_url, post_at)
    processes = []
    for name, shard in (("a", "0"), ("b", "1")):
        port = free_port()
        env = run_env(gateway, tmp_path / name, port) | {
            "DATABASE_URL": pg_url,
            "DISCORD_SHARD_COUNT": "2",
            "DISCORD_SHARD_IDS": shard,  # one shard each: discord.py waits 5 s between a process's shards
        }
        processes.append(Process(env, tmp_path, port, tmp_path / f"{name}.log"))
    first, second = processes
    try:
        await asyncio.gather(*(p.start() for p in processes))
        await asyncio.gather(*(p.wait_connected() for p in processes))
        assert "this instance runs shard(s) 0 of 2, count from DISCORD_SHARD_COUNT" in first.output()
        assert "this instance runs shard(s) 1 of 2, count from DISCORD_SHARD_COUNT" in second.output()
        identified = sorted(tuple(c.ops(IDENTIFY)[0]["d"]["shard"]) for c in gateway.identified())
        assert identified == [(0, 2), (1, 2)]  # each shard once: no instance runs the other's

        # A /quiz in each guild reaches the instance running its shard, and only that one answers it;
        # direct messages come on shard 0, as Discord sends them.
        async with aiohttp.ClientSession() as http:
            asked = 'studybot_asks_total{source="quiz"}'
            for guild, dm, answering in (
                (GUILD_ON_0, False, 0),
                (GUILD_ON_1, False, 1),
                (GUILD_ON_1, True, 0),
            ):
                before = [await metric(http, p, asked) for p in processes]
                quiz = await driver(gateway, guild).slash("quiz", ALICE, dm=dm)
                assert quiz.callback.type == MESSAGE and quiz.callback.custom_ids
                assert len(rest.callbacks(quiz.id)) == 1
                after = [await metric(http, p, asked) for p in processes]
                counted = [a - b for a, b in zip(after, before, strict=True)]
                assert counted == [answering == 0, answering == 1], (guild, dm, counted)

            # At the minute, both runners go for both channels; the database gives each post to one.
            def posts(guild: int) -> list[Any]:
                return rest.received("POST", f"^/channels/{channel_of(guild)}/messages$")

            until = (post_at - datetime.now(UTC)).total_seconds() + ANSWER_WITHIN
            await rest.wait_for(lambda: all(posts(g) for g in GUILDS), until)
            # A post reaches the fake before its sender has counted it: wait for both counts.
            posted: list[float] = []
            for _ in range(100):
                posted = [await metric(http, p, "studybot_daily_posts_total") for p in processes]
                if sum(posted) >= 2:
                    break
                await asyncio.sleep(0.1)
        assert await asyncio.gather(*(p.stop() for p in processes)) == [0, 0]  # in-flight posts finish first
        assert [len(posts(g)) for g in GUILDS] == [1, 1], [p.output() for p in processes]
        assert sum(posted) == 2
    finally:
        await asyncio.gather(*(p.stop() for p in processes), return_exceptions=True)
        await gateway.close()
        await rest.close()
    for process in processes:
        assert TOKEN not in process.log.read_text(), "the token reached the log"

"""`studybot discord sync|invite`, fail-fast login, sharding: against the fake Discord API."""

from __future__ import annotations

import asyncio
from pathlib import Path

import discord
import pytest

from bot.adapters.discord import app as app_module
from bot.adapters.discord.app import DiscordAdapter
from bot.adapters.discord.cli import BOT_PERMISSIONS, sync_commands
from bot.adapters.discord.commands import MAKE_CARD
from bot.bootstrap import Core, chat_components
from bot.cli import main
from bot.config import ConfigError, Settings
from bot.core.service import StudyService
from tests.fakes.discord.fixtures import settings_for
from tests.fakes.discord.server import APP_ID, GUILD_ID, FakeDiscord

pytest_plugins = ("tests.fakes.discord.fixtures",)  # the fake_discord fixture

COMMANDS = ["quiz", "stats", "leaderboard", "team", "settings", "decks", "deck", "help", "daily"]


async def test_sync_to_one_server_for_development(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    names = await sync_commands(settings_for(fake_discord.base, tmp_path), GUILD_ID)
    assert names == [*COMMANDS, MAKE_CARD]  # the slash commands, then the message action
    (put,) = fake_discord.received("PUT")
    assert put.path == f"/applications/{APP_ID}/guilds/{GUILD_ID}/commands"
    by_name = {c["name"]: c for c in put.body}
    assert int(by_name["daily"]["default_member_permissions"]) == discord.Permissions(manage_guild=True).value
    assert by_name["quiz"]["default_member_permissions"] is None
    assert by_name["quiz"]["contexts"] == [0, 1]  # servers and the bot's DMs
    assert {o["name"] for o in by_name["daily"]["options"]} == {"set", "off", "status", "digest", "now"}


async def test_sync_globally(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    assert await sync_commands(settings_for(fake_discord.base, tmp_path), None) == [*COMMANDS, MAKE_CARD]
    assert [r.path for r in fake_discord.received("PUT")] == [f"/applications/{APP_ID}/commands"]


def test_invite_url_asks_for_the_least_permissions(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DISCORD_APPLICATION_ID", str(APP_ID))
    assert main(["discord", "invite"]) == 0
    url = capsys.readouterr().out.strip()
    assert url == (
        f"https://discord.com/oauth2/authorize?client_id={APP_ID}"
        f"&scope=bot+applications.commands&permissions={BOT_PERMISSIONS.value}"
    )
    granted = {name for name, on in BOT_PERMISSIONS if on}
    assert granted == {
        "read_messages",  # discord.py's name for View Channel
        "send_messages",
        "send_messages_in_threads",
        "create_public_threads",
        "embed_links",
        "read_message_history",
    }


async def test_a_wrong_token_fails_fast_with_a_clear_message(
    fake_discord: FakeDiscord, service: StudyService, tmp_path: Path
) -> None:
    fake_discord.refuse_token = True
    adapter = DiscordAdapter(settings_for(fake_discord.base, tmp_path), service)
    with pytest.raises(ConfigError, match="DISCORD_TOKEN was refused by Discord"):
        await adapter.start()
    assert not fake_discord.received("GET", "/gateway")  # never tried to connect


async def test_run_starts_discord_when_a_token_is_set(core: Core, tmp_path: Path) -> None:
    assert chat_components(Settings(data_dir=tmp_path), core) == []
    ((adapter, poster),) = chat_components(Settings(data_dir=tmp_path, discord_token="t"), core)
    assert isinstance(adapter, DiscordAdapter) and adapter.name == "discord"
    assert poster is adapter.poster and poster.platform == "discord"
    assert not adapter.client.intents.members and not adapter.client.intents.message_content
    mentions = adapter.client.allowed_mentions
    assert mentions is not None and not (mentions.everyone or mentions.users or mentions.roles)


async def test_sharding_when_a_shard_count_is_configured(service: StudyService, tmp_path: Path) -> None:
    adapter = DiscordAdapter(Settings(data_dir=tmp_path, discord_token="t", discord_shard_count=2), service)
    assert isinstance(adapter.client, discord.AutoShardedClient)
    assert adapter.client.shard_count == 2
    plain = DiscordAdapter(Settings(data_dir=tmp_path, discord_token="t"), service)
    assert not isinstance(plain.client, discord.AutoShardedClient)


async def test_start_then_stop_cleanly(
    fake_discord: FakeDiscord, service: StudyService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter = DiscordAdapter(settings_for(fake_discord.base, tmp_path), service)
    gateway = asyncio.Event()

    async def connect(*, reconnect: bool = True) -> None:  # the fake has no gateway; never reach the real one
        gateway.set()
        await asyncio.Event().wait()

    monkeypatch.setattr(adapter.client, "connect", connect)
    await adapter.start()
    assert fake_discord.received("GET", "^/users/@me$")  # logged in first, so a wrong token fails fast
    await asyncio.wait_for(gateway.wait(), 5)
    await asyncio.wait_for(adapter.stop(), 5)
    assert adapter.client.is_closed() and adapter.status == "stopped"


async def test_the_gateway_is_retried_when_the_first_connection_fails(
    fake_discord: FakeDiscord, service: StudyService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter = DiscordAdapter(settings_for(fake_discord.base, tmp_path), service)
    attempts: list[int] = []

    async def connect(*, reconnect: bool = True) -> None:
        attempts.append(1)
        if len(attempts) == 1:  # what discord.py 2.7 raises when the first connection fails
            raise AttributeError("'NoneType' object has no attribute 'sequence'")
        await asyncio.Event().wait()  # connected until stopped

    monkeypatch.setattr(app_module, "GATEWAY_RETRY_FIRST", 0.01)
    monkeypatch.setattr(adapter.client, "connect", connect)
    await adapter.start()
    await fake_discord.wait_for(lambda: len(attempts) == 2)
    assert adapter.status == "connecting"
    await asyncio.wait_for(adapter.stop(), 5)
    assert adapter.status == "stopped"


def test_sync_names_slash_commands_and_the_message_action_as_members_see_them() -> None:
    from bot.adapters.discord.cli import _shown

    assert [_shown(n) for n in ("quiz", MAKE_CARD)] == ["/quiz", "“Make a study card” (message action)"]

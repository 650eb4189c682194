"""pytest fixtures: a running fake Discord, and a logged-in DiscordAdapter over the test's service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import discord
import pytest

from bot.adapters.discord.app import DiscordAdapter
from bot.config import Settings
from bot.core.service import StudyService
from tests.fakes.discord.driver import (
    DiscordDriver,
)
from tests.fakes.discord.server import (
    TOKEN,
    FakeDiscord,
)

# -- fixtures -----------------------------------------------------------------------------------


@dataclass
class DiscordEnv:
    fake: FakeDiscord
    adapter: DiscordAdapter
    driver: DiscordDriver
    settings: Settings

    async def restart(self, service: StudyService) -> DiscordEnv:
        """A new client (as after a restart) on the same fake; the old one is closed."""
        await self.adapter.client.close()
        adapter = DiscordAdapter(
            self.settings, service, defer_after=self.adapter.client.studybot.replies.defer_after
        )
        await adapter.login()
        self.adapter = adapter
        self.driver = DiscordDriver(self.fake, adapter.client)
        return self


def settings_for(base: str, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, discord_token=TOKEN, discord_api_base=base)


@pytest.fixture
async def fake_discord(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    base = await fake.start()
    monkeypatch.setattr(discord.http.Route, "BASE", base)  # restored after the test
    yield fake
    await fake.close()


@pytest.fixture
async def discord_env(
    fake_discord: FakeDiscord, service: StudyService, tmp_path: Path
) -> AsyncIterator[DiscordEnv]:
    """A DiscordAdapter over the test's StudyService, logged in to the fake (GET /users/@me)."""
    settings = settings_for(fake_discord.base, tmp_path)
    adapter = DiscordAdapter(settings, service)
    await adapter.login()
    env = DiscordEnv(fake_discord, adapter, DiscordDriver(fake_discord, adapter.client), settings)
    yield env
    await env.adapter.client.close()

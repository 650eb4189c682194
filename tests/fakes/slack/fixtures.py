"""pytest fixtures and helpers: a running mock Slack, and the real app in HTTP mode pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.adapters.slack.app import SlackAdapter
from bot.config import Settings
from bot.core.service import StudyService
from tests.fakes.slack.driver import (
    SlackHarness,
)
from tests.fakes.slack.server import (
    BOT_TOKEN,
    SECRET,
    MockSlack,
)

# -- the app under test ---------------------------------------------------------------------------


def http_settings(mock: MockSlack, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_signing_secret": SECRET,
        "slack_bot_token": BOT_TOKEN,
        "slack_api_url": mock.api_url,
        "slack_port": 0,
        "data_dir": Path("unused"),
    }
    values.update(overrides)
    return replace(Settings(), **values)


@pytest.fixture
async def mock_slack() -> AsyncIterator[MockSlack]:
    mock = MockSlack()
    await mock.start()
    yield mock
    await mock.stop()


@pytest.fixture
async def slack(mock_slack: MockSlack, service: StudyService) -> AsyncIterator[SlackHarness]:
    """The real app in HTTP mode (one workspace), its Web API pointed at the mock."""
    async with running(mock_slack, service) as harness:
        yield harness


class running:
    """`async with running(mock, service, **settings) as harness`: start an adapter, stop it after."""

    def __init__(self, mock: MockSlack, service: StudyService, **overrides: Any) -> None:
        engine = service.store.engine  # type: ignore[attr-defined]  # the one bootstrap built
        self.adapter = SlackAdapter(http_settings(mock, **overrides), service, engine, host="127.0.0.1")
        self.mock = mock
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SlackHarness:
        await self.adapter.start()
        self._http = aiohttp.ClientSession()
        return SlackHarness(self.mock, self.adapter, self._http)

    async def __aexit__(self, *_exc: object) -> None:
        assert self._http is not None
        await self._http.close()
        await self.adapter.stop()

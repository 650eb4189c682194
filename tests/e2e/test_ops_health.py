"""Metrics counted at the composition root, and the health endpoint an orchestrator polls."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.bootstrap import open_core, open_engine
from bot.config import Settings
from bot.core.messages import Message
from bot.core.service import StudyService
from bot.ops import probe
from bot.ops.health import HealthServer, database_check
from bot.ops.logs import Redactor
from bot.ops.metrics import MeteredPoster, MeteredStore, Metrics
from bot.schedule.poster import PermanentPostError, PostRef, RetryablePostError
from tests.conftest import CONTENT, FakeClock, member


@pytest.fixture
async def metered(db_url: str, clock: FakeClock) -> AsyncIterator[tuple[StudyService, Metrics]]:
    metrics = Metrics()
    core = await open_core(
        Settings(database_url=db_url, content_dirs=(CONTENT,)), clock=clock, metrics=metrics
    )
    yield core.service, metrics
    await core.close()


async def test_asks_and_grades_are_counted_once(metered: tuple[StudyService, Metrics]) -> None:
    service, metrics = metered
    alice = member("alice")
    question = await service.quiz(alice)
    revealed = await service.act(alice, question.actions[0].id)
    assert isinstance(revealed, Message)
    good = next(a for a in revealed.actions if a.id.endswith(":good"))
    await service.act(alice, good.id)
    await service.act(alice, good.id)  # a double click: not a second grade
    assert metrics.value("studybot_asks_total", source="quiz") == 1
    assert metrics.value("studybot_grades_total", grade="good") == 1
    assert metrics.value("studybot_grades_total", grade="again") == 0
    assert isinstance(service.store, MeteredStore) and service.store.in_flight == 0
    assert service.daily.store is service.store  # daily asks are counted too


class FlakyPoster:
    platform = "slack"

    def __init__(self) -> None:
        self.outcomes: list[Exception | None] = [
            None,
            RetryablePostError("ratelimited"),
            PermanentPostError("gone"),
        ]

    async def post(self, workspace_ref: str, channel_ref: str, message: Message, thread_name: str) -> PostRef:
        outcome = self.outcomes.pop(0)
        if outcome is not None:
            raise outcome
        return PostRef("ts-1")


async def test_daily_posts_and_platform_errors_are_counted_by_kind() -> None:
    metrics = Metrics()
    poster = MeteredPoster(FlakyPoster(), metrics)
    message = Message(title="Question of the day")
    assert await poster.post("T1", "C1", message, "thread") == PostRef("ts-1")
    with pytest.raises(RetryablePostError):
        await poster.post("T1", "C1", message, "thread")
    with pytest.raises(PermanentPostError):
        await poster.post("T1", "C1", message, "thread")
    assert metrics.value("studybot_daily_posts_total", platform="slack") == 1
    assert metrics.value("studybot_platform_errors_total", platform="slack", kind="retryable") == 1
    assert metrics.value("studybot_platform_errors_total", platform="slack", kind="permanent") == 1


class Adapter:
    def __init__(self, name: str, **status: object) -> None:
        self.name = name
        for key, value in status.items():
            setattr(self, key, value)


async def get(port: int, path: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}{path}") as response:
        return response.status, response.headers["Content-Type"], await response.text()


async def test_healthz_reports_database_and_adapters_and_serves_metrics(
    metered: tuple[StudyService, Metrics],
) -> None:
    service, metrics = metered
    await service.quiz(member("bob"))
    adapters = [Adapter("slack", healthy=True), Adapter("discord", status="reconnecting"), Adapter("daily")]
    server = HealthServer(0, database_check(service.store.engine), adapters, metrics, host="127.0.0.1")  # type: ignore[attr-defined]
    await server.start()
    try:
        code, kind, body = await get(server.port, "/healthz")
        assert code == 200 and kind.startswith("application/json")
        assert json.loads(body) == {
            "status": "ok",
            "database": "ok",
            "adapters": {"slack": "connected", "discord": "reconnecting", "daily": "running"},
        }
        code, kind, body = await get(server.port, "/metrics")
        assert code == 200 and kind.startswith("text/plain")
        assert 'studybot_asks_total{source="quiz"} 1.0' in body
        server.stopping = True  # on the way out: a load balancer should stop sending work
        code, _kind, body = await get(server.port, "/healthz")
        assert code == 503 and '"status": "stopping"' in body
    finally:
        await server.stop()


async def test_healthz_is_503_without_secrets_when_the_database_is_unreachable() -> None:
    password = "db-pass-6a1f"
    # Nothing listens on port 9, so the connection is refused at once.
    engine = open_engine(f"postgresql://studybot:{password}@127.0.0.1:9/studybot")
    server = HealthServer(
        0, database_check(engine), [Adapter("slack")], Metrics(), Redactor([password]), host="127.0.0.1"
    )
    await server.start()
    try:
        code, _kind, body = await get(server.port, "/healthz")
    finally:
        await server.stop()
        await engine.dispose()
    assert code == 503
    answer = json.loads(body)
    assert answer["status"] == "unavailable"
    assert answer["database"].startswith("unreachable: ")
    assert "Connect" in answer["database"]
    assert password not in body


async def test_container_probe_follows_healthz(
    metered: tuple[StudyService, Metrics], monkeypatch: pytest.MonkeyPatch
) -> None:
    service, metrics = metered
    monkeypatch.delenv("STUDYBOT_HEALTH_PORT", raising=False)
    assert probe.main() == 0  # no endpoint configured: nothing to fail on
    server = HealthServer(0, database_check(service.store.engine), [], metrics, host="127.0.0.1")  # type: ignore[attr-defined]
    await server.start()
    try:
        monkeypatch.setenv("STUDYBOT_HEALTH_PORT", str(server.port))
        assert await asyncio.to_thread(probe.main) == 0
        server.stopping = True
        assert await asyncio.to_thread(probe.main) == 1
    finally:
        await server.stop()
    assert await asyncio.to_thread(probe.main) == 1  # nobody listening

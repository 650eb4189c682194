"""The composition root: the one place that builds the engine, the store, the services, the posters, the
daily runner, the chat adapters and the health endpoint. Everything else is handed what it needs.

settings → engine → store (+ metrics, as a wrapper) → services → posters → runner → adapters → health.
Tests and benches build through the same functions and pass fakes in (a clock, posters, a store)."""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import ConfigError, Settings
from bot.core.model.stats_picture import StatsPicture
from bot.core.ports import Clock, Store
from bot.core.service import StudyService
from bot.core.services.study import ANSWER_LIMIT
from bot.schedule.poster import Poster
from bot.store.engine import create_engine
from bot.store.migrate import startup_lock, upgrade
from bot.store.sql_store import SqlStore

if TYPE_CHECKING:
    from bot.adapters.console import ConsoleBot
    from bot.adapters.slack.app import SlackAdapter
    from bot.ops.health import HealthServer
    from bot.ops.metrics import MeteredStore, Metrics
    from bot.schedule.outreach import OutreachRunner
    from bot.schedule.runner import DailyRunner


class Component(Protocol):
    """A long-running part of the process: an adapter, the scheduler, the health server."""

    name: str

    async def start(self) -> None:
        """Connect and start serving; raise ConfigError (with a clear message) on bad credentials."""
        ...

    async def stop(self) -> None:
        """Finish in-flight work and disconnect."""
        ...


class NoChatPlatform(ConfigError):
    """`studybot run` with neither Discord nor Slack configured."""


# -- the database and the core ------------------------------------------------------------------------


def open_engine(url: str) -> AsyncEngine:
    """The database engine; the only one the process makes (the store, the Slack stores and the inbox
    share it). Tests that inspect a database directly open theirs here too."""
    return create_engine(url)


async def migrate(url: str) -> None:
    """`studybot db upgrade`: the newest schema, under the same lock `studybot run` takes at start."""
    engine = open_engine(url)
    try:
        async with startup_lock(engine):
            await upgrade(engine)
    finally:
        await engine.dispose()


def make_service(store: Store, settings: Settings, clock: Clock | None = None) -> StudyService:
    """The services over a store: the one place they are constructed."""
    return StudyService(
        store,
        clock,
        answer_limit=settings.answer_limit,
        content=settings.content_dirs,
        render_picture=render_stats_picture,
    )


def render_stats_picture(picture: StatsPicture) -> bytes:
    """The /stats picture as PNG; Pillow is imported on the first /stats, not at start-up."""
    from bot.pictures.stats import render_stats_png

    return render_stats_png(picture)


@dataclass
class Core:
    """What every front end shares: the service and the store it uses (metered in `studybot run`)."""

    service: StudyService
    store: Store
    engine: AsyncEngine | None = None  # None when a test passed its own store in
    metered: MeteredStore | None = None
    owned: SqlStore | None = None  # built here, so closed here (with its engine)

    async def close(self) -> None:
        if self.owned is not None:
            await self.owned.close()


async def open_core(
    settings: Settings,
    *,
    clock: Clock | None = None,
    metrics: Metrics | None = None,
    store: Store | None = None,
) -> Core:
    """Migrate the database, wire the store and the services, load the decks (valid ones served, broken
    ones reported). With `store`, a test's own store is used as it is: no engine, no migrations."""
    if store is not None:
        metered = _metered(store, metrics)
        service = make_service(metered or store, settings, clock)
        await service.library.reload()
        return Core(service, service.store, metered=metered)
    engine = open_engine(settings.db_url)
    owned: SqlStore | None = None
    try:
        # One instance at a time migrates and syncs the decks (a no-op lock on SQLite).
        async with startup_lock(engine):
            await upgrade(engine)
            owned = SqlStore(engine)
            await owned.open()
            metered = _metered(owned, metrics)
            service = make_service(metered or owned, settings, clock)
            await service.library.reload()
    except BaseException:
        if owned is not None:  # its grade lane's threads would keep the process from exiting
            with contextlib.suppress(Exception):
                await owned.close()
        await engine.dispose()
        raise
    return Core(service, service.store, engine, metered, owned)


def _metered(store: Store, metrics: Metrics | None) -> MeteredStore | None:
    """The store counted for /metrics (`studybot run`); without metrics (the console) prometheus_client is
    not imported at all."""
    if metrics is None:
        return None
    from bot.ops.metrics import MeteredStore

    return MeteredStore(store, metrics)


async def build_service(
    db_url: str, content: Sequence[Path], clock: Clock | None = None, answer_limit: int = ANSWER_LIMIT
) -> StudyService:
    """A ready service on a database URL, for tests and benches; `await service.store.close()` ends it."""
    settings = Settings(database_url=db_url, content_dirs=tuple(content), answer_limit=answer_limit)
    return (await open_core(settings, clock=clock)).service


# -- posters, the daily runner, the adapters, health ----------------------------------------------------


def daily_runner(
    service: StudyService, posters: Mapping[str, Poster], settings: Settings, **options: Any
) -> DailyRunner:
    from bot.schedule.runner import DailyRunner

    return DailyRunner(service, dict(posters), settings, **options)


def outreach_runner(service: StudyService, posters: Mapping[str, Poster], **options: Any) -> OutreachRunner:
    """Due-card reminders through the posters' direct messages (every chat poster implements `dm`) and
    the weekly digests through their posts."""
    from bot.schedule.outreach import OutreachRunner

    return OutreachRunner(service, posters, **options)


def slack_adapter(
    settings: Settings, service: StudyService, engine: AsyncEngine, *, host: str = "0.0.0.0"
) -> SlackAdapter:
    from bot.adapters.slack.app import SlackAdapter

    return SlackAdapter(settings, service, engine, host=host)


def chat_components(settings: Settings, core: Core) -> list[tuple[Component, Poster | None]]:
    """The chat adapters whose credentials are configured, with their posters for daily questions."""
    found: list[tuple[Component, Poster | None]] = []
    if settings.discord_token:
        from bot.adapters.discord.app import DiscordAdapter

        discord = DiscordAdapter(settings, core.service)
        found.append((discord, discord.poster))
    if settings.slack_bot_token or settings.slack_signing_secret:
        assert core.engine is not None, "Slack keeps its installations and inbox in the database"
        slack = slack_adapter(settings, core.service, core.engine)
        found.append((slack, slack.poster))
    return found


@dataclass
class Process:
    """`studybot run` assembled: the components in start order (health first when configured)."""

    core: Core
    components: list[Component]
    health: HealthServer | None


def assemble(settings: Settings, core: Core, metrics: Metrics) -> Process:
    """Adapters, their posters (metered), the daily runner and the health endpoint over a core built with
    `metrics`. Raises ConfigError (NoChatPlatform when nothing is configured)."""
    assert core.metered is not None, "open the core with the same metrics"
    chats = chat_components(settings, core)
    if not chats:
        raise NoChatPlatform(
            "no chat platform configured: set DISCORD_TOKEN or SLACK_BOT_TOKEN (see .env.example)"
        )
    from bot.ops.metrics import MeteredPoster

    posters = {p.platform: MeteredPoster(p, metrics) for _c, p in chats if p is not None}
    components: list[Component] = [c for c, _p in chats]
    components.append(daily_runner(core.service, posters, settings))
    components.append(outreach_runner(core.service, posters))
    health: HealthServer | None = None
    if settings.health_port is not None:
        from bot.ops.health import HealthServer, database_check
        from bot.ops.logs import Redactor, secrets_of

        assert core.engine is not None
        health = HealthServer(
            settings.health_port,
            database_check(core.engine),
            list(components),
            metrics,
            Redactor(secrets_of(settings)),
        )
        components.insert(0, health)  # first up, last down: it reports the others while they stop
    return Process(core, components, health)


# -- the terminal ---------------------------------------------------------------------------------------


def on_database_file(settings: Settings, db: Path | None) -> Settings:
    """`studybot console --db FILE`: the same settings on another SQLite file."""
    if db is None:
        return settings
    from bot.config import sqlite_url

    return dataclasses.replace(settings, database_url=sqlite_url(db))


class Runners:
    """Several runners started and stopped as one (the terminal's daily and outreach runners)."""

    def __init__(self, *runners: DailyRunner | OutreachRunner) -> None:
        self.runners = runners

    async def start(self) -> None:
        for runner in self.runners:
            await runner.start()

    async def stop(self) -> None:
        for runner in reversed(self.runners):
            await runner.stop()


def console(
    core: Core, settings: Settings, user: str, out: TextIO = sys.stdout
) -> tuple[ConsoleBot, Runners]:
    """The terminal bot and its runners: the question of the day is posted into the terminal, and the
    member's reminder is shown there (the digest too), printed above the prompt."""
    from bot.adapters.console import ConsoleBot
    from bot.adapters.console_poster import ConsolePoster

    bot = ConsoleBot(core.service, user, out=out, files_dir=settings.data_dir / "files")
    # The daily question runs here too: /daily set 09:00 Europe/Berlin, then /daily now.
    poster = ConsolePoster(bot.show_post, out=out)
    runners = Runners(
        daily_runner(core.service, {"console": poster}, settings),
        outreach_runner(core.service, {"console": poster}),
    )
    return bot, runners

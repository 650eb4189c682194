"""`studybot run`: the configured adapters and the daily scheduler in one process, stopped cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Protocol

from bot.app import build_service
from bot.config import ConfigError, Settings
from bot.core.service import StudyService
from bot.schedule.poster import Poster

log = logging.getLogger(__name__)


class Component(Protocol):
    """A long-running part of the process: an adapter, the scheduler, the health server."""

    name: str

    async def start(self) -> None:
        """Connect and start serving; raise ConfigError (with a clear message) on bad credentials."""
        ...

    async def stop(self) -> None:
        """Finish in-flight work and disconnect."""
        ...


def chat_components(settings: Settings, service: StudyService) -> list[tuple[Component, Poster | None]]:
    """The chat adapters whose credentials are configured, with their posters for daily questions."""
    found: list[tuple[Component, Poster | None]] = []
    if settings.discord_token:
        from bot.adapters.discord.app import DiscordAdapter

        discord = DiscordAdapter(settings, service)
        found.append((discord, discord.poster))
    if settings.slack_bot_token or settings.slack_signing_secret:
        from bot.adapters.slack.app import SlackAdapter

        slack = SlackAdapter(settings, service)
        found.append((slack, slack.poster))
    return found


async def run(settings: Settings) -> int:
    service = await build_service(settings.db_url, settings.content_dirs, answer_limit=settings.answer_limit)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    chats = chat_components(settings, service)
    if not chats:
        log.error("no chat platform configured: set DISCORD_TOKEN or SLACK_BOT_TOKEN (see .env.example)")
        await service.store.close()  # type: ignore[attr-defined]
        return 2
    posters = {poster.platform: poster for _c, poster in chats if poster is not None}

    from bot.schedule.runner import DailyRunner

    components: list[Component] = [c for c, _p in chats]
    components.append(DailyRunner(service, posters, settings))
    started: list[Component] = []
    code = 0
    try:
        for component in components:
            await component.start()
            started.append(component)
            log.info("started component=%s", component.name)
        await stop.wait()
        log.info("stopping: signal received")
    except ConfigError as exc:
        log.error("cannot start: %s", exc)
        code = 2
    finally:
        for component in reversed(started):
            try:
                await asyncio.wait_for(component.stop(), timeout=8)
            except Exception:
                log.exception("component=%s did not stop cleanly", component.name)
        await service.store.close()  # type: ignore[attr-defined]
    return code

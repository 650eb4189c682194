"""SIGHUP reloads the deck files (`kill -HUP PID`, `docker compose kill -s HUP bot`), like `/decks reload`."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable

from bot.core.service import StudyService

log = logging.getLogger(__name__)


def reload_decks_on_sighup(service: StudyService, say: Callable[[str], None] | None = None) -> None:
    """From now on, SIGHUP reloads the decks in the running loop; `say` gets the one-line outcome
    (the log has it in any case). No-op where there is no SIGHUP (Windows)."""
    if not hasattr(signal, "SIGHUP"):
        return
    loop = asyncio.get_running_loop()
    running: set[asyncio.Task[None]] = set()  # held so the tasks are not garbage-collected mid-way

    def on_hup() -> None:
        task = loop.create_task(_reload(service, say))
        running.add(task)
        task.add_done_callback(running.discard)

    loop.add_signal_handler(signal.SIGHUP, on_hup)


def ignore_sighup_until_ready() -> None:
    """While starting, SIGHUP (whose default is to end the process) is only noted: decks load anyway."""
    if hasattr(signal, "SIGHUP"):
        asyncio.get_running_loop().add_signal_handler(
            signal.SIGHUP, lambda: log.info("SIGHUP while starting: the decks are being loaded now anyway")
        )


async def _reload(service: StudyService, say: Callable[[str], None] | None) -> None:
    log.info("SIGHUP: reloading the decks")
    try:
        report = await service.library.reload()
    except Exception:
        log.exception("deck reload failed; the decks loaded before are still served")
        if say is not None:
            say("Deck reload failed; the decks loaded before are still served (see the log).")
        return
    refused = len({p.path for p in report.problems})
    summary = f"decks reloaded: {len(report.served)} served, {refused} refused"
    log.info(summary)
    if say is not None:
        say(summary[0].upper() + summary[1:] + (" (see /decks)" if refused else ""))

"""`studybot run`: the configured adapters, the daily scheduler and the health endpoint in one process.

SIGTERM (or Ctrl-C) stops it within 10 seconds: the scheduler finishes the post it is making, the
adapters stop taking work and finish what they hold, database calls still running are waited for, then the
database is closed and the process exits 0. A watchdog makes sure of the 10 seconds whatever hangs.
SIGHUP reloads the deck files (bot/ops/reload.py)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import time

from bot import bootstrap
from bot.bootstrap import Component, Core, NoChatPlatform
from bot.config import ConfigError, Settings
from bot.ops.health import HealthServer
from bot.ops.logs import describe_error, log_start_failure, safe_url
from bot.ops.metrics import Metrics
from bot.ops.reload import ignore_sighup_until_ready, reload_decks_on_sighup

log = logging.getLogger(__name__)

# Seconds from the signal to exit. Orchestrators (docker stop, Kubernetes) kill after 10.
STOP_BUDGET = 8.0
WATCHDOG_AFTER = 9.5
# Kept back from the components' share for draining database calls and closing the database.
CLOSE_RESERVE = 1.5


def _start_watchdog(seconds: float) -> None:
    """Exit the process after `seconds` if a clean stop is still not done (a hung socket, a stuck thread)."""

    def expire() -> None:
        log.error("stop took longer than %.1fs: exiting now", seconds)
        for handler in logging.getLogger().handlers:
            handler.flush()
        os._exit(0)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()


async def _start(component: Component, stop: asyncio.Event) -> bool:
    """Start one component; False if a stop signal came first (the half-started component is cancelled)."""
    starting = asyncio.ensure_future(component.start())
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if starting.done():
        starting.result()  # raises what start() raised
        return True
    starting.cancel()
    try:
        await starting
    except (asyncio.CancelledError, Exception):
        pass
    return False


async def _stop_all(
    components: list[Component], core: Core, health: HealthServer | None, deadline: float
) -> bool:
    """Stop the components newest first within the deadline, drain database calls, close the database.
    True if everything stopped in time and without error."""
    store = core.metered
    assert store is not None, "built with metrics, which count the calls to wait for"
    loop = asyncio.get_running_loop()
    clean = True
    if health is not None:
        health.stopping = True  # /healthz answers 503 from now on
    others = [c for c in reversed(components) if c is not health]
    for index, component in enumerate(others):
        later = len(others) - index - 1
        # Leave each later component at least half a second, and the database its reserve.
        budget = max(0.2, deadline - CLOSE_RESERVE - 0.5 * later - loop.time())
        extra = {"component": component.name}
        try:
            async with asyncio.timeout(budget):
                await component.stop()
            log.info("stopped %s", component.name, extra=extra)
        except TimeoutError:
            clean = False
            log.warning("%s did not stop within %.1fs", component.name, budget, extra=extra)
        except Exception:
            clean = False
            log.exception("%s did not stop cleanly", component.name, extra=extra)
    try:
        async with asyncio.timeout(max(0.2, deadline - 0.5 - loop.time())):
            await store.drained()
    except TimeoutError:
        clean = False
        log.warning("closing the database with %d calls still running", store.in_flight)
    if health is not None:
        try:
            async with asyncio.timeout(0.5):
                await health.stop()
        except (TimeoutError, Exception):
            clean = False
            log.warning("health endpoint did not stop cleanly")
    try:
        async with asyncio.timeout(max(0.2, deadline - loop.time())):
            await core.close()
    except (TimeoutError, Exception):
        clean = False
        log.warning("database did not close cleanly", exc_info=True)
    return clean


async def run(settings: Settings) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signalled: list[float] = []

    def on_signal(sig: signal.Signals) -> None:
        if not signalled:
            signalled.append(time.monotonic())
            log.info("stopping: %s received", sig.name)
            _start_watchdog(WATCHDOG_AFTER)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
    ignore_sighup_until_ready()

    log.info("starting: database %s", safe_url(settings.db_url))
    metrics = Metrics()
    try:
        core = await bootstrap.open_core(settings, metrics=metrics)
    except Exception as exc:
        log_start_failure(log, settings.db_url, exc)
        return 1
    reload_decks_on_sighup(core.service)

    try:
        process = bootstrap.assemble(settings, core, metrics)
    except NoChatPlatform as exc:
        log.error("%s", exc)
        await core.close()
        return 2
    except ConfigError as exc:
        log.error("cannot start: %s", exc)
        await core.close()
        return 2
    except Exception:
        log.exception("cannot start: the chat adapters could not be set up")
        await core.close()
        return 1
    components, health = process.components, process.health

    started: list[Component] = []
    code = 0
    clean = False
    try:
        for component in components:
            if stop.is_set():
                break
            started.append(component)  # stopped on the way out even if start() fails half-way
            if not await _start(component, stop):
                break
            log.info("started %s", component.name, extra={"component": component.name})
        else:
            log.info("running: %s", ", ".join(c.name for c in started))
        await stop.wait()
    except ConfigError as exc:
        log.error("cannot start: %s", exc)
        code = 2
    except Exception as exc:
        log.error("cannot start: %s", describe_error(exc))
        log.debug("start error details", exc_info=True)
        code = 1
    finally:
        begun = signalled[0] if signalled else time.monotonic()
        deadline = loop.time() + STOP_BUDGET - (time.monotonic() - begun)
        clean = await _stop_all(started, core, health, deadline)
    if signalled:
        took = time.monotonic() - signalled[0]
        if clean:
            log.info("stopped cleanly in %.1fs", took)
        else:
            log.warning("stopped in %.1fs, some parts not cleanly (see above)", took)
    return code

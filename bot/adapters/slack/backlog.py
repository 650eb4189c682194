"""Acked Slack work not done yet, run in the background after the ack, and bounded.

Acks come first: while requests are being acked the work waits (up to `defer` seconds, so a steady stream
can't starve it), and it runs a few items at a time, which keeps every ack far inside Slack's 3 seconds
under a burst. Past `limit` unfinished items new requests are refused (Slack is asked to send them again)
rather than queued without end. On stop, work is finished for a while; what is left stays in the inbox."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator

from bot.adapters.slack.inbox import Item


class Busy(RuntimeError):
    """Too much acked work is waiting: answer so that Slack retries later."""


class Backlog:
    def __init__(self, limit: int, concurrency: int = 8, defer: float = 0.5) -> None:
        self.limit = limit
        self._slots = asyncio.Semaphore(concurrency)
        self._defer = defer
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._items: dict[str, Item] = {}
        self._requests = 0
        self._reserved = 0
        self._quiet = asyncio.Event()
        self._quiet.set()
        self._stopping = False
        self.finished = 0

    @property
    def count(self) -> int:
        """Unfinished items this instance holds."""
        return len(self._items)

    @property
    def room(self) -> int:
        return max(0, self.limit - len(self._items) - self._reserved)

    @contextlib.contextmanager
    def reserve(self) -> Iterator[None]:
        """A place for one request while it is being kept; Busy if there is none."""
        if self._stopping or len(self._items) + self._reserved >= self.limit:
            raise Busy(f"{len(self._items)} acked requests unfinished, {self._reserved} being kept")
        self._reserved += 1
        try:
            yield
        finally:
            self._reserved -= 1

    @contextlib.contextmanager
    def acking(self) -> Iterator[None]:
        """Around the handling of one incoming request."""
        self._requests += 1
        self._quiet.clear()
        try:
            yield
        finally:
            self._requests -= 1
            if self._requests == 0:
                self._quiet.set()

    def spawn(self, item: Item, work: Callable[[Item], Awaitable[None]]) -> None:
        self._items[item.id] = item
        task = asyncio.get_running_loop().create_task(self._run(item, work))
        self._tasks[item.id] = task

    async def _run(self, item: Item, work: Callable[[Item], Awaitable[None]]) -> None:
        try:
            async with self._slots:
                if self._stopping:
                    return  # not started: it stays in the inbox
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._quiet.wait(), self._defer)
                await work(item)
                self._items.pop(item.id, None)
                self.finished += 1
        finally:
            self._tasks.pop(item.id, None)

    async def stop(self, drain: float, grace: float) -> list[Item]:
        """Finish work for up to `drain` seconds; then start nothing new, give what runs `grace` seconds
        more, and cancel the rest. Returns the items left unfinished (still in the inbox)."""
        tasks = list(self._tasks.values())
        if tasks:
            await asyncio.wait(tasks, timeout=drain)
        self._stopping = True
        tasks = list(self._tasks.values())
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()

            if pending:
                await asyncio.wait(pending, timeout=0.5)
        return list(self._items.values())

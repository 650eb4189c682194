"""Pacing posts to one platform after it said "rate limited", and recording many posts in one write."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

from bot.schedule.poster import PostRef

Sleep = Callable[[float], Awaitable[None]]


class RateGate:
    """Paces one platform's posts once it has answered "rate limited".

    Nobody starts before the retry-after has passed, and after a refusal starts are spaced at a little more
    than the interval between recent successes: while refusals happen the platform is saturated, so that
    interval is what it allows. Posts then go out just under its rate instead of a crowd retrying at once
    and nearly all being refused again (refusals count against a bot on Discord). After a long run
    without a refusal the spacing shrinks a little, in case the limit was raised."""

    MARGIN = 1.03
    WINDOW = 32  # recent successes used to measure the platform's rate
    PROBE_EVERY = 200  # successes without a refusal before trying 5% faster
    PACE_LIMIT = 0.5  # a longer retry-after is a pause to wait out, not a rate to pace at

    def __init__(self, sleep: Sleep = asyncio.sleep, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._sleep = sleep
        self._now = monotonic
        self.spacing = 0.0
        self._until = 0.0
        self._next = 0.0
        self._clean = 0
        self._successes: deque[float] = deque(maxlen=self.WINDOW)

    async def wait(self) -> None:
        now = self._now()
        start = max(now, self._until, self._next)
        self._next = start + self.spacing
        if start > now:
            await self._sleep(start - now)

    def limited(self, retry_after: float) -> None:
        now = self._now()
        self._until = max(self._until, now + retry_after)
        self._clean = 0
        if retry_after > self.PACE_LIMIT:
            return
        recent = [t for t in self._successes if now - t < 2.0]
        interval = (recent[-1] - recent[0]) / (len(recent) - 1) if len(recent) >= 8 else 0.0
        # Measured afresh each time, so a burst of refusals cannot ratchet the spacing up and up.
        self.spacing = max(retry_after, min(interval, self.PACE_LIMIT)) * self.MARGIN

    def succeeded(self) -> None:
        self._successes.append(self._now())
        self._clean += 1
        if self._clean >= self.PROBE_EVERY:
            self._clean = 0
            self.spacing = self.spacing * 0.95 if self.spacing > 1e-4 else 0.0


class GroupCommit:
    """Records posts that went out, sharing one transaction among those finishing at the same time.

    Each caller still waits until its own record is committed, so a crash loses no more than with a
    transaction per post; but the database does one write for many posts, not one each."""

    def __init__(self, write: Callable[[list[tuple[int, str, str | None]]], Awaitable[None]]) -> None:
        self._write = write
        self._pending: list[tuple[tuple[int, str, str | None], asyncio.Future[None]]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def record(self, post_id: int, ref: PostRef) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append(((post_id, ref.message_ref, ref.thread_ref), done))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.get_running_loop().create_task(self._flush())
        await done

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await self._write([item for item, _done in batch])
            except Exception as exc:
                for _item, done in batch:
                    done.set_exception(exc)
            else:
                for _item, done in batch:
                    done.set_result(None)

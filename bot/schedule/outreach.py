"""ReminderRunner: every sweep, the members whose reminder time has come get one direct message each.

As with the daily post, the database decides who sends (one `outreach` row per member and local day,
bot/store/outreach.py): restarts, misfires and extra instances cannot send twice; a sweep on start and every
minute catches up on what came due meanwhile (within the grace window). Sends are paced per platform by
the same RateGate as daily posts, and claims are held and fenced by the same ClaimKeeper."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from datetime import UTC, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.core.model.reminders import ReminderJob
from bot.core.model.typed_text import storable
from bot.core.services.reminders import ReminderService, message
from bot.schedule.claims import ClaimKeeper, Lease
from bot.schedule.pacing import GroupCommit, RateGate
from bot.schedule.poster import DirectPoster, PermanentPostError, RetryablePostError
from bot.schedule.runner import instance_name

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class ReminderRunner:
    name = "reminders"

    def __init__(
        self,
        reminders: ReminderService,
        posters: Mapping[str, DirectPoster],
        *,
        grace: timedelta = timedelta(hours=6),
        claim_timeout: timedelta = timedelta(minutes=5),
        sweep_seconds: float = 60.0,
        concurrency: int = 32,
        claim_batch: int = 200,
        max_attempts: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        rate_limit_budget: float = 300.0,
        post_timeout: float = 30.0,
        sleep: Sleep = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        instance: str | None = None,
    ) -> None:
        self.reminders = reminders
        self.posters = dict(posters)
        self.grace = grace
        self.claim_timeout = claim_timeout
        self.sweep_seconds = sweep_seconds
        self.concurrency = concurrency
        self.claim_batch = claim_batch
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.rate_limit_budget = rate_limit_budget
        self.instance = instance or instance_name()
        self._claims = ClaimKeeper(reminders.renew, claim_timeout, reminders.clock.now, sleep)
        self.post_timeout = min(post_timeout, self._claims.attempt_limit)
        self._monotonic = monotonic
        self._gates = {platform: RateGate(self._claims.wait, monotonic) for platform in self.posters}
        self._records = GroupCommit(lambda done: reminders.sent([(row, ref) for row, ref, _t in done]))
        self._scheduler: AsyncIOScheduler | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._sweeping = asyncio.Lock()

    async def start(self) -> None:
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._scheduler.add_job(
            self._wake,
            IntervalTrigger(seconds=self.sweep_seconds, timezone=UTC),
            id="reminder-sweep",
            coalesce=True,
            max_instances=1,
        )
        self._scheduler.start()
        self._spawn(self.sweep())  # catch up on reminders that came due while we were down
        log.info("reminder runner started instance=%s platforms=%s", self.instance, ",".join(self.posters))

    async def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _wake(self) -> None:
        if not self._sweeping.locked():  # a long fan-out is still going: the next sweep picks up the rest
            self._spawn(self.sweep())

    async def sweep(self) -> Counter[str]:
        """Send every reminder due now and not yet sent; how many went which way."""
        async with self._sweeping:
            jobs = await self.reminders.due(self.grace, set(self.posters))
            if jobs:
                log.info("reminder sweep: %d member(s) due", len(jobs))
            return await self._fan_out(jobs)

    async def _fan_out(self, jobs: list[ReminderJob]) -> Counter[str]:
        """Claims in batches, one batch ahead of the sending workers (as the daily runner does)."""
        outcome: Counter[str] = Counter()
        workers = min(self.concurrency, len(jobs))
        queue: asyncio.Queue[tuple[ReminderJob, int, Lease] | None] = asyncio.Queue(maxsize=self.concurrency)

        async def claim_all() -> None:
            try:
                for start in range(0, len(jobs), self.claim_batch):
                    batch = jobs[start : start + self.claim_batch]
                    try:
                        won = await self.reminders.claim(batch, self.instance, self.claim_timeout)
                    except Exception:  # the database is away: the next sweep tries again
                        log.exception("reminder claim failed for %d member(s)", len(batch))
                        outcome["failed"] += len(batch)
                        continue
                    for job, claim in zip(batch, won, strict=True):
                        if claim is None:
                            outcome["taken"] += 1
                            continue
                        row_id, token = claim
                        await queue.put((job, row_id, self._claims.hold(row_id, token)))
            finally:
                for _ in range(workers):
                    await queue.put(None)

        async def work() -> None:
            while (item := await queue.get()) is not None:
                job, row_id, lease = item
                try:
                    outcome[await self._send(job, row_id, lease)] += 1
                except Exception:
                    log.exception("reminder crashed member=%s", job.member.id)
                    outcome["failed"] += 1
                finally:
                    self._claims.release(lease)

        await asyncio.gather(claim_all(), *(work() for _ in range(workers)))
        return outcome

    async def _send(self, job: ReminderJob, row_id: int, lease: Lease) -> str:
        platform, _, workspace_ref = job.member.workspace_id.partition(":")
        poster = self.posters[platform]
        gate = self._gates.setdefault(platform, RateGate(self._claims.wait, self._monotonic))
        shown = message(job)
        errors = 0
        rate_waited = 0.0
        while True:
            await gate.wait()
            if not await self._claims.confirm(lease):  # sent or taken over meanwhile: not ours
                return "taken"
            try:
                ref = await asyncio.wait_for(
                    poster.dm(workspace_ref, job.member.user_ref, shown), self.post_timeout
                )
            except PermanentPostError as exc:
                log.warning(
                    "reminder refused member=%s reason=%s: pausing", job.member.id, storable(exc.reason)
                )
                await self.reminders.unreachable(job, row_id, exc.reason)
                return "paused"
            except RetryablePostError as exc:
                retry = exc
            except TimeoutError:
                retry = RetryablePostError(f"no answer within {self.post_timeout:g} s")
            except Exception as exc:
                log.exception("reminder poster raised member=%s", job.member.id)
                retry = RetryablePostError(f"{type(exc).__name__}: {exc}")
            else:
                gate.succeeded()
                await self._records.record(row_id, ref)
                return "sent"
            if retry.retry_after is not None:
                gate.limited(retry.retry_after)
                rate_waited += retry.retry_after
                if rate_waited <= self.rate_limit_budget:
                    continue
            else:
                errors += 1
                if errors < self.max_attempts:
                    delay = min(self.max_backoff, self.backoff * 2 ** (errors - 1))
                    await self._claims.wait(delay * random.uniform(0.5, 1.0))
                    continue
            await self.reminders.failed(row_id, retry.reason)
            return "failed"

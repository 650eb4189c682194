"""DailyRunner: wakes up on time (APScheduler), claims in the database, posts through the platform's Poster.

APScheduler only wakes the runner. Whether a channel gets a post is decided by the claim in the database
(bot/store/daily_claims.py), so restarts, retries, misfires and extra instances cannot post twice; the
sweep on start and every few minutes makes sure nothing due is silently skipped."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, date, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import Settings
from bot.core.messages import Message
from bot.core.model.calendar import cron_days
from bot.core.model.daily import ClaimStatus, DailyChannel, DailyClaim, PostResult, PostStatus, due_date
from bot.core.model.typed_text import storable
from bot.core.ports import Clock
from bot.core.service import StudyService
from bot.core.texts.daily import thread_name
from bot.schedule.attempts import Outcome, RetryPolicy, attempt, record_sent
from bot.schedule.claims import ClaimKeeper, Lease
from bot.schedule.pacing import GroupCommit, RateGate
from bot.schedule.poster import Poster

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


def instance_name() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class DailyRunner:
    name = "daily"

    def __init__(
        self,
        service: StudyService,
        posters: dict[str, Poster],
        settings: Settings,
        clock: Clock | None = None,
        *,
        concurrency: int = 32,
        claim_batch: int = 50,
        max_attempts: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        rate_limit_budget: float = 300.0,
        post_timeout: float = 30.0,
        claim_timeout: timedelta | None = None,
        sleep: Sleep = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        instance: str | None = None,
    ) -> None:
        self.service = service
        self.daily = service.daily
        self.posters = posters
        self.settings = settings
        self.clock: Clock = clock or service.clock
        self.grace = timedelta(hours=settings.daily_grace_hours)
        self.claim_timeout = claim_timeout or timedelta(minutes=settings.daily_claim_timeout_minutes)
        self.concurrency = concurrency
        self.claim_batch = claim_batch
        self.max_attempts = max_attempts  # for server errors and timeouts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.rate_limit_budget = rate_limit_budget  # seconds of retry-after waits per post, at most
        self.instance = instance or instance_name()
        # Every wait renews the claims this runner holds; every attempt first proves its claim is ours.
        self._claims = ClaimKeeper(self.daily.renew_claims, self.claim_timeout, self.clock.now, sleep)
        # An attempt must end before anyone may take its claim over (see bot/schedule/claims.py).
        self.post_timeout = min(post_timeout, self._claims.attempt_limit)
        self._sleep = sleep
        self._monotonic = monotonic
        self._gates = {platform: RateGate(self._claims.wait, monotonic) for platform in posters}
        self._scheduler: AsyncIOScheduler | None = None
        self._jobs: dict[int, tuple[str, str, int]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._inflight: set[int] = set()
        self._sweep_lock = asyncio.Lock()
        self._records = GroupCommit(self.daily.posted_many)

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        self.daily.trigger = self.run_channel
        self.daily.listeners.append(self._on_change)
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._scheduler.add_job(
            self._wake_sweep,
            IntervalTrigger(minutes=max(1, self.settings.daily_sweep_minutes), timezone=UTC),
            id="daily-sweep",
            coalesce=True,
            max_instances=1,
        )
        self._scheduler.start()
        await self.rebuild()
        self._spawn(self.sweep())  # catch up on what was due while we were down
        log.info("daily runner started instance=%s platforms=%s", self.instance, ",".join(self.posters))

    async def stop(self) -> None:
        """Stop waking up, then let posts in flight finish (the caller bounds how long)."""
        if self._on_change in self.daily.listeners:
            self.daily.listeners.remove(self._on_change)
        if self.daily.trigger == self.run_channel:
            self.daily.trigger = None
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
            self._jobs.clear()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("daily task failed", exc_info=task.exception())

    def _on_change(self) -> None:
        if self._scheduler is not None:
            self._spawn(self.rebuild())

    # -- jobs ------------------------------------------------------------------------------------

    async def rebuild(self) -> None:
        """Match the wake-up jobs to the database, where other instances may have changed channels."""
        channels = [c for c in await self.daily.channels(active_only=True) if c.platform in self.posters]
        if self._scheduler is None:
            return
        wanted = {c.id: (c.post_time, c.timezone, c.weekdays) for c in channels}
        for channel_id in set(self._jobs) - set(wanted):
            self._scheduler.remove_job(f"daily-{channel_id}")
            del self._jobs[channel_id]
        for channel in channels:
            if self._jobs.get(channel.id) == wanted[channel.id]:
                continue
            self._scheduler.add_job(
                self._wake_channel,
                self.trigger_for(channel),
                args=(channel.id,),
                id=f"daily-{channel.id}",
                replace_existing=True,
                coalesce=True,
                misfire_grace_time=int(self.grace.total_seconds()),
            )
            self._jobs[channel.id] = wanted[channel.id]

    @staticmethod
    def trigger_for(channel: DailyChannel) -> CronTrigger:
        """Fires at the channel's wall-clock time in its own zone, so DST changes keep 09:00 at 09:00."""
        at = channel.local_time
        return CronTrigger(
            day_of_week=cron_days(channel.weekdays), hour=at.hour, minute=at.minute, timezone=channel.zone
        )

    async def _wake_sweep(self) -> None:
        if not self._sweep_lock.locked():  # a long fan-out is still going: it will be swept next time
            self._spawn(self.sweep())

    async def _wake_channel(self, channel_id: int) -> None:
        self._spawn(self._run_if_due(channel_id))

    async def _run_if_due(self, channel_id: int) -> None:
        channel = await self.daily.channel(channel_id)
        if channel is None or not channel.active:
            return
        day = due_date(channel, self.clock.now(), self.grace)
        if day is not None:
            await self.run_channel(channel.id, day)

    # -- posting ---------------------------------------------------------------------------------

    async def sweep(self) -> list[PostResult]:
        """Post everything due and unposted within the grace window; pick up configuration changes."""
        async with self._sweep_lock:
            await self.rebuild()
            due = await self.daily.due(self.clock.now(), self.grace, self.claim_timeout, set(self.posters))
            if due:
                log.info("daily sweep: %d channel(s) due", len(due))
            return await self._fan_out([(channel.id, day) for channel, day in due])

    async def run_channel(self, channel_id: int, local_date: date) -> PostResult:
        """Claim (channel, local date) and, if this runner won the claim, post it."""
        channel = await self.daily.channel(channel_id)
        if channel is not None and channel.platform not in self.posters:
            # Leave it to an instance connected to that platform rather than claim what we cannot post.
            return PostResult(PostStatus.FAILED, f"this instance has no {channel.platform} connection")
        (result,) = await self._fan_out([(channel_id, local_date)])
        return result

    async def _fan_out(self, items: list[tuple[int, date]]) -> list[PostResult]:
        """Claim in batches, one batch ahead of `concurrency` posting workers: one transaction per batch
        keeps the database from limiting the posting rate, and a bounded queue keeps claims fresh."""
        results: dict[int, PostResult] = {}
        fresh: list[tuple[int, date]] = []
        for channel_id, day in items:
            if channel_id in self._inflight:
                results[channel_id] = PostResult(PostStatus.TAKEN, "already being posted by this instance")
            else:
                self._inflight.add(channel_id)
                fresh.append((channel_id, day))
        workers = min(self.concurrency, len(fresh))
        queue: asyncio.Queue[tuple[DailyClaim, Message, Lease] | None] = asyncio.Queue(
            maxsize=self.concurrency
        )

        async def claim_all() -> None:
            try:
                for start in range(0, len(fresh), self.claim_batch):
                    batch = fresh[start : start + self.claim_batch]
                    try:
                        claimed = await self.daily.claim_many(batch, self.instance, self.claim_timeout)
                        won = [r.claim for r in claimed if r.claim is not None]
                        messages = await self.daily.build_posts(won)
                    except Exception as exc:  # the database is down: leave these to the next sweep
                        log.exception("daily claim failed for %d channel(s)", len(batch))
                        for channel_id, _day in batch:
                            results.setdefault(channel_id, PostResult(PostStatus.FAILED, str(exc)))
                            self._inflight.discard(channel_id)
                        continue
                    # Held from here on: renewed while they wait in the queue, released by their worker.
                    leases = [self._claims.hold(c.post.id, c.post.claim_token or "") for c in won]
                    for claim, message, lease in zip(won, messages, leases, strict=True):
                        await queue.put((claim, message, lease))
                    for (channel_id, _day), outcome in zip(batch, claimed, strict=True):
                        if outcome.claim is None:
                            results[channel_id] = await self._not_claimed(channel_id, outcome.status)
                            self._inflight.discard(channel_id)
            finally:
                for _ in range(workers):
                    await queue.put(None)

        async def work() -> None:
            while (job := await queue.get()) is not None:
                claim, message, lease = job
                try:
                    results[claim.channel.id] = await self._post(claim, message, lease)
                except Exception as exc:  # one channel's trouble must not stop the others
                    log.exception("daily post crashed channel=%s", claim.channel.id)
                    results[claim.channel.id] = PostResult(PostStatus.FAILED, str(exc), claim.post.id)
                finally:
                    self._claims.release(lease)
                    self._inflight.discard(claim.channel.id)

        await asyncio.gather(claim_all(), *(work() for _ in range(workers)))
        return [results[channel_id] for channel_id, _day in items]

    async def _not_claimed(self, channel_id: int, status: ClaimStatus) -> PostResult:
        if status is ClaimStatus.NO_CARDS:
            channel = await self.daily.channel(channel_id)
            reason = self.daily.no_cards_reason(channel) if channel else "No questions to post."
            await self.daily.pause(channel_id, reason, None)
            return PostResult(PostStatus.PAUSED, reason)
        if status is ClaimStatus.INACTIVE:
            return PostResult(PostStatus.INACTIVE)
        return PostResult(PostStatus.TAKEN)

    async def _post(self, claim: DailyClaim, message: Message, lease: Lease) -> PostResult:
        channel, post = claim.channel, claim.post
        poster = self.posters.get(channel.platform)
        if poster is None:  # a channel of a platform this instance does not serve
            await self.daily.failed(post.id, f"no {channel.platform} connection on {self.instance}")
            return PostResult(PostStatus.FAILED, f"no {channel.platform} connection", post.id)
        name = thread_name(post.local_date)
        gate = self._gates.setdefault(channel.platform, RateGate(self._claims.wait, self._monotonic))
        done = await attempt(
            lambda: poster.post(channel.workspace_ref, channel.channel_ref, message, name),
            gate=gate,
            still_ours=lambda: self._claims.confirm(lease),
            wait=self._claims.wait,
            policy=self._policy(),
            what=f"daily post channel={channel.id}",
        )
        if done.outcome is Outcome.SENT and done.ref is not None:
            ref = done.ref
            await record_sent(
                lambda: self._records.record(post.id, ref),
                wait=self._claims.wait,
                policy=self._policy(),
                what=f"daily post {post.id}",
            )
            return PostResult(PostStatus.POSTED, done.ref.message_ref, post.id)
        if done.outcome is Outcome.TAKEN:
            return PostResult(PostStatus.TAKEN, done.reason, post.id)
        if done.outcome is Outcome.REFUSED:
            log.warning("daily post refused channel=%s reason=%s: pausing", channel.id, storable(done.reason))
            await self.daily.pause(channel.id, done.reason, post.id)
            return PostResult(PostStatus.PAUSED, done.reason, post.id)
        log.warning(
            "daily post failed channel=%s reason=%s: retried later", channel.id, storable(done.reason)
        )
        await self.daily.failed(post.id, done.reason)
        return PostResult(PostStatus.FAILED, done.reason, post.id)

    def _policy(self) -> RetryPolicy:
        return RetryPolicy(
            self.max_attempts, self.backoff, self.max_backoff, self.rate_limit_budget, self.post_timeout
        )

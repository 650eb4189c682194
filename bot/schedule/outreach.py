"""OutreachRunner: every sweep, due-card reminders (one direct message per member and local day), weekly
digests (one public post per daily channel and week) and what admins decided on suggested cards (one direct
message per decision) go out.

As with the daily post, the database decides who sends (one `outreach` row per kind, target and local
date, bot/store/outreach.py): restarts, misfires and extra instances cannot send twice; a sweep on start and
every minute catches up on what came due meanwhile, within the grace window. Sends are paced per platform by
the daily posts' RateGate, and claims are held and fenced by the same ClaimKeeper."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.core.model.digest import DIGEST
from bot.core.model.reminders import REMINDER
from bot.core.model.typed_text import storable
from bot.core.service import StudyService
from bot.core.services.card_outcomes import CARD_OUTCOME, OutcomeNews
from bot.core.services.card_outcomes import message as outcome_message
from bot.core.services.reminders import message as reminder_message
from bot.schedule.attempts import Outcome, RetryPolicy, attempt, record_sent
from bot.schedule.claims import ClaimKeeper, Lease
from bot.schedule.pacing import GroupCommit, RateGate
from bot.schedule.poster import PostRef
from bot.schedule.runner import instance_name

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Outgoing:
    """One reminder or digest to send, once: its claim key, how to send it and what a refusal means."""

    kind: str
    target_id: int
    local_date: date
    platform: str
    send: Callable[[Any], Awaitable[PostRef]]  # given the platform's poster
    unreachable: Callable[[str], Awaitable[None]]  # a permanent refusal: pause the member or channel


class OutreachRunner:
    name = "outreach"

    def __init__(
        self,
        service: StudyService,
        posters: Mapping[str, Any],
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
        self.service = service
        self.claims = service.outreach
        self.posters = dict(posters)  # Poster and DirectPoster (bot/schedule/poster.py) both
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
        self._claims = ClaimKeeper(self.claims.renew, claim_timeout, service.clock.now, sleep)
        self.post_timeout = min(post_timeout, self._claims.attempt_limit)
        self._monotonic = monotonic
        self._gates = {platform: RateGate(self._claims.wait, monotonic) for platform in self.posters}
        self._records = GroupCommit(lambda done: self.claims.sent([(row, ref) for row, ref, _t in done]))
        self._scheduler: AsyncIOScheduler | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._sweeping = asyncio.Lock()

    async def start(self) -> None:
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._scheduler.add_job(
            self._wake,
            IntervalTrigger(seconds=self.sweep_seconds, timezone=UTC),
            id="outreach-sweep",
            coalesce=True,
            max_instances=1,
        )
        self._scheduler.start()
        self._spawn(self.sweep())  # catch up on what came due while we were down
        log.info("outreach runner started instance=%s platforms=%s", self.instance, ",".join(self.posters))

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
        """Send every reminder, digest and card outcome due now and not yet sent; how many went which way."""
        async with self._sweeping:
            outcome = await self._fan_out(await self.reminders_due())
            outcome.update(await self._fan_out(await self.digests_due()))
            outcome.update(await self._fan_out(await self.outcomes_due()))
            return outcome

    async def reminders_due(self) -> list[Outgoing]:
        jobs = await self.service.reminders.due(self.grace, set(self.posters))
        if jobs:
            log.info("outreach sweep: %d reminder(s) due", len(jobs))
        found = []
        for job in jobs:
            platform, _, workspace_ref = job.member.workspace_id.partition(":")
            shown = reminder_message(job)

            def send(
                poster: Any, ws: str = workspace_ref, user: str = job.member.user_ref, shown: Any = shown
            ) -> Awaitable[PostRef]:
                return poster.dm(ws, user, shown)  # type: ignore[no-any-return]

            async def unreachable(reason: str, job: Any = job) -> None:
                await self.service.reminders.unreachable(job, reason)

            found.append(Outgoing(REMINDER, job.member.id, job.local_date, platform, send, unreachable))
        return found

    async def digests_due(self) -> list[Outgoing]:
        due = await self.service.digests.due(self.grace, set(self.posters))
        found = []
        for channel, monday in due:

            async def send(poster: Any, channel: Any = channel, monday: date = monday) -> PostRef:
                shown = await self.service.digests.build(channel, monday)
                return await poster.post(channel.workspace_ref, channel.channel_ref, shown, "Last week")  # type: ignore[no-any-return]

            async def unreachable(reason: str, channel: Any = channel) -> None:
                await self.service.digests.unreachable(channel, reason)

            found.append(Outgoing(DIGEST, channel.id, monday, channel.platform, send, unreachable))
        return found

    async def outcomes_due(self) -> list[Outgoing]:
        """Suggested cards decided and not yet told. Not held back by paused reminders (another kind)."""
        told = self.service.card_outcomes
        found = []
        for news in await told.due(self.grace, set(self.posters)):
            platform, _, workspace_ref = news.suggestion.workspace_id.partition(":")

            async def send(poster: Any, news: OutcomeNews = news, ws: str = workspace_ref) -> PostRef:
                if not await told.telling(news):
                    return PostRef("")  # the member's last command told them already: nothing to send
                try:
                    return await poster.dm(ws, news.user_ref, outcome_message(news))  # type: ignore[no-any-return]
                except BaseException:  # refused, failed or timed out: untold, for a retry or the next command
                    await told.not_told(news)
                    raise

            async def unreachable(reason: str) -> None:
                return None  # untold already (above); their next command tells them

            key = (news.suggestion.id, news.local_date)
            found.append(Outgoing(CARD_OUTCOME, *key, platform, send, unreachable))
        return found

    async def _fan_out(self, items: list[Outgoing]) -> Counter[str]:
        """Claims in batches, one batch ahead of the sending workers (as the daily runner does)."""
        outcome: Counter[str] = Counter()
        workers = min(self.concurrency, len(items))
        queue: asyncio.Queue[tuple[Outgoing, int, Lease] | None] = asyncio.Queue(maxsize=self.concurrency)

        async def claim_all() -> None:
            try:
                for start in range(0, len(items), self.claim_batch):
                    batch = items[start : start + self.claim_batch]
                    kind = batch[0].kind  # a fan-out is of one kind
                    keys = [(item.target_id, item.local_date) for item in batch]
                    try:
                        won = await self.claims.claim(kind, keys, self.instance, self.claim_timeout)
                    except Exception:  # the database is away: the next sweep tries again
                        log.exception("outreach claim failed for %d item(s)", len(batch))
                        outcome["failed"] += len(batch)
                        continue
                    for item, claim in zip(batch, won, strict=True):
                        if claim is None:
                            outcome["taken"] += 1
                            continue
                        row_id, token = claim
                        await queue.put((item, row_id, self._claims.hold(row_id, token)))
            finally:
                for _ in range(workers):
                    await queue.put(None)

        async def work() -> None:
            while (job := await queue.get()) is not None:
                item, row_id, lease = job
                try:
                    outcome[await self._send(item, row_id, lease)] += 1
                except Exception:
                    log.exception("%s crashed target=%s", item.kind, item.target_id)
                    outcome["failed"] += 1
                finally:
                    self._claims.release(lease)

        await asyncio.gather(claim_all(), *(work() for _ in range(workers)))
        return outcome

    def _policy(self) -> RetryPolicy:
        return RetryPolicy(
            self.max_attempts, self.backoff, self.max_backoff, self.rate_limit_budget, self.post_timeout
        )

    async def _send(self, item: Outgoing, row_id: int, lease: Lease) -> str:
        poster = self.posters[item.platform]
        gate = self._gates.setdefault(item.platform, RateGate(self._claims.wait, self._monotonic))
        done = await attempt(
            lambda: item.send(poster),
            gate=gate,
            still_ours=lambda: self._claims.confirm(lease),
            wait=self._claims.wait,
            policy=self._policy(),
            what=f"{item.kind} target={item.target_id}",
        )
        if done.outcome is Outcome.SENT and done.ref is not None:
            ref = done.ref
            await record_sent(
                lambda: self._records.record(row_id, ref),
                wait=self._claims.wait,
                policy=self._policy(),
                what=f"{item.kind} target={item.target_id}",
            )
            return "sent"
        if done.outcome is Outcome.TAKEN:
            return "taken"
        if done.outcome is Outcome.REFUSED:
            # Not retried: what follows (a member's reminders paused, a digest's channel paused, an
            # outcome told on the next command instead) is the item's own `unreachable`.
            log.warning(
                "%s refused target=%s reason=%s: not retried",
                item.kind,
                item.target_id,
                storable(done.reason),
            )
            await self.claims.given_up(row_id, done.reason)
            await item.unreachable(done.reason)
            return "paused"
        await self.claims.failed(row_id, done.reason)
        return "failed"

"""Holding claims while waiting, and proving one is still ours right before acting on it.

The database decides who acts (bot/store/claims.py): a claim not renewed within the claim timeout may be
taken over by another instance, which gives it a new token. So a runner
- renews all the claims it holds, in one batch, at least every third of the timeout while it waits (at a
  rate limiter, in a backoff, in its queue), so a long wait does not hand its work to another instance;
- confirms the one claim by its token immediately before each attempt, and gives the attempt at most half
  the timeout: after a successful confirmation nobody can take over for a whole timeout, so the attempt
  ends before anyone else may start. A failed confirmation means someone else has it: stop.
Used by the daily runner; per-member reminders and digests can hold their claims the same way."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
# Renews claims (row id, token) and returns the ids still held; `attempt` counts one more try.
Renew = Callable[[Sequence[tuple[int, str]], bool], Awaitable[set[int]]]


@dataclass(eq=False)
class Lease:
    """One claim this instance holds: the row and the token it was claimed (or taken over) with."""

    key: int
    token: str
    lost: bool = False


class ClaimKeeper:
    def __init__(self, renew: Renew, timeout: timedelta, now: Callable[[], datetime], sleep: Sleep) -> None:
        self._renew = renew
        self._now = now
        self._sleep = sleep
        self.timeout = timeout
        self.interval = timeout.total_seconds() / 3
        # The longest one attempt may take after its confirmation (see the module's docstring).
        self.attempt_limit = timeout.total_seconds() / 2
        self._held: dict[int, Lease] = {}
        self._renewed_at: datetime | None = None
        self._renewing = asyncio.Lock()
        self._confirming: list[tuple[Lease, asyncio.Future[bool]]] = []
        self._flushing: asyncio.Task[None] | None = None

    def hold(self, key: int, token: str) -> Lease:
        """Start holding a claim just made: it is renewed with the others from now on."""
        lease = Lease(key, token)
        if not self._held:  # nothing held since the last renewal: the clock starts with this claim
            self._renewed_at = self._now()
        self._held[key] = lease
        return lease

    def release(self, lease: Lease) -> None:
        if self._held.get(lease.key) is lease:
            del self._held[lease.key]

    async def confirm(self, lease: Lease) -> bool:
        """Renew this one claim now, counting an attempt: True means it is ours for a whole timeout.

        Confirmations asked for at the same time share one statement, so a fan-out does not spend a
        write transaction per post."""
        await self.renew_due()
        if lease.lost:
            return False
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._confirming.append((lease, done))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.get_running_loop().create_task(self._confirm_pending())
        return await done

    async def _confirm_pending(self) -> None:
        while self._confirming:
            batch, self._confirming = self._confirming, []
            try:
                kept = await self._renew([(lease.key, lease.token) for lease, _done in batch], True)
            except Exception as exc:
                for _lease, done in batch:
                    done.set_exception(exc)
                continue
            for lease, done in batch:
                if lease.key not in kept:
                    self._lose(lease)
                done.set_result(not lease.lost)

    async def wait(self, seconds: float) -> None:
        """Sleep, renewing every held claim whenever a third of the timeout has passed since the last time."""
        remaining = seconds
        while True:
            await self.renew_due()
            if remaining <= 0:
                return
            step = min(remaining, self.interval)
            await self._sleep(step)
            remaining -= step

    async def renew_due(self) -> None:
        """Renew all held claims in one batch, if the last renewal is a third of the timeout old."""
        if not self._held or self._renewed_at is None:
            return
        if self._now() - self._renewed_at < timedelta(seconds=self.interval):
            return
        async with self._renewing:
            if self._now() - self._renewed_at < timedelta(seconds=self.interval):
                return  # another waiter renewed them meanwhile
            self._renewed_at = self._now()
            leases = list(self._held.values())
            try:
                kept = await self._renew([(lease.key, lease.token) for lease in leases], False)
            except Exception:  # the database is away: the confirmation before acting still decides
                log.exception("renewing %d claim(s) failed", len(leases))
                return
            for lease in leases:
                if lease.key not in kept:
                    self._lose(lease)

    def _lose(self, lease: Lease) -> None:
        lease.lost = True
        self.release(lease)

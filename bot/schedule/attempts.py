"""One post's attempts, shared by the daily runner and outreach (reminders, digests): each attempt waits for
the platform's rate gate and goes ahead only while the claim is still ours; server errors and timeouts are
retried with backoff, "rate limited" within a budget of waiting; a permanent refusal ends it at once. A post
that went out is then recorded with retries (`record_sent`), or it would go out again."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum

from bot.schedule.pacing import RateGate, Sleep
from bot.schedule.poster import PermanentPostError, PostRef, RetryablePostError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int  # for server errors and timeouts
    backoff: float
    max_backoff: float
    rate_limit_budget: float  # seconds of retry-after waits per post, at most
    timeout: float  # per attempt


class Outcome(Enum):
    SENT = "sent"
    TAKEN = "taken"  # posted or taken over by someone else meanwhile
    REFUSED = "refused"  # permanently: the channel or member cannot be reached
    FAILED = "failed"  # out of attempts or of rate-limit budget: retried at a later sweep


@dataclass(frozen=True)
class Attempted:
    outcome: Outcome
    ref: PostRef | None = None
    reason: str = ""


async def attempt(
    send: Callable[[], Awaitable[PostRef]],
    *,
    gate: RateGate,
    still_ours: Callable[[], Awaitable[bool]],
    wait: Sleep,
    policy: RetryPolicy,
    what: str,
) -> Attempted:
    errors = 0
    rate_waited = 0.0
    while True:
        await gate.wait()
        # Every attempt, the first as well as retries, and only after all waiting: if the claim was
        # posted or taken over meanwhile, it is no longer ours to post.
        if not await still_ours():
            return Attempted(Outcome.TAKEN, reason="taken over by another instance")
        try:
            ref = await asyncio.wait_for(send(), policy.timeout)
        except PermanentPostError as exc:
            return Attempted(Outcome.REFUSED, reason=exc.reason)
        except RetryablePostError as exc:
            retry = exc
        except TimeoutError:
            retry = RetryablePostError(f"no answer within {policy.timeout:g} s")
        except Exception as exc:  # a poster bug or an unmapped error: retried like a server error
            log.exception("%s: the poster raised", what)
            retry = RetryablePostError(f"{type(exc).__name__}: {exc}")
        else:
            gate.succeeded()
            return Attempted(Outcome.SENT, ref)
        if retry.retry_after is not None:
            gate.limited(retry.retry_after)  # the gate makes the next attempt wait
            rate_waited += retry.retry_after
            if rate_waited <= policy.rate_limit_budget:
                continue
        else:
            errors += 1
            if errors < policy.max_attempts:
                delay = min(policy.max_backoff, policy.backoff * 2 ** (errors - 1))
                await wait(delay * random.uniform(0.5, 1.0))
                continue
        return Attempted(Outcome.FAILED, reason=retry.reason)


async def record_sent(
    record: Callable[[], Awaitable[None]], *, wait: Sleep, policy: RetryPolicy, what: str
) -> None:
    """A post that went out must be recorded, or its claim expires and it goes out again: on a database
    error, try again with backoff. `wait` is the claim keeper's, so the claim stays held and renewed."""
    errors = 0
    while True:
        try:
            await record()
            return
        except Exception:
            errors += 1
            if errors >= policy.max_attempts:
                raise
            log.warning("recording %s failed: retrying", what, exc_info=True)
            await wait(min(policy.max_backoff, policy.backoff * 2 ** (errors - 1)))

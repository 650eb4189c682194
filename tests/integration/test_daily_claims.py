"""A daily post goes out once even when its runner waits past the claim timeout: two runners, one database.

Time is the tests' fake clock: a runner's sleep moves it on, and the other runner sweeps meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.bootstrap import build_service
from bot.core.commands import run_text_command
from bot.core.messages import Message
from bot.core.model.daily import PostStatus
from bot.core.service import StudyService
from bot.schedule.claims import ClaimKeeper
from bot.schedule.poster import RetryablePostError
from bot.schedule.runner import DailyRunner
from tests.conftest import CONTENT, FakeClock, member
from tests.daily_helpers import RecordingPoster, make_runner

ADMIN = member("ada", admin=True)
CHANNELS = [f"room-{n}" for n in range(5)]
TIMEOUT = timedelta(seconds=3)
NINE = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


class WhileWaiting:
    """A runner's sleep: the clock moves on by `stretch` times what was asked (more than 1: the process
    stalled, say a paused VM, and could not renew anything), then the other runner gets to sweep."""

    def __init__(self, clock: FakeClock, stretch: float = 1.0) -> None:
        self.clock = clock
        self.stretch = stretch
        self.meanwhile: Callable[[], Awaitable[object]] | None = None
        self.slept = 0.0

    async def __call__(self, seconds: float) -> None:
        self.slept += seconds
        self.clock.advance(seconds=seconds * self.stretch)
        if self.meanwhile is not None:
            await self.meanwhile()


async def two_runners(
    service: StudyService, clock: FakeClock, db_url: str, stretch: float, post_now: bool = False
) -> tuple[RecordingPoster, RecordingPoster, list[object]]:
    """Runner A is rate limited on its first post (Retry-After 6 s, twice the claim timeout) and sweeps
    five due channels one at a time; runner B, on its own connections, sweeps while A waits (or, with
    `post_now`, is asked to post the first channel now, as `/daily now` on B's instance does)."""
    clock.set(NINE - timedelta(hours=1))
    for name in CHANNELS:
        reply = await run_text_command(service, ADMIN, f"/daily set {name} 09:00 UTC")
        assert isinstance(reply, Message) and not reply.is_error, reply.title
    clock.set(NINE)
    other = await build_service(db_url, [CONTENT], clock=clock)
    try:
        poster_a, poster_b = RecordingPoster(), RecordingPoster()
        poster_a.fail[CHANNELS[0]] = [RetryablePostError("rate limited", retry_after=6.0)]
        sleep = WhileWaiting(clock, stretch)
        runner_a = make_runner(service, poster_a, "a", sleep=sleep, claim_timeout=TIMEOUT, concurrency=1)
        runner_b: DailyRunner = make_runner(other, poster_b, "b", claim_timeout=TIMEOUT)
        sweeps_b: list[object] = []

        async def sweep_b() -> None:
            if post_now:
                (first, *_rest) = await other.daily.channels()
                sweeps_b.append(await runner_b.run_channel(first.id, NINE.date()))
            else:
                sweeps_b.extend(await runner_b.sweep())

        sleep.meanwhile = sweep_b
        results_a = await runner_a.sweep()
        assert sleep.slept >= 6.0  # A really waited out the retry-after, past the claim timeout
        assert {r.status for r in results_a} <= {PostStatus.POSTED, PostStatus.TAKEN}
    finally:
        await other.store.close()  # type: ignore[attr-defined]
    return poster_a, poster_b, sweeps_b


async def test_a_runner_waiting_at_the_rate_limiter_keeps_its_claims_and_each_channel_posts_once(
    service: StudyService, clock: FakeClock, db_url: str
) -> None:
    poster_a, poster_b, _ = await two_runners(service, clock, db_url, stretch=1.0)
    posted = sorted(p.channel_ref for p in poster_a.posts + poster_b.posts)
    assert posted == CHANNELS
    # A renewed its claims (the one at the limiter and those queued behind it) while it waited.
    assert poster_b.posts == []


async def test_a_runner_that_could_not_renew_in_time_does_not_post_what_was_taken_over(
    service: StudyService, clock: FakeClock, db_url: str
) -> None:
    poster_a, poster_b, _ = await two_runners(service, clock, db_url, stretch=10.0)
    posted = sorted(p.channel_ref for p in poster_a.posts + poster_b.posts)
    assert posted == CHANNELS
    # B took every stale claim over and posted; A, when it came back, found them no longer its own.
    assert sorted(p.channel_ref for p in poster_b.posts) == CHANNELS
    assert poster_a.attempts[CHANNELS[0]] == 1
    for name in CHANNELS:
        status = (await run_text_command(service, ADMIN, f"/daily status {name}")).plain_text()  # type: ignore[union-attr]
        assert "Today's question went out" in status


async def test_daily_now_on_another_instance_while_a_runner_waits_posts_once(
    service: StudyService, clock: FakeClock, db_url: str
) -> None:
    poster_a, poster_b, _ = await two_runners(service, clock, db_url, stretch=10.0, post_now=True)
    assert sorted(p.channel_ref for p in poster_a.posts + poster_b.posts) == CHANNELS
    assert [p.channel_ref for p in poster_b.posts] == [CHANNELS[0]]


async def test_a_post_whose_record_failed_once_is_not_posted_again_after_the_claim_timeout(
    service: StudyService, clock: FakeClock, db_url: str
) -> None:
    clock.set(NINE - timedelta(hours=1))
    reply = await run_text_command(service, ADMIN, "/daily set general 09:00 UTC")
    assert isinstance(reply, Message) and not reply.is_error
    clock.set(NINE)
    store = service.store
    real = store.mark_daily_posted
    failures = [ConnectionError("the database went away for a moment")]

    async def flaky(*args: Any, **kwargs: Any) -> None:
        if failures:
            raise failures.pop()
        await real(*args, **kwargs)

    store.mark_daily_posted = flaky  # type: ignore[method-assign]
    poster = RecordingPoster()
    (result,) = await make_runner(service, poster, "a", claim_timeout=TIMEOUT).sweep()
    clock.advance(minutes=1)  # long past the claim timeout: had the post gone unrecorded, it would go again
    other = await build_service(db_url, [CONTENT], clock=clock)
    try:
        assert await make_runner(other, poster, "b", claim_timeout=TIMEOUT).sweep() == []
    finally:
        await other.store.close()  # type: ignore[attr-defined]
    assert poster.count("general") == 1
    assert result.status is PostStatus.POSTED and not failures


async def test_confirmations_asked_together_share_one_statement_and_a_lost_claim_says_so(
    clock: FakeClock,
) -> None:
    calls: list[tuple[list[tuple[int, str]], bool]] = []

    async def renew(held: Sequence[tuple[int, str]], attempt: bool) -> set[int]:
        calls.append((list(held), attempt))
        return {key for key, _token in held if key != 3}  # row 3 was taken over meanwhile

    keeper = ClaimKeeper(renew, timedelta(minutes=10), clock.now, WhileWaiting(clock))
    leases = [keeper.hold(key, f"token-{key}") for key in range(5)]
    confirmed = await asyncio.gather(*(keeper.confirm(lease) for lease in leases))
    assert confirmed == [True, True, True, False, True]
    assert len(calls) == 1 and calls[0][1] is True  # one statement, counting an attempt each
    assert await keeper.confirm(leases[3]) is False and len(calls) == 1  # lost stays lost
    # A long wait renews every claim still held, every third of the timeout, without counting attempts.
    await keeper.wait(25 * 60)
    assert [attempt for _held, attempt in calls[1:]] == [False] * 7
    assert {key for key, _token in calls[-1][0]} == {0, 1, 2, 4}

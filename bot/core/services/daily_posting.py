"""Posting the question of the day: what is due, claims, the posts' wording, outcomes; and the ask behind
a post's Reveal button. The runner (bot/schedule/runner.py) calls this; it only wakes up and talks to the
platforms."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime, timedelta

from bot.core.decks.workspace import shown
from bot.core.messages import Message
from bot.core.model.daily import ClaimResult, DailyChannel, DailyClaim, due_date
from bot.core.model.models import Caller, Grade
from bot.core.model.typed_text import storable
from bot.core.ports import Clock, DailyStore
from bot.core.refusal import refusal, refuse
from bot.core.services.daily_hooks import DailyHooks
from bot.core.services.members import who
from bot.core.texts.daily import post_message, results_line


class DailyPostingService:
    def __init__(self, store: DailyStore, clock: Clock, hooks: DailyHooks) -> None:
        self.store = store
        self.clock = clock
        self.hooks = hooks

    async def ask_for(self, caller: Caller, post_id: int) -> int:
        """The clicker's own ask of a daily post (made on the first click); answering it is practice."""
        refuse(caller)
        post = await self.store.get_daily_post(post_id)
        channel = await self.store.get_daily_channel_by_id(post.channel_id) if post is not None else None
        if post is None or channel is None or channel.workspace_id != caller.workspace_id:
            raise refusal(
                "That question of the day no longer exists.", "Use /quiz for a question of your own."
            )
        member = (await who(self.store, caller)).member
        ask_id = await self.store.find_daily_ask(member.id, post.id)
        if ask_id is None:
            ask_id = await self.store.create_ask(
                member.id, post.card_id, "daily", self.clock.now(), daily_post_id=post.id
            )
        return ask_id

    async def due(
        self,
        now: datetime,
        grace: timedelta,
        claim_timeout: timedelta,
        platforms: Collection[str] | None = None,
    ) -> list[tuple[DailyChannel, date]]:
        """Channels whose post is due and neither posted nor freshly claimed."""
        candidates: list[tuple[DailyChannel, date]] = []
        for channel in await self.store.list_daily_channels(None, active_only=True):
            if platforms is not None and channel.platform not in platforms:
                continue
            day = due_date(channel, now, grace)
            if day is not None:
                candidates.append((channel, day))
        if not candidates:
            return []
        existing = await self.store.daily_posts_on({day for _c, day in candidates})
        stale_before = now - claim_timeout
        due: list[tuple[DailyChannel, date]] = []
        for channel, day in candidates:
            post = existing.get((channel.id, day))
            if post is None or (post.posted_at is None and post.claimed_at < stale_before):
                due.append((channel, day))
        return due

    async def channels(self, active_only: bool = True) -> list[DailyChannel]:
        return await self.store.list_daily_channels(None, active_only=active_only)

    async def channel(self, channel_id: int) -> DailyChannel | None:
        return await self.store.get_daily_channel_by_id(channel_id)

    async def claim_many(
        self, items: Sequence[tuple[int, date]], claimed_by: str, claim_timeout: timedelta
    ) -> list[ClaimResult]:
        """Claim several channels' posts in one transaction (the runner's fan-out claims in batches)."""
        now = self.clock.now()
        return await self.store.claim_daily_posts(items, now, claimed_by, now - claim_timeout)

    async def build_posts(self, claims: Sequence[DailyClaim]) -> list[Message]:
        """The public posts, each opening with the channel's previous result."""
        by_date: dict[date, list[int]] = {}
        for claim in claims:
            by_date.setdefault(claim.post.local_date, []).append(claim.channel.id)
        previous: dict[tuple[int, date], tuple[date, dict[Grade, int]]] = {}
        for day, channel_ids in by_date.items():
            for channel_id, found in (await self.store.previous_daily_results(channel_ids, day)).items():
                previous[(channel_id, day)] = found
        messages = []
        for claim in claims:
            last = previous.get((claim.channel.id, claim.post.local_date))
            results = results_line(last[1], last[0], claim.post.local_date) if last else None
            messages.append(post_message(claim.post.id, claim.card, results))
        return messages

    async def renew_claims(self, held: Sequence[tuple[int, str]], attempt: bool = False) -> set[int]:
        """Refresh our claims (post id, claim token); the ids still ours, neither posted nor taken over.
        With `attempt`, each counts one more posting attempt."""
        return await self.store.renew_daily_claims(held, self.clock.now(), attempt)

    async def posted_many(self, posts: Sequence[tuple[int, str, str | None]]) -> None:
        """Record several posts at once: (post id, message ref, thread ref)."""
        await self.store.mark_daily_posted(posts, self.clock.now())

    async def failed(self, post_id: int, reason: str) -> None:
        await self.store.record_daily_failure(post_id, storable(reason)[:500])

    async def pause(self, channel_id: int, reason: str, post_id: int | None) -> None:
        """Stop posting to a channel that cannot take posts, releasing today's claim so a resume can post."""
        await self.store.pause_daily_channel(channel_id, storable(reason)[:500], post_id, self.clock.now())
        self.hooks.changed()

    def no_cards_reason(self, channel: DailyChannel) -> str:
        if channel.deck_id:
            return f"The deck “{shown(channel.deck_id)}” has no questions to post."
        return "No deck with questions is loaded."

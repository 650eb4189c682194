"""Claims of daily posts, the exactly-once guarantee for them: INSERT ... ON CONFLICT DO NOTHING on
(channel_id, local_date), and only the caller whose row went in posts; an unposted claim left past the
timeout may be taken over (bot/store/claims.py)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.model.card_order import pick_card
from bot.core.model.daily import ClaimResult, ClaimStatus, DailyChannel, DailyClaim, DailyPost
from bot.core.model.models import CardKind, StoredCard
from bot.store.claims import Claimable, new_token
from bot.store.db import Db
from bot.store.rows import CARD_COLUMNS, card_row, channel_row, post_row
from bot.store.tables import cards, daily_channels, daily_posts, decks

CARD_CACHE_SECONDS = 60.0
DAILY_CLAIMS = Claimable(daily_posts, done="posted_at")


class SqlDailyClaims:
    def __init__(self, db: Db) -> None:
        self.db = db
        # (deck id (None: all decks), workspace) -> (expires, the cards a channel of it may be asked, by id)
        self._card_cache: dict[tuple[str | None, str], tuple[float, dict[int, StoredCard]]] = {}

    async def claim_daily_posts(
        self, items: Sequence[tuple[int, date]], now: datetime, claimed_by: str, stale_before: datetime
    ) -> list[ClaimResult]:
        channel_ids = [channel_id for channel_id, _day in items]
        if len(set(channel_ids)) != len(channel_ids):
            raise ValueError("claim one local date per channel at a time")
        if not items:
            return []
        results: dict[int, ClaimResult] = {}
        async with self.db.queued_write() as conn:
            # Locking the channel rows, in id order so two instances cannot deadlock (PostgreSQL; SQLite's
            # BEGIN IMMEDIATE already serialises writers), keeps the card choice consistent. The unique
            # (channel, local date) below is what guarantees one post.
            rows = await conn.execute(
                sa.select(daily_channels)
                .where(daily_channels.c.id.in_(sorted(channel_ids)))
                .order_by(daily_channels.c.id)
                .with_for_update()
            )
            channels = {c.id: c for c in map(channel_row, rows) if c.active}
            used: dict[int, list[int]] = {channel_id: [] for channel_id in channels}
            if channels:
                used_rows = await conn.execute(
                    sa.select(daily_posts.c.channel_id, daily_posts.c.card_id)
                    .where(
                        sa.tuple_(daily_posts.c.channel_id, daily_posts.c.cycle).in_(
                            [(c.id, c.cycle) for c in channels.values()]
                        )
                    )
                    .order_by(daily_posts.c.local_date)
                )
                for channel_id, card_id in used_rows:
                    used[channel_id].append(card_id)
            picks: dict[int, tuple[int, int, StoredCard]] = {}
            for channel_id, _day in items:
                channel = channels.get(channel_id)
                if channel is None:
                    results[channel_id] = ClaimResult(ClaimStatus.INACTIVE)
                    continue
                askable = await self._askable_cards(conn, channel.deck_id, channel.workspace_id)
                seen = used[channel_id]
                picked = pick_card(
                    list(askable), set(seen), channel.order_seed, channel.cycle, seen[-1] if seen else None
                )
                if picked is not None:
                    picks[channel_id] = (picked[0], picked[1], askable[picked[0]])
            inserted: dict[int, int] = {}
            tokens = {channel_id: new_token() for channel_id in picks}
            if picks:
                # executemany, so the statement is compiled once and cached, whatever the batch size.
                rows = await conn.execute(
                    self.db.upsert(daily_posts)
                    .on_conflict_do_nothing(index_elements=["channel_id", "local_date"])
                    .returning(daily_posts.c.channel_id, daily_posts.c.id),
                    [
                        {
                            "channel_id": channel_id,
                            "local_date": day,
                            "card_id": picks[channel_id][0],
                            "cycle": picks[channel_id][1],
                            "claimed_at": now,
                            "claimed_by": claimed_by,
                            "claim_token": tokens[channel_id],
                            "attempts": 0,
                        }
                        for channel_id, day in items
                        if channel_id in picks
                    ],
                )
                # The rows that came back are ours; a missing one hit the unique (channel, local date).
                inserted = {channel_id: post_id for channel_id, post_id in rows}
            if inserted:
                await conn.execute(
                    sa.update(daily_channels)
                    .where(daily_channels.c.id == sa.bindparam("channel"))
                    .values(cycle=sa.bindparam("new_cycle"), position=sa.bindparam("new_position")),
                    [
                        {
                            "channel": channel_id,
                            "new_cycle": picks[channel_id][1],
                            "new_position": len(used[channel_id]) + 1
                            if picks[channel_id][1] == channels[channel_id].cycle
                            else 1,
                        }
                        for channel_id in inserted
                    ],
                )
            for channel_id, day in items:
                if channel_id in results:
                    continue
                channel = channels[channel_id]
                post_id = inserted.get(channel_id)
                if post_id is not None:
                    card_id, cycle, card = picks[channel_id]
                    post = DailyPost(
                        post_id,
                        channel_id,
                        day,
                        card_id,
                        cycle,
                        now,
                        claimed_by,
                        tokens[channel_id],
                        None,
                        None,
                        None,
                        0,
                        None,
                    )
                    results[channel_id] = ClaimResult(ClaimStatus.CLAIMED, DailyClaim(post, channel, card))
                else:
                    results[channel_id] = await self._take_over(
                        conn, channel, day, now, claimed_by, stale_before, no_cards=channel_id not in picks
                    )
        return [results[channel_id] for channel_id in channel_ids]

    def forget_cards(self) -> None:
        """Drop the cached cards: a deck load may have retired some."""
        self._card_cache.clear()

    async def _askable_cards(
        self, conn: AsyncConnection, deck_id: str | None, workspace_id: str
    ) -> dict[int, StoredCard]:
        """The cards a channel may be asked, by id; cached briefly, since decks change only when loaded."""
        hit = self._card_cache.get((deck_id, workspace_id))
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        rows = await conn.execute(sa.select(*CARD_COLUMNS).where(_askable(deck_id, workspace_id)))
        found = {card.id: card for card in map(card_row, rows)}
        self._card_cache[(deck_id, workspace_id)] = (time.monotonic() + CARD_CACHE_SECONDS, found)
        return found

    async def _take_over(
        self,
        conn: AsyncConnection,
        channel: DailyChannel,
        day: date,
        now: datetime,
        claimed_by: str,
        stale_before: datetime,
        no_cards: bool,
    ) -> ClaimResult:
        """(channel, day) already has a row: re-claim it only if it was left unposted past the timeout."""
        where = sa.and_(daily_posts.c.channel_id == channel.id, daily_posts.c.local_date == day)
        post_id = (await conn.execute(sa.select(daily_posts.c.id).where(where))).scalar_one_or_none()
        if post_id is None:
            return ClaimResult(ClaimStatus.NO_CARDS if no_cards else ClaimStatus.TAKEN)
        if await DAILY_CLAIMS.take_over(conn, post_id, now, claimed_by, stale_before) is None:
            return ClaimResult(ClaimStatus.TAKEN)
        post = post_row((await conn.execute(sa.select(daily_posts).where(daily_posts.c.id == post_id))).one())
        card = (await conn.execute(sa.select(*CARD_COLUMNS).where(cards.c.id == post.card_id))).one()
        return ClaimResult(ClaimStatus.CLAIMED, DailyClaim(post, channel, card_row(card)))

    async def renew_daily_claims(
        self, held: Sequence[tuple[int, str]], now: datetime, attempt: bool = False
    ) -> set[int]:
        async with self.db.queued_write() as conn:
            return await DAILY_CLAIMS.renew(conn, held, now, attempt)

    async def mark_daily_posted(self, posts: Sequence[tuple[int, str, str | None]], now: datetime) -> None:
        if not posts:
            return
        async with self.db.queued_write() as conn:
            await conn.execute(
                sa.update(daily_posts)
                .where(daily_posts.c.id == sa.bindparam("post"), daily_posts.c.posted_at.is_(None))
                .values(
                    posted_at=now,
                    message_ref=sa.bindparam("message"),
                    thread_ref=sa.bindparam("thread"),
                    last_error=None,
                ),
                [{"post": p, "message": m[:200], "thread": (t or None) and t[:200]} for p, m, t in posts],
            )

    async def record_daily_failure(self, post_id: int, reason: str) -> None:
        async with self.db.queued_write() as conn:
            await conn.execute(
                sa.update(daily_posts).where(daily_posts.c.id == post_id).values(last_error=reason)
            )


def _askable(deck_id: str | None, workspace_id: str) -> sa.ColumnElement[bool]:
    """Main cards that may be posted: active, in an active deck the channel's workspace may see (the
    channel's deck, if it has one)."""
    visible = sa.or_(decks.c.workspace_id.is_(None), decks.c.workspace_id == workspace_id)
    condition = sa.and_(
        cards.c.kind == CardKind.MAIN.value,
        cards.c.active.is_(True),
        cards.c.deck_id.in_(sa.select(decks.c.id).where(decks.c.active.is_(True), visible)),
    )
    if deck_id is not None:
        condition = sa.and_(condition, cards.c.deck_id == deck_id)
    return condition

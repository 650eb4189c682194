"""DailyStore over SQLAlchemy Core: channel schedules and the per-(channel, local date) claims.

Mixed into SqlStore. The claim is the exactly-once guarantee for daily posts:
INSERT ... ON CONFLICT DO NOTHING on (channel_id, local_date), and only the caller whose row went in posts."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.model.card_order import pick_card
from bot.core.model.daily import (
    ClaimResult,
    ClaimStatus,
    DailyChannel,
    DailyClaim,
    DailyConfig,
    DailyPost,
)
from bot.core.model.models import CardKind, Grade, StoredCard
from bot.store.claims import Claimable, new_token
from bot.store.tables import asks, cards, daily_channels, daily_posts, decks

CARD_CACHE_SECONDS = 60.0
DAILY_CLAIMS = Claimable(daily_posts, done="posted_at")


def _channel(row: sa.Row[Any]) -> DailyChannel:
    return DailyChannel(
        id=row.id,
        workspace_id=row.workspace_id,
        platform=row.platform,
        channel_ref=row.channel_ref,
        post_time=row.post_time,
        timezone=row.timezone,
        deck_id=row.deck_id,
        weekdays=row.weekdays,
        enabled=bool(row.enabled),
        paused_reason=row.paused_reason,
        active_from=row.active_from,
        order_seed=row.order_seed,
        cycle=row.cycle,
        position=row.position,
    )


def _post(row: sa.Row[Any]) -> DailyPost:
    return DailyPost(
        id=row.id,
        channel_id=row.channel_id,
        local_date=row.local_date,
        card_id=row.card_id,
        cycle=row.cycle,
        claimed_at=row.claimed_at,
        claimed_by=row.claimed_by,
        claim_token=row.claim_token,
        posted_at=row.posted_at,
        message_ref=row.message_ref,
        thread_ref=row.thread_ref,
        attempts=row.attempts,
        last_error=row.last_error,
    )


def _askable(deck_id: str | None) -> sa.ColumnElement[bool]:
    """Main cards that may be posted: active, in an active deck (the channel's, if it has one)."""
    condition = sa.and_(
        cards.c.kind == CardKind.MAIN.value,
        cards.c.active.is_(True),
        cards.c.deck_id.in_(sa.select(decks.c.id).where(decks.c.active.is_(True))),
    )
    if deck_id is not None:
        condition = sa.and_(condition, cards.c.deck_id == deck_id)
    return condition


def _insert(dialect: str, table: sa.Table) -> Any:
    from bot.store.sql_store import upsert  # imported late: sql_store imports this module while loading

    return upsert(dialect, table)


class DailyQueries:
    """Mixed into SqlStore, which provides the engine, the writer engine and the dialect name."""

    engine: AsyncEngine
    _writer: AsyncEngine
    _dialect: str

    # -- channels -------------------------------------------------------------------------------

    async def save_daily_channel(self, config: DailyConfig, now: datetime) -> DailyChannel:
        where = sa.and_(
            daily_channels.c.workspace_id == config.workspace_id,
            daily_channels.c.channel_ref == config.channel_ref,
        )
        values = {
            "platform": config.platform,
            "post_time": config.post_time,
            "timezone": config.timezone,
            "deck_id": config.deck_id,
            "weekdays": config.weekdays,
            "enabled": True,
            "paused_reason": None,
            "paused_at": None,
            "active_from": now,
            "updated_at": now,
        }
        async with self._daily_write() as conn:
            before = (await conn.execute(sa.select(daily_channels).where(where).with_for_update())).first()
            if before is None:
                await conn.execute(
                    _insert(self._dialect, daily_channels)
                    .values(
                        workspace_id=config.workspace_id,
                        channel_ref=config.channel_ref,
                        order_seed=secrets.token_hex(8),
                        cycle=0,
                        position=0,
                        created_at=now,
                        **values,
                    )
                    .on_conflict_do_update(index_elements=["workspace_id", "channel_ref"], set_=values)
                )
            else:
                if before.deck_id != config.deck_id:
                    # Another deck: a fresh pass through it.
                    values |= {"cycle": before.cycle + 1, "position": 0}
                await conn.execute(sa.update(daily_channels).where(where).values(**values))
            row = (await conn.execute(sa.select(daily_channels).where(where))).one()
        return _channel(row)

    async def get_daily_channel(self, workspace_id: str, channel_ref: str) -> DailyChannel | None:
        query = sa.select(daily_channels).where(
            daily_channels.c.workspace_id == workspace_id, daily_channels.c.channel_ref == channel_ref
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return _channel(row) if row is not None else None

    async def get_daily_channel_by_id(self, channel_id: int) -> DailyChannel | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(sa.select(daily_channels).where(daily_channels.c.id == channel_id))
            ).first()
        return _channel(row) if row is not None else None

    async def list_daily_channels(
        self, workspace_id: str | None, active_only: bool = False
    ) -> list[DailyChannel]:
        query = sa.select(daily_channels).order_by(daily_channels.c.id)
        if workspace_id is not None:
            query = query.where(daily_channels.c.workspace_id == workspace_id)
        if active_only:
            query = query.where(daily_channels.c.enabled.is_(True), daily_channels.c.paused_reason.is_(None))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_channel(r) for r in rows]

    async def disable_daily_channel(self, channel_id: int, now: datetime) -> None:
        async with self._daily_write() as conn:
            await conn.execute(
                sa.update(daily_channels)
                .where(daily_channels.c.id == channel_id)
                .values(enabled=False, updated_at=now)
            )

    async def pause_daily_channel(
        self, channel_id: int, reason: str, post_id: int | None, now: datetime
    ) -> None:
        async with self._daily_write() as conn:
            await conn.execute(
                sa.update(daily_channels)
                .where(daily_channels.c.id == channel_id)
                .values(paused_reason=reason, paused_at=now, updated_at=now)
            )
            if post_id is not None:
                await conn.execute(
                    sa.delete(daily_posts).where(
                        daily_posts.c.id == post_id, daily_posts.c.posted_at.is_(None)
                    )
                )

    # -- claims ---------------------------------------------------------------------------------

    async def claim_daily_posts(
        self, items: Sequence[tuple[int, date]], now: datetime, claimed_by: str, stale_before: datetime
    ) -> list[ClaimResult]:
        channel_ids = [channel_id for channel_id, _day in items]
        if len(set(channel_ids)) != len(channel_ids):
            raise ValueError("claim one local date per channel at a time")
        if not items:
            return []
        results: dict[int, ClaimResult] = {}
        async with self._daily_write() as conn:
            # Locking the channel rows, in id order so two instances cannot deadlock (PostgreSQL; SQLite's
            # BEGIN IMMEDIATE already serialises writers), keeps the card choice consistent. The unique
            # (channel, local date) below is what guarantees one post.
            rows = await conn.execute(
                sa.select(daily_channels)
                .where(daily_channels.c.id.in_(sorted(channel_ids)))
                .order_by(daily_channels.c.id)
                .with_for_update()
            )
            channels = {c.id: c for c in map(_channel, rows) if c.active}
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
                askable = await self._askable_cards(conn, channel.deck_id)
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
                    _insert(self._dialect, daily_posts)
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

    async def _askable_cards(self, conn: AsyncConnection, deck_id: str | None) -> dict[int, StoredCard]:
        """The cards a channel may be asked, by id; cached briefly, since decks change only when loaded."""
        from bot.store.sql_store import _CARD_COLUMNS, _card

        cache = self.__dict__.setdefault("_daily_card_cache", {})
        hit = cache.get(deck_id)
        if hit is not None and hit[0] > time.monotonic():
            return cast(dict[int, StoredCard], hit[1])
        rows = await conn.execute(sa.select(*_CARD_COLUMNS).where(_askable(deck_id)))
        found = {card.id: card for card in map(_card, rows)}
        cache[deck_id] = (time.monotonic() + CARD_CACHE_SECONDS, found)
        return found

    @contextlib.asynccontextmanager
    async def _daily_write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction. On SQLite, writers of this process queue here instead of in SQLite's busy
        handler, which sleeps in steps of milliseconds and wastes most of the time under contention."""
        if self._dialect != "sqlite":
            async with self._writer.begin() as conn:
                yield conn
            return
        lock: asyncio.Lock = self.__dict__.setdefault("_daily_write_lock", asyncio.Lock())
        async with lock, self._writer.begin() as conn:
            yield conn

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
        from bot.store.sql_store import _CARD_COLUMNS, _card

        where = sa.and_(daily_posts.c.channel_id == channel.id, daily_posts.c.local_date == day)
        post_id = (await conn.execute(sa.select(daily_posts.c.id).where(where))).scalar_one_or_none()
        if post_id is None:
            return ClaimResult(ClaimStatus.NO_CARDS if no_cards else ClaimStatus.TAKEN)
        if await DAILY_CLAIMS.take_over(conn, post_id, now, claimed_by, stale_before) is None:
            return ClaimResult(ClaimStatus.TAKEN)
        post = _post((await conn.execute(sa.select(daily_posts).where(daily_posts.c.id == post_id))).one())
        card_row = (await conn.execute(sa.select(*_CARD_COLUMNS).where(cards.c.id == post.card_id))).one()
        return ClaimResult(ClaimStatus.CLAIMED, DailyClaim(post, channel, _card(card_row)))

    async def renew_daily_claims(
        self, held: Sequence[tuple[int, str]], now: datetime, attempt: bool = False
    ) -> set[int]:
        async with self._daily_write() as conn:
            return await DAILY_CLAIMS.renew(conn, held, now, attempt)

    async def mark_daily_posted(self, posts: Sequence[tuple[int, str, str | None]], now: datetime) -> None:
        if not posts:
            return
        async with self._daily_write() as conn:
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
        async with self._daily_write() as conn:
            await conn.execute(
                sa.update(daily_posts).where(daily_posts.c.id == post_id).values(last_error=reason)
            )

    # -- posts ----------------------------------------------------------------------------------

    async def get_daily_post(self, post_id: int) -> DailyPost | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(daily_posts).where(daily_posts.c.id == post_id))).first()
        return _post(row) if row is not None else None

    async def get_daily_post_for(self, channel_id: int, local_date: date) -> DailyPost | None:
        query = sa.select(daily_posts).where(
            daily_posts.c.channel_id == channel_id, daily_posts.c.local_date == local_date
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return _post(row) if row is not None else None

    async def daily_posts_on(self, local_dates: set[date]) -> dict[tuple[int, date], DailyPost]:
        if not local_dates:
            return {}
        query = sa.select(daily_posts).where(daily_posts.c.local_date.in_(sorted(local_dates)))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {(r.channel_id, r.local_date): _post(r) for r in rows}

    async def previous_daily_results(
        self, channel_ids: Sequence[int], before: date
    ) -> dict[int, tuple[date, dict[Grade, int]]]:
        if not channel_ids:
            return {}
        latest = (
            sa.select(daily_posts.c.channel_id, sa.func.max(daily_posts.c.local_date).label("day"))
            .where(
                daily_posts.c.channel_id.in_(sorted(set(channel_ids))),
                daily_posts.c.local_date < before,
                daily_posts.c.posted_at.is_not(None),
            )
            .group_by(daily_posts.c.channel_id)
            .subquery()
        )
        previous = sa.select(daily_posts.c.id, daily_posts.c.channel_id, daily_posts.c.local_date).join(
            latest,
            sa.and_(
                daily_posts.c.channel_id == latest.c.channel_id, daily_posts.c.local_date == latest.c.day
            ),
        )
        async with self.engine.connect() as conn:
            posts = {row.id: (row.channel_id, row.local_date) for row in await conn.execute(previous)}
            grades = await conn.execute(
                sa.select(asks.c.daily_post_id, asks.c.member_id, asks.c.grade)
                .where(asks.c.daily_post_id.in_(sorted(posts)), asks.c.grade.is_not(None))
                .order_by(asks.c.graded_at, asks.c.id)
            )
            first: dict[tuple[int, int], Grade] = {}
            for post_id, member_id, grade in grades:
                first.setdefault((post_id, member_id), Grade(grade))  # a member counts once, first grade
        results: dict[int, tuple[date, dict[Grade, int]]] = {
            channel_id: (day, {}) for channel_id, day in posts.values()
        }
        for (post_id, _member), grade in first.items():
            counts = results[posts[post_id][0]][1]
            counts[grade] = counts.get(grade, 0) + 1
        return results

    async def find_daily_ask(self, member_id: int, post_id: int) -> int | None:
        query = (
            sa.select(asks.c.id)
            .where(asks.c.member_id == member_id, asks.c.daily_post_id == post_id)
            .order_by(asks.c.id.desc())
            .limit(1)
        )
        async with self.engine.connect() as conn:
            value = (await conn.execute(query)).scalar_one_or_none()
        return int(value) if value is not None else None

"""Daily questions: each channel's schedule, and reading the posts made for it. Claiming posts is
bot/store/daily_claims.py."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import date, datetime

import sqlalchemy as sa

from bot.core.model.daily import DailyChannel, DailyConfig, DailyPost
from bot.core.model.models import Grade
from bot.store.db import Db
from bot.store.rows import channel_row, post_row
from bot.store.tables import asks, daily_channels, daily_posts


class SqlDaily:
    def __init__(self, db: Db) -> None:
        self.db = db

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
        async with self.db.queued_write() as conn:
            before = (await conn.execute(sa.select(daily_channels).where(where).with_for_update())).first()
            if before is None:
                await conn.execute(
                    self.db.upsert(daily_channels)
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
        return channel_row(row)

    async def get_daily_channel(self, workspace_id: str, channel_ref: str) -> DailyChannel | None:
        query = sa.select(daily_channels).where(
            daily_channels.c.workspace_id == workspace_id, daily_channels.c.channel_ref == channel_ref
        )
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return channel_row(row) if row is not None else None

    async def get_daily_channel_by_id(self, channel_id: int) -> DailyChannel | None:
        async with self.db.engine.connect() as conn:
            row = (
                await conn.execute(sa.select(daily_channels).where(daily_channels.c.id == channel_id))
            ).first()
        return channel_row(row) if row is not None else None

    async def list_daily_channels(
        self, workspace_id: str | None, active_only: bool = False
    ) -> list[DailyChannel]:
        query = sa.select(daily_channels).order_by(daily_channels.c.id)
        if workspace_id is not None:
            query = query.where(daily_channels.c.workspace_id == workspace_id)
        if active_only:
            query = query.where(daily_channels.c.enabled.is_(True), daily_channels.c.paused_reason.is_(None))
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [channel_row(r) for r in rows]

    async def disable_daily_channel(self, channel_id: int, now: datetime) -> None:
        async with self.db.queued_write() as conn:
            await conn.execute(
                sa.update(daily_channels)
                .where(daily_channels.c.id == channel_id)
                .values(enabled=False, updated_at=now)
            )

    async def pause_daily_channel(
        self, channel_id: int, reason: str, post_id: int | None, now: datetime
    ) -> None:
        async with self.db.queued_write() as conn:
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

    async def get_daily_post(self, post_id: int) -> DailyPost | None:
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(sa.select(daily_posts).where(daily_posts.c.id == post_id))).first()
        return post_row(row) if row is not None else None

    async def get_daily_post_for(self, channel_id: int, local_date: date) -> DailyPost | None:
        query = sa.select(daily_posts).where(
            daily_posts.c.channel_id == channel_id, daily_posts.c.local_date == local_date
        )
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return post_row(row) if row is not None else None

    async def daily_posts_on(self, local_dates: set[date]) -> dict[tuple[int, date], DailyPost]:
        if not local_dates:
            return {}
        query = sa.select(daily_posts).where(daily_posts.c.local_date.in_(sorted(local_dates)))
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {(r.channel_id, r.local_date): post_row(r) for r in rows}

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
        async with self.db.engine.connect() as conn:
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
        async with self.db.engine.connect() as conn:
            value = (await conn.execute(query)).scalar_one_or_none()
        return int(value) if value is not None else None

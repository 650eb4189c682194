"""Reminders and weekly digests, exactly once: one `outreach` row per (kind, target, local date) goes in
with INSERT ... ON CONFLICT DO NOTHING and only its inserter sends; an unsent claim left past the timeout
may be taken over. The lease and fence are the daily posts' (bot/store/claims.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import sqlalchemy as sa

from bot.core.model.digest import HardCard
from bot.core.model.models import Grade, MemberRow
from bot.store.claims import Claimable, new_token
from bot.store.db import Db
from bot.store.rows import CARD_COLUMNS, card_row, member_row
from bot.store.tables import asks, card_states, cards, daily_channels, decks, members, outreach, workspaces

OUTREACH_CLAIMS = Claimable(outreach, done="sent_at")


class SqlOutreach:
    def __init__(self, db: Db) -> None:
        self.db = db

    async def reminder_members(self) -> list[tuple[MemberRow, str | None]]:
        """Members with reminders on and not paused, with their workspace's zone."""
        query = (
            sa.select(members, workspaces.c.timezone.label("w_timezone"))
            .join(workspaces, workspaces.c.id == members.c.workspace_id)
            .where(members.c.reminder_time.is_not(None), members.c.reminders_paused.is_(None))
        )
        async with self.db.engine.connect() as conn:
            return [(member_row(row), row.w_timezone) for row in await conn.execute(query)]

    async def outreach_done(self, kind: str, items: Sequence[tuple[int, date]]) -> set[tuple[int, date]]:
        """Which of (target, local date) were already sent. One claimed and not yet sent is not among them:
        the claim then finds it taken, so it is still sent once."""
        if not items:
            return set()
        days = sorted({day for _target, day in items})
        wanted = set(items)
        query = sa.select(outreach.c.target_id, outreach.c.local_date).where(
            outreach.c.kind == kind, outreach.c.local_date.in_(days), outreach.c.sent_at.is_not(None)
        )
        async with self.db.engine.connect() as conn:
            found = {(row.target_id, row.local_date) for row in await conn.execute(query)}
        return found & wanted

    async def claim_outreach(
        self,
        kind: str,
        items: Sequence[tuple[int, date]],
        now: datetime,
        claimed_by: str,
        stale_before: datetime,
    ) -> list[tuple[int, str] | None]:
        """Claim each (target, local date); per item (outreach id, token) when this caller won, else None."""
        if not items:
            return []
        tokens = [new_token() for _ in items]
        async with self.db.queued_write() as conn:
            rows = await conn.execute(
                self.db.upsert(outreach)
                .on_conflict_do_nothing(index_elements=["kind", "target_id", "local_date"])
                .returning(
                    outreach.c.target_id, outreach.c.local_date, outreach.c.id, outreach.c.claim_token
                ),
                [
                    {
                        "kind": kind,
                        "target_id": target,
                        "local_date": day,
                        "claimed_at": now,
                        "claimed_by": claimed_by,
                        "claim_token": token,
                        "attempts": 0,
                    }
                    for (target, day), token in zip(items, tokens, strict=True)
                ],
            )
            won = {(row.target_id, row.local_date): (int(row.id), str(row.claim_token)) for row in rows}
            results: list[tuple[int, str] | None] = []
            for target, day in items:
                if (target, day) in won:
                    results.append(won[(target, day)])
                    continue
                row_id = (
                    await conn.execute(
                        sa.select(outreach.c.id).where(
                            outreach.c.kind == kind,
                            outreach.c.target_id == target,
                            outreach.c.local_date == day,
                        )
                    )
                ).scalar_one_or_none()
                token = (
                    await OUTREACH_CLAIMS.take_over(conn, row_id, now, claimed_by, stale_before)
                    if row_id is not None
                    else None
                )
                results.append((row_id, token) if row_id is not None and token is not None else None)
        return results

    async def renew_outreach_claims(
        self, held: Sequence[tuple[int, str]], now: datetime, attempt: bool = False
    ) -> set[int]:
        async with self.db.queued_write() as conn:
            return await OUTREACH_CLAIMS.renew(conn, held, now, attempt)

    async def mark_outreach_sent(
        self, sent: Sequence[tuple[int, str]], now: datetime, error: str | None = None
    ) -> None:
        """Record (outreach id, message ref) as done; `error` set: done without a message (the member
        could not be reached), so it is not retried."""
        if not sent:
            return
        async with self.db.queued_write() as conn:
            await conn.execute(
                sa.update(outreach)
                .where(outreach.c.id == sa.bindparam("row"), outreach.c.sent_at.is_(None))
                .values(sent_at=now, message_ref=sa.bindparam("ref"), last_error=error),
                [{"row": row_id, "ref": ref[:200]} for row_id, ref in sent],
            )

    async def record_outreach_failure(self, row_id: int, reason: str) -> None:
        async with self.db.queued_write() as conn:
            await conn.execute(sa.update(outreach).where(outreach.c.id == row_id).values(last_error=reason))

    async def due_counts(self, member_ids: Sequence[int], now: datetime) -> dict[int, int]:
        """Cards due now, per member (members with none left out): active cards of active decks only, as
        the picking of a due card (a removed deck's cards can't be studied, so aren't due)."""
        if not member_ids:
            return {}
        query = (
            sa.select(card_states.c.member_id, sa.func.count())
            .join(cards, cards.c.id == card_states.c.card_id)
            .join(decks, decks.c.id == cards.c.deck_id)
            .where(
                card_states.c.member_id.in_(list(member_ids)),
                card_states.c.due <= now,
                cards.c.active.is_(True),
                decks.c.active.is_(True),
            )
            .group_by(card_states.c.member_id)
        )
        async with self.db.engine.connect() as conn:
            return {int(m): int(n) for m, n in await conn.execute(query)}

    # -- the weekly digest --------------------------------------------------------------------------

    async def week_activity(
        self, workspace_id: str, start: datetime, end: datetime, limit: int
    ) -> tuple[int, list[HardCard]]:
        """Members who graded a card in [start, end), and the studyable cards with most Again/Hard grades
        then."""
        graded = sa.and_(
            asks.c.workspace_id == workspace_id,
            asks.c.graded_at >= start,
            asks.c.graded_at < end,
            asks.c.grade.is_not(None),
        )
        hard = sa.func.sum(sa.case((asks.c.grade.in_([int(Grade.AGAIN), int(Grade.HARD)]), 1), else_=0))
        counted = (
            sa.select(asks.c.card_id, hard.label("hard"), sa.func.count().label("reviews"))
            .join(cards, cards.c.id == asks.c.card_id)
            .join(decks, decks.c.id == cards.c.deck_id)
            # Only cards Study it can still ask: not those of a removed deck.
            .where(graded, cards.c.active.is_(True), decks.c.active.is_(True))
            .group_by(asks.c.card_id)
            .having(hard > 0)
            .order_by(hard.desc(), sa.func.count().desc(), asks.c.card_id)
            .limit(limit)
            .subquery()
        )
        query = (
            sa.select(*CARD_COLUMNS, counted.c.hard, counted.c.reviews)
            .join(counted, counted.c.card_id == cards.c.id)
            .order_by(counted.c.hard.desc(), counted.c.reviews.desc(), cards.c.id)
        )
        async with self.db.engine.connect() as conn:
            studied = (
                await conn.execute(sa.select(sa.func.count(sa.distinct(asks.c.member_id))).where(graded))
            ).scalar_one()
            hardest = [
                HardCard(card_row(row), int(row.hard), int(row.reviews)) for row in await conn.execute(query)
            ]
        return int(studied), hardest

    async def streak_leaders(self, workspace_id: str, limit: int) -> list[MemberRow]:
        """The workspace's members with the longest stored streaks (the core decides which still stand)."""
        query = (
            sa.select(members)
            .where(members.c.workspace_id == workspace_id, members.c.streak_current > 0)
            .order_by(members.c.streak_current.desc(), members.c.id)
            .limit(limit)
        )
        async with self.db.engine.connect() as conn:
            return [member_row(row) for row in await conn.execute(query)]

    async def set_daily_digest(self, channel_id: int, on: bool) -> None:
        async with self.db.queued_write() as conn:
            await conn.execute(
                sa.update(daily_channels).where(daily_channels.c.id == channel_id).values(digest=on)
            )

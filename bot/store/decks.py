"""Decks and cards: loading them, picking a member's next card, and progress through them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.model.models import CardKind, Deck, DeckProblem, DeckProgress, StoredCard
from bot.store.db import Db
from bot.store.rows import CARD_COLUMNS, card_row
from bot.store.tables import asks, card_states, cards, decks, members


class SqlDecks:
    def __init__(self, db: Db) -> None:
        self.db = db

    async def sync_decks(self, deck_list: Sequence[Deck], now: datetime) -> list[DeckProblem]:
        refused: list[DeckProblem] = []
        async with self.db.writer.begin() as conn:
            # Workspace decks are not the content folders' to retire.
            await conn.execute(sa.update(decks).where(decks.c.workspace_id.is_(None)).values(active=False))
            for deck in deck_list:
                # Each deck in its own savepoint: one the database refuses stays out, the others load.
                try:
                    async with conn.begin_nested():
                        await self._sync_deck(conn, deck, now)
                except Exception as exc:
                    cause = getattr(exc, "orig", None) or exc  # the driver's error, not SQLAlchemy's wrapper
                    reason = (str(cause).strip().splitlines() or [""])[0][:200]
                    message = f"the database refused this deck ({type(cause).__name__}: {reason})"
                    refused.append(DeckProblem(deck.source or deck.id, 1, message))
        return refused

    async def _sync_deck(self, conn: AsyncConnection, deck: Deck, now: datetime) -> None:
        values = {
            "title": deck.title,
            "credit": deck.credit,
            "source": deck.source,
            "active": True,
            "updated_at": now,
        }
        await conn.execute(
            self.db.upsert(decks)
            .values(id=deck.id, **values)
            .on_conflict_do_update(index_elements=["id"], set_=values)
        )
        # Read the deck's cards once and write only those that changed: an everyday start (the same files)
        # writes no card at all.
        stored = {
            row.card_key: row
            for row in await conn.execute(sa.select(cards).where(cards.c.deck_id == deck.id))
        }
        # Main cards first, so follow-ups can point at their parent's id.
        ordered = sorted(deck.cards, key=lambda c: c.kind is CardKind.FOLLOWUP)
        ids: dict[str, int] = {}
        for position, card in enumerate(ordered):
            card_values = {
                "number": card.number,
                "kind": card.kind.value,
                "parent_id": ids.get(card.parent_key) if card.parent_key else None,
                "question": card.question,
                "answer": card.answer,
                "key_terms": list(card.key_terms),
                "position": position,
                "active": True,
            }
            row = stored.get(card.key)
            if row is not None and all(getattr(row, name) == value for name, value in card_values.items()):
                ids[card.key] = row.id
                continue
            await conn.execute(
                self.db.upsert(cards)
                .values(deck_id=deck.id, card_key=card.key, **card_values)
                .on_conflict_do_update(index_elements=["deck_id", "card_key"], set_=card_values)
            )
            ids[card.key] = (
                await conn.execute(
                    sa.select(cards.c.id).where(cards.c.deck_id == deck.id, cards.c.card_key == card.key)
                )
            ).scalar_one()
        gone = [row.id for key, row in stored.items() if key not in ids and row.active]
        if gone:
            await conn.execute(sa.update(cards).where(cards.c.id.in_(gone)).values(active=False))

    async def deck_ids(self) -> list[str]:
        async with self.db.engine.connect() as conn:
            result = await conn.execute(
                sa.select(decks.c.id)
                .where(decks.c.active.is_(True), decks.c.workspace_id.is_(None))
                .order_by(decks.c.id)
            )
        return list(result.scalars())

    async def pick_due_card(
        self, member_id: int, now: datetime, deck_id: str | None, skipped_since: datetime
    ) -> StoredCard | None:
        query = (
            sa.select(*CARD_COLUMNS)
            .join(card_states, card_states.c.card_id == cards.c.id)
            .where(
                card_states.c.member_id == member_id,
                card_states.c.due <= now,
                _servable(member_id, deck_id),
                cards.c.id.not_in(_recently_skipped(member_id, skipped_since)),
            )
            .order_by(card_states.c.due, cards.c.id)
            .limit(1)
        )
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return card_row(row) if row is not None else None

    async def pick_new_card(
        self, member_id: int, deck_id: str | None, skipped_since: datetime
    ) -> StoredCard | None:
        seen = sa.select(card_states.c.card_id).where(card_states.c.member_id == member_id)
        query = (
            sa.select(*CARD_COLUMNS)
            .where(
                # A follow-up is new once its main card has been graded (mains sort first by position).
                sa.or_(cards.c.kind == CardKind.MAIN.value, cards.c.parent_id.in_(seen)),
                _servable(member_id, deck_id),
                cards.c.id.not_in(seen),
                cards.c.id.not_in(_recently_skipped(member_id, skipped_since)),
            )
            .order_by(cards.c.deck_id, cards.c.position)
            .limit(1)
        )
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return card_row(row) if row is not None else None

    async def next_due(self, member_id: int, deck_id: str | None) -> datetime | None:
        query = (
            sa.select(card_states.c.due)
            .join(cards, cards.c.id == card_states.c.card_id)
            .where(card_states.c.member_id == member_id, _servable(member_id, deck_id))
            .order_by(card_states.c.due)
            .limit(1)
        )
        async with self.db.engine.connect() as conn:
            due: datetime | None = (await conn.execute(query)).scalar_one_or_none()
        return due

    async def card_by_id(self, card_id: int, workspace_id: str) -> StoredCard | None:
        """An active card in an active deck the workspace may see (a digest's Study it button)."""
        query = (
            sa.select(*CARD_COLUMNS)
            .join(decks, decks.c.id == cards.c.deck_id)
            .where(
                cards.c.id == card_id,
                cards.c.active.is_(True),
                decks.c.active.is_(True),
                sa.or_(decks.c.workspace_id.is_(None), decks.c.workspace_id == workspace_id),
            )
        )
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return card_row(row) if row is not None else None

    async def followup_of(self, card_id: int) -> StoredCard | None:
        query = sa.select(*CARD_COLUMNS).where(cards.c.parent_id == card_id, cards.c.active.is_(True))
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return card_row(row) if row is not None else None

    async def deck_progress(self, member_id: int, now: datetime) -> list[DeckProgress]:
        per_deck = (
            sa.select(
                decks.c.id,
                decks.c.title,
                decks.c.name,
                decks.c.added_by,
                sa.func.sum(sa.case((cards.c.kind == CardKind.MAIN.value, 1), else_=0)).label("mains"),
                sa.func.sum(sa.case((cards.c.kind == CardKind.FOLLOWUP.value, 1), else_=0)).label(
                    "followups"
                ),
            )
            .join(cards, cards.c.deck_id == decks.c.id)
            .where(decks.c.active.is_(True), cards.c.active.is_(True), _visible_to(member_id))
            .group_by(decks.c.id, decks.c.title, decks.c.name, decks.c.added_by)
            .order_by(decks.c.id)
        )
        mine = (
            sa.select(
                cards.c.deck_id,
                sa.func.count().label("learned"),
                sa.func.sum(sa.case((card_states.c.due <= now, 1), else_=0)).label("due"),
            )
            .join(cards, cards.c.id == card_states.c.card_id)
            .where(card_states.c.member_id == member_id, cards.c.active.is_(True))
            .group_by(cards.c.deck_id)
        )
        async with self.db.engine.connect() as conn:
            deck_rows = (await conn.execute(per_deck)).all()
            progress = {r.deck_id: (int(r.learned), int(r.due or 0)) for r in await conn.execute(mine)}
        return [
            DeckProgress(
                deck_id=r.id,
                title=r.title,
                main_cards=int(r.mains or 0),
                followup_cards=int(r.followups or 0),
                learned=progress.get(r.id, (0, 0))[0],
                due=progress.get(r.id, (0, 0))[1],
                added_by=r.added_by if r.name else None,
            )
            for r in deck_rows
        ]


def _visible_to(member_id: int) -> sa.ColumnElement[bool]:
    """Decks the member's workspace may see: the bundled ones and its own."""
    workspace = sa.select(members.c.workspace_id).where(members.c.id == member_id).scalar_subquery()
    return sa.or_(decks.c.workspace_id.is_(None), decks.c.workspace_id == workspace)


def _servable(member_id: int, deck_id: str | None) -> sa.ColumnElement[bool]:
    """Cards that may be asked: active, in an active deck the member may see, optionally one deck."""
    condition = sa.and_(
        cards.c.active.is_(True),
        cards.c.deck_id.in_(sa.select(decks.c.id).where(decks.c.active.is_(True), _visible_to(member_id))),
    )
    if deck_id is not None:
        condition = sa.and_(condition, cards.c.deck_id == deck_id)
    return condition


def _recently_skipped(member_id: int, since: datetime) -> sa.Select[Any]:
    return sa.select(asks.c.card_id).where(
        asks.c.member_id == member_id, asks.c.skipped_at.is_not(None), asks.c.skipped_at >= since
    )

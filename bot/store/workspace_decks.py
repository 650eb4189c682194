"""Workspace decks (imported, exported, grown card by card, retired) and the review queue of suggested cards.

A workspace deck lives in the same `decks` and `cards` tables as the bundled ones, with its owner set, so
studying, grading and progress need nothing new. Cards are never deleted: a card missing from a re-import
is retired and, imported again under the same key, comes back with its progress.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.model.models import (
    Card,
    CardKind,
    Deck,
    DeckChange,
    DeckInfo,
    Suggestion,
    SuggestionStatus,
)
from bot.store.db import Db
from bot.store.rows import suggestion_row
from bot.store.tables import card_suggestions, cards, decks, members


class SqlWorkspaceDecks:
    def __init__(self, db: Db) -> None:
        self.db = db

    async def deck_infos(self, workspace_id: str | None) -> list[DeckInfo]:
        """The decks served to this workspace: bundled ones and its own, not retired, by name."""
        owner: sa.ColumnElement[bool] = decks.c.workspace_id.is_(None)
        if workspace_id is not None:
            owner = sa.or_(owner, decks.c.workspace_id == workspace_id)
        query = sa.select(decks).where(decks.c.active.is_(True), owner)
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        found = [
            DeckInfo(r.id, r.name or r.id, r.title, r.workspace_id, r.added_by, r.added_at) for r in rows
        ]
        return sorted(found, key=lambda d: (d.name, d.workspace_id is None))

    async def save_workspace_deck(
        self, workspace_id: str, name: str, deck: Deck, added_by: str, now: datetime, decks_max: int
    ) -> DeckChange | None:
        """Create or update the deck `deck.id` of this workspace in one transaction: cards matched by key,
        the ones missing retired. None (and nothing written) when it would be one deck over `decks_max`."""
        async with self.db.queued_write() as conn:
            return await self._write_deck(conn, workspace_id, name, deck, added_by, now, decks_max)

    async def create_workspace_deck(
        self, workspace_id: str, name: str, deck: Deck, added_by: str, now: datetime, decks_max: int
    ) -> bool | None:
        """Start the deck `deck.id` with its cards, only if it is not served already: False (nothing
        written) when it is, None (nothing written) when it would be one deck over `decks_max`."""
        async with self.db.queued_write() as conn:
            row = (
                await conn.execute(sa.select(decks.c.active).where(decks.c.id == deck.id).with_for_update())
            ).first()
            if row is not None and row.active:
                return False
            if row is None:  # claim the id first: two admins starting the deck at once make it once
                claim = {
                    "title": deck.title,
                    "active": False,
                    "updated_at": now,
                    "workspace_id": workspace_id,
                }
                inserted = await conn.execute(
                    self.db.upsert(decks)
                    .values(id=deck.id, **claim)
                    .on_conflict_do_nothing(index_elements=["id"])
                )
                if not inserted.rowcount:
                    return False
            if await self._write_deck(conn, workspace_id, name, deck, added_by, now, decks_max) is None:
                if row is None:
                    await conn.execute(sa.delete(decks).where(decks.c.id == deck.id))
                return None
            return True

    async def _write_deck(
        self,
        conn: AsyncConnection,
        workspace_id: str,
        name: str,
        deck: Deck,
        added_by: str,
        now: datetime,
        decks_max: int,
    ) -> DeckChange | None:
        """Create or update a workspace deck within the caller's transaction (see save_workspace_deck)."""
        existing = (await conn.execute(sa.select(decks.c.active).where(decks.c.id == deck.id))).first()
        if existing is None or not existing.active:
            count = (
                await conn.execute(
                    sa.select(sa.func.count())
                    .select_from(decks)
                    .where(decks.c.workspace_id == workspace_id, decks.c.active.is_(True))
                )
            ).scalar_one()
            if count >= decks_max:
                return None
        before = {
            r.card_key: bool(r.active)
            for r in await conn.execute(
                sa.select(cards.c.card_key, cards.c.active).where(
                    cards.c.deck_id == deck.id, cards.c.kind == CardKind.MAIN.value
                )
            )
        }
        values = {
            "title": deck.title,
            "credit": deck.credit,
            "source": deck.source,
            "active": True,
            "updated_at": now,
            "workspace_id": workspace_id,
            "name": name,
            "added_by": added_by,
            "added_at": now,
        }
        await conn.execute(
            self.db.upsert(decks)
            .values(id=deck.id, **values)
            .on_conflict_do_update(index_elements=["id"], set_=values)
        )
        await conn.execute(sa.update(cards).where(cards.c.deck_id == deck.id).values(active=False))
        await _upsert_cards(self.db, conn, deck.id, deck.cards, 0)
        keys = {card.key for card in deck.main_cards}  # counted in questions, as the import reply is
        return DeckChange(
            created=existing is None,
            added=sum(1 for k in keys if k not in before),
            kept=sum(1 for k in keys if before.get(k) is True),
            retired=sum(1 for k, active in before.items() if active and k not in keys),
            restored=sum(1 for k in keys if before.get(k) is False),
        )

    async def deck_cards(self, deck_id: str) -> Deck | None:
        """A served deck with its cards not retired, in deck order (what an export writes)."""
        async with self.db.engine.connect() as conn:
            row = (
                await conn.execute(sa.select(decks).where(decks.c.id == deck_id, decks.c.active.is_(True)))
            ).first()
            if row is None:
                return None
            card_rows = (
                await conn.execute(
                    sa.select(cards)
                    .where(cards.c.deck_id == deck_id, cards.c.active.is_(True))
                    .order_by(cards.c.position, cards.c.id)
                )
            ).all()
        keys = {r.id: r.card_key for r in card_rows}
        found = tuple(
            Card(
                key=r.card_key,
                number=r.number,
                kind=CardKind(r.kind),
                question=r.question,
                answer=r.answer,
                key_terms=tuple(r.key_terms),
                line=0,
                parent_key=keys.get(r.parent_id) if r.parent_id is not None else None,
            )
            for r in card_rows
        )
        return Deck(id=row.id, title=row.title, cards=found, credit=row.credit, source=row.source)

    async def add_cards(self, deck_id: str, new_cards: Sequence[Card]) -> None:
        """Append cards (a main card and its follow-up) after the deck's last one."""
        async with self.db.queued_write() as conn:
            last = (
                await conn.execute(sa.select(sa.func.max(cards.c.position)).where(cards.c.deck_id == deck_id))
            ).scalar_one()
            await _upsert_cards(self.db, conn, deck_id, new_cards, (last or 0) + 1)

    async def retire_workspace_deck(self, workspace_id: str, deck_id: str, now: datetime) -> bool:
        async with self.db.queued_write() as conn:
            result = await conn.execute(
                sa.update(decks)
                .where(decks.c.id == deck_id, decks.c.workspace_id == workspace_id, decks.c.active.is_(True))
                .values(active=False, updated_at=now)
            )
        return bool(result.rowcount)

    # -- suggested cards ------------------------------------------------------------------------

    async def suggest_card(self, suggestion: Suggestion, pending_max: int) -> int | None:
        """Queue a suggested card (its id and status are ignored); returns its id, or None (nothing
        written) when the member has `pending_max` suggestions waiting already."""
        values = {
            "workspace_id": suggestion.workspace_id,
            "member_id": suggestion.member_id,
            "suggester": suggestion.suggester,
            "deck_id": suggestion.deck_id,
            "question": suggestion.question,
            "answer": suggestion.answer,
            "followup_question": suggestion.followup_question,
            "followup_answer": suggestion.followup_answer,
            "status": SuggestionStatus.PENDING.value,
            "created_at": suggestion.created_at,
        }
        async with self.db.queued_write() as conn:
            waiting = (
                await conn.execute(
                    sa.select(sa.func.count())
                    .select_from(card_suggestions)
                    .where(
                        card_suggestions.c.member_id == suggestion.member_id,
                        card_suggestions.c.status == SuggestionStatus.PENDING.value,
                    )
                )
            ).scalar_one()
            if waiting >= pending_max:
                return None
            result = await conn.execute(
                sa.insert(card_suggestions).values(**values).returning(card_suggestions.c.id)
            )
            return int(result.scalar_one())

    async def pending_suggestions(self, workspace_id: str, limit: int) -> list[Suggestion]:
        query = (
            sa.select(card_suggestions)
            .where(
                card_suggestions.c.workspace_id == workspace_id,
                card_suggestions.c.status == SuggestionStatus.PENDING.value,
            )
            .order_by(card_suggestions.c.id)
            .limit(limit)
        )
        async with self.db.engine.connect() as conn:
            return [suggestion_row(r) for r in await conn.execute(query)]

    async def get_suggestion(self, suggestion_id: int) -> Suggestion | None:
        query = sa.select(card_suggestions).where(card_suggestions.c.id == suggestion_id)
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return suggestion_row(row) if row is not None else None

    async def decide_suggestion(
        self,
        suggestion_id: int,
        status: SuggestionStatus,
        decided_by: str,
        now: datetime,
        deck_id: str | None = None,
    ) -> bool:
        """Approve or reject a pending suggestion, once: False when it was decided already. `deck_id`: the
        deck the admin put the card into (it may differ from the one the member asked for)."""
        values: dict[str, Any] = {"status": status.value, "decided_by": decided_by, "decided_at": now}
        if deck_id is not None:
            values["deck_id"] = deck_id
        async with self.db.queued_write() as conn:
            result = await conn.execute(
                sa.update(card_suggestions)
                .where(
                    card_suggestions.c.id == suggestion_id,
                    card_suggestions.c.status == SuggestionStatus.PENDING.value,
                )
                .values(**values)
            )
        return bool(result.rowcount)

    async def reopen_suggestion(self, suggestion_id: int, deck_id: str | None) -> None:
        """Pending again, for the deck the member asked for: an approval whose card could not be added."""
        async with self.db.queued_write() as conn:
            await conn.execute(
                sa.update(card_suggestions)
                .where(
                    card_suggestions.c.id == suggestion_id,
                    card_suggestions.c.status == SuggestionStatus.APPROVED.value,
                )
                .values(
                    status=SuggestionStatus.PENDING.value,
                    decided_by=None,
                    decided_at=None,
                    told_at=None,
                    deck_id=deck_id,
                )
            )

    async def untold_outcomes(self, since: datetime) -> list[tuple[Suggestion, str]]:
        """Suggestions decided at or after `since` and not yet told, each with its member's user ref."""
        query = (
            sa.select(card_suggestions, members.c.user_ref.label("m_user_ref"))
            .join(members, members.c.id == card_suggestions.c.member_id)
            .where(
                card_suggestions.c.told_at.is_(None),
                card_suggestions.c.status != SuggestionStatus.PENDING.value,
                card_suggestions.c.decided_at >= since,
            )
            .order_by(card_suggestions.c.id)
        )
        async with self.db.engine.connect() as conn:
            return [(suggestion_row(row), str(row.m_user_ref)) for row in await conn.execute(query)]

    async def mark_told(self, suggestion_id: int, now: datetime) -> bool:
        """Mark one decided suggestion told; False when it was told already (by a command's reply)."""
        async with self.db.queued_write() as conn:
            result = await conn.execute(
                sa.update(card_suggestions)
                .where(card_suggestions.c.id == suggestion_id, card_suggestions.c.told_at.is_(None))
                .values(told_at=now)
            )
        return bool(result.rowcount)

    async def unmark_told(self, suggestion_id: int) -> None:
        """Untold again: the direct message did not go, so the member's next command tells them."""
        async with self.db.queued_write() as conn:
            await conn.execute(
                sa.update(card_suggestions).where(card_suggestions.c.id == suggestion_id).values(told_at=None)
            )

    async def take_outcomes(self, workspace_id: str, user_ref: str, now: datetime) -> list[Suggestion]:
        """The member's decided suggestions not yet told, marked told (a read alone when there are none)."""
        member = (
            sa.select(members.c.id)
            .where(members.c.workspace_id == workspace_id, members.c.user_ref == user_ref)
            .scalar_subquery()
        )
        untold = sa.and_(
            card_suggestions.c.member_id == member,
            card_suggestions.c.told_at.is_(None),
            card_suggestions.c.status != SuggestionStatus.PENDING.value,
        )
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(sa.select(card_suggestions).where(untold))).all()
        if not rows:
            return []
        ids = [r.id for r in rows]
        async with self.db.queued_write() as conn:
            result = await conn.execute(
                sa.update(card_suggestions)
                .where(card_suggestions.c.id.in_(ids), card_suggestions.c.told_at.is_(None))
                .values(told_at=now)
                .returning(card_suggestions.c.id)
            )
            told = set(result.scalars())
        return sorted((suggestion_row(r) for r in rows if r.id in told), key=lambda s: s.id)


async def _upsert_cards(
    db: Db, conn: AsyncConnection, deck_id: str, new_cards: Sequence[Card], first_position: int
) -> None:
    """Insert or update the cards by (deck, key), active, in two batched statements: the main cards, then
    the follow-ups pointing at their parents' ids (a deck of 5,000 cards is a few round trips, not 10,000)."""
    # Main cards first (their positions first too), so follow-ups can point at their parent's id.
    ordered = sorted(new_cards, key=lambda c: c.kind is CardKind.FOLLOWUP)
    rows = [
        {
            "deck_id": deck_id,
            "card_key": card.key,
            "number": card.number,
            "kind": card.kind.value,
            "parent_key": card.parent_key,
            "question": card.question,
            "answer": card.answer,
            "key_terms": list(card.key_terms),
            "position": position,
            "active": True,
        }
        for position, card in enumerate(ordered, start=first_position)
    ]
    mains = [r for r in rows if r["parent_key"] is None]
    followups = [r for r in rows if r["parent_key"] is not None]
    if mains:
        await conn.execute(_upsert_statement(db), [_values(r, None) for r in mains])
    if followups:
        parents = {
            r.card_key: r.id
            for r in await conn.execute(
                sa.select(cards.c.card_key, cards.c.id).where(
                    cards.c.deck_id == deck_id, cards.c.kind == CardKind.MAIN.value
                )
            )
        }
        await conn.execute(
            _upsert_statement(db), [_values(r, parents.get(r["parent_key"])) for r in followups]
        )


def _values(row: dict[str, Any], parent_id: int | None) -> dict[str, Any]:
    return {**{k: v for k, v in row.items() if k != "parent_key"}, "parent_id": parent_id}


_CARD_VALUES = ("number", "kind", "parent_id", "question", "answer", "key_terms", "position", "active")


def _upsert_statement(db: Db) -> Any:
    stmt = db.upsert(cards).values(
        {name: sa.bindparam(name) for name in ("deck_id", "card_key", *_CARD_VALUES)}
    )
    return stmt.on_conflict_do_update(
        index_elements=["deck_id", "card_key"], set_={name: stmt.excluded[name] for name in _CARD_VALUES}
    )

"""What the /stats picture reads: a member's grade times over the calendar's weeks, their cards by state."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from bot.store.db import Db
from bot.store.tables import asks, card_states, cards, decks, members

LEARNING_STATES = (1, 3)  # fsrs State.Learning, State.Relearning
REVIEW_STATE = 2  # fsrs State.Review


class SqlPictureData:
    def __init__(self, db: Db) -> None:
        self.db = db

    async def graded_times(self, member_id: int, since: datetime) -> list[datetime]:
        query = sa.select(asks.c.graded_at).where(
            asks.c.member_id == member_id, asks.c.graded_at >= since, asks.c.grade.is_not(None)
        )
        async with self.db.engine.connect() as conn:
            return [moment for moment in (await conn.execute(query)).scalars() if moment is not None]

    async def cards_by_state(self, member_id: int) -> tuple[int, int, int]:
        """(new, learning, review): new = active cards of active decks the member has no state for."""
        workspace = sa.select(members.c.workspace_id).where(members.c.id == member_id).scalar_subquery()
        served = sa.and_(
            cards.c.active.is_(True),
            decks.c.active.is_(True),
            sa.or_(decks.c.workspace_id.is_(None), decks.c.workspace_id == workspace),
        )
        total = (
            sa.select(sa.func.count())
            .select_from(cards.join(decks, decks.c.id == cards.c.deck_id))
            .where(served)
        )
        states = (
            sa.select(card_states.c.state, sa.func.count())
            .join(cards, cards.c.id == card_states.c.card_id)
            .join(decks, decks.c.id == cards.c.deck_id)
            .where(card_states.c.member_id == member_id, served)
            .group_by(card_states.c.state)
        )
        async with self.db.engine.connect() as conn:
            all_cards = int((await conn.execute(total)).scalar_one())
            by_state = {int(s): int(n) for s, n in await conn.execute(states)}
        learning = sum(by_state.get(s, 0) for s in LEARNING_STATES)
        review = by_state.get(REVIEW_STATE, 0)
        return max(0, all_cards - sum(by_state.values())), learning, review

"""The Store port over SQLAlchemy Core: one object per area over one engine, composed here. The same
statements run on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.model.models import Deck, DeckProblem
from bot.store.asks import SqlAsks
from bot.store.boards import SqlBoards
from bot.store.daily import SqlDaily
from bot.store.daily_claims import SqlDailyClaims
from bot.store.db import Db
from bot.store.decks import SqlDecks
from bot.store.grading import SqlGrading
from bot.store.members import SqlMembers
from bot.store.teams import SqlTeams


class SqlStore:
    """Every role of the Store port (bot/core/ports.py), each method delegated to its area's object, so
    callers need not know the areas. A service typed with one role gets this whole store (or its metrics
    wrapper), which satisfies every role. It owns the engine: close() disposes of it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._db = db = Db(engine)
        self._members = SqlMembers(db)
        self._decks = SqlDecks(db)
        self._asks = SqlAsks(db)
        self._grading = SqlGrading(db)
        self._boards = SqlBoards(db)
        self._teams = SqlTeams(db)
        self._daily = SqlDaily(db)
        self._daily_claims = SqlDailyClaims(db)

        # MemberStore
        self.ensure_workspace = self._members.ensure_workspace
        self.ensure_member = self._members.ensure_member
        self.get_member = self._members.get_member
        # DeckStore
        self.deck_ids = self._decks.deck_ids
        self.pick_due_card = self._decks.pick_due_card
        self.pick_new_card = self._decks.pick_new_card
        self.next_due = self._decks.next_due
        self.followup_of = self._decks.followup_of
        self.deck_progress = self._decks.deck_progress
        # AskStore
        self.create_ask = self._asks.create_ask
        self.find_open_ask = self._asks.find_open_ask
        self.get_ask = self._asks.get_ask
        self.set_typed_answer = self._asks.set_typed_answer
        self.skip_ask = self._asks.skip_ask
        self.get_card_state = self._asks.get_card_state
        self.grade_context = self._asks.grade_context
        self.record_grade = self._grading.record_grade
        # BoardStore
        self.member_stats = self._boards.member_stats
        self.leaderboard = self._boards.leaderboard
        self.member_rank = self._boards.member_rank
        self.team_standings = self._boards.team_standings
        # TeamStore
        self.join_team = self._teams.join_team
        self.leave_team = self._teams.leave_team
        self.team_name = self._teams.team_name
        self.team_sizes = self._teams.team_sizes
        # DailyPostStore
        self.save_daily_channel = self._daily.save_daily_channel
        self.get_daily_channel = self._daily.get_daily_channel
        self.get_daily_channel_by_id = self._daily.get_daily_channel_by_id
        self.list_daily_channels = self._daily.list_daily_channels
        self.disable_daily_channel = self._daily.disable_daily_channel
        self.pause_daily_channel = self._daily.pause_daily_channel
        self.get_daily_post = self._daily.get_daily_post
        self.get_daily_post_for = self._daily.get_daily_post_for
        self.daily_posts_on = self._daily.daily_posts_on
        self.previous_daily_results = self._daily.previous_daily_results
        self.find_daily_ask = self._daily.find_daily_ask
        self.claim_daily_posts = self._daily_claims.claim_daily_posts
        self.renew_daily_claims = self._daily_claims.renew_daily_claims
        self.mark_daily_posted = self._daily_claims.mark_daily_posted
        self.record_daily_failure = self._daily_claims.record_daily_failure

    async def open(self) -> None:
        """Start what runs beside the store (on SQLite: the grade lane and its WAL checkpointer)."""
        await self._db.open()

    async def close(self) -> None:
        await self._db.close()
        await self.engine.dispose()

    async def sync_decks(self, deck_list: Sequence[Deck], now: datetime) -> list[DeckProblem]:
        # The daily claims cache each deck's askable cards; a load may retire some of them.
        try:
            return await self._decks.sync_decks(deck_list, now)
        finally:
            self._daily_claims.forget_cards()

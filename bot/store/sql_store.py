"""The Store port over SQLAlchemy Core: one object per area over one engine, composed here. The same
statements run on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.model.models import Card, Deck, DeckChange, DeckProblem
from bot.store.asks import SqlAsks
from bot.store.boards import SqlBoards
from bot.store.daily import SqlDaily
from bot.store.daily_claims import SqlDailyClaims
from bot.store.db import Db
from bot.store.decks import SqlDecks
from bot.store.grading import SqlGrading
from bot.store.members import SqlMembers
from bot.store.outreach import SqlOutreach
from bot.store.picture_data import SqlPictureData
from bot.store.teams import SqlTeams
from bot.store.workspace_decks import SqlWorkspaceDecks


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
        self._outreach = SqlOutreach(db)
        self._pictures = SqlPictureData(db)
        self._workspace_decks = SqlWorkspaceDecks(db)

        # MemberStore
        self.ensure_workspace = self._members.ensure_workspace
        self.ensure_member = self._members.ensure_member
        self.ensure_caller = self._members.ensure_caller
        self.get_member = self._members.get_member
        # SettingsStore
        self.choose_timezone = self._members.choose_timezone
        self.set_reminders = self._members.set_reminders
        self.pause_reminders = self._members.pause_reminders
        # PictureStore
        self.graded_times = self._pictures.graded_times
        self.cards_by_state = self._pictures.cards_by_state
        # OutreachStore
        self.reminder_members = self._outreach.reminder_members
        self.outreach_done = self._outreach.outreach_done
        self.claim_outreach = self._outreach.claim_outreach
        self.renew_outreach_claims = self._outreach.renew_outreach_claims
        self.mark_outreach_sent = self._outreach.mark_outreach_sent
        self.record_outreach_failure = self._outreach.record_outreach_failure
        self.due_counts = self._outreach.due_counts
        self.week_activity = self._outreach.week_activity
        self.streak_leaders = self._outreach.streak_leaders
        self.set_daily_digest = self._outreach.set_daily_digest
        # DeckStore
        self.deck_ids = self._decks.deck_ids
        self.pick_due_card = self._decks.pick_due_card
        self.pick_new_card = self._decks.pick_new_card
        self.next_due = self._decks.next_due
        self.followup_of = self._decks.followup_of
        self.card_by_id = self._decks.card_by_id
        self.deck_progress = self._decks.deck_progress
        # WorkspaceDeckStore
        self.deck_infos = self._workspace_decks.deck_infos
        self.deck_cards = self._workspace_decks.deck_cards
        self.suggest_card = self._workspace_decks.suggest_card
        self.pending_suggestions = self._workspace_decks.pending_suggestions
        self.get_suggestion = self._workspace_decks.get_suggestion
        self.decide_suggestion = self._workspace_decks.decide_suggestion
        self.reopen_suggestion = self._workspace_decks.reopen_suggestion
        self.take_outcomes = self._workspace_decks.take_outcomes
        self.untold_outcomes = self._workspace_decks.untold_outcomes
        self.mark_told = self._workspace_decks.mark_told
        self.unmark_told = self._workspace_decks.unmark_told
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
        self.board = self._boards.board
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

    # Writes that change which cards a daily channel may be asked drop the claims' cache of them.

    async def save_workspace_deck(
        self, workspace_id: str, name: str, deck: Deck, added_by: str, now: datetime, decks_max: int
    ) -> DeckChange | None:
        try:
            return await self._workspace_decks.save_workspace_deck(
                workspace_id, name, deck, added_by, now, decks_max
            )
        finally:
            self._daily_claims.forget_cards()

    async def create_workspace_deck(
        self, workspace_id: str, name: str, deck: Deck, added_by: str, now: datetime, decks_max: int
    ) -> bool | None:
        try:
            return await self._workspace_decks.create_workspace_deck(
                workspace_id, name, deck, added_by, now, decks_max
            )
        finally:
            self._daily_claims.forget_cards()

    async def add_cards(self, deck_id: str, new_cards: Sequence[Card]) -> None:
        try:
            await self._workspace_decks.add_cards(deck_id, new_cards)
        finally:
            self._daily_claims.forget_cards()

    async def retire_workspace_deck(self, workspace_id: str, deck_id: str, now: datetime) -> bool:
        try:
            return await self._workspace_decks.retire_workspace_deck(workspace_id, deck_id, now)
        finally:
            self._daily_claims.forget_cards()

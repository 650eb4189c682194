"""The Store port over SQLAlchemy Core: one object per area over one engine, composed here. The same
statements run on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

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
    """Every role of the Store port (bot/core/ports.py). The areas are public, for a caller that needs only
    one role; each role's methods are also here under their own names, so callers need not know the areas.
    It owns the engine: close() disposes of it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        db = Db(engine)
        self.members = SqlMembers(db)
        self.decks = SqlDecks(db)
        self.asks = SqlAsks(db)
        self.grading = SqlGrading(db)
        self.boards = SqlBoards(db)
        self.teams = SqlTeams(db)
        self.daily = SqlDaily(db)
        self.daily_claims = SqlDailyClaims(db)

        # MemberStore
        self.ensure_workspace = self.members.ensure_workspace
        self.ensure_member = self.members.ensure_member
        self.get_member = self.members.get_member
        # DeckStore
        self.sync_decks = self.decks.sync_decks
        self.deck_ids = self.decks.deck_ids
        self.pick_due_card = self.decks.pick_due_card
        self.pick_new_card = self.decks.pick_new_card
        self.next_due = self.decks.next_due
        self.followup_of = self.decks.followup_of
        self.deck_progress = self.decks.deck_progress
        # AskStore
        self.create_ask = self.asks.create_ask
        self.find_open_ask = self.asks.find_open_ask
        self.get_ask = self.asks.get_ask
        self.set_typed_answer = self.asks.set_typed_answer
        self.skip_ask = self.asks.skip_ask
        self.get_card_state = self.asks.get_card_state
        self.grade_context = self.asks.grade_context
        self.record_grade = self.grading.record_grade
        # BoardStore
        self.member_stats = self.boards.member_stats
        self.leaderboard = self.boards.leaderboard
        self.member_rank = self.boards.member_rank
        self.team_standings = self.boards.team_standings
        # TeamStore
        self.join_team = self.teams.join_team
        self.leave_team = self.teams.leave_team
        self.team_name = self.teams.team_name
        self.team_sizes = self.teams.team_sizes
        # DailyPostStore
        self.save_daily_channel = self.daily.save_daily_channel
        self.get_daily_channel = self.daily.get_daily_channel
        self.get_daily_channel_by_id = self.daily.get_daily_channel_by_id
        self.list_daily_channels = self.daily.list_daily_channels
        self.disable_daily_channel = self.daily.disable_daily_channel
        self.pause_daily_channel = self.daily.pause_daily_channel
        self.get_daily_post = self.daily.get_daily_post
        self.get_daily_post_for = self.daily.get_daily_post_for
        self.daily_posts_on = self.daily.daily_posts_on
        self.previous_daily_results = self.daily.previous_daily_results
        self.find_daily_ask = self.daily.find_daily_ask
        self.claim_daily_posts = self.daily_claims.claim_daily_posts
        self.renew_daily_claims = self.daily_claims.renew_daily_claims
        self.mark_daily_posted = self.daily_claims.mark_daily_posted
        self.record_daily_failure = self.daily_claims.record_daily_failure

    async def close(self) -> None:
        await self.engine.dispose()

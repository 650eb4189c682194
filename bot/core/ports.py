"""What the core needs from the outside world. The store and the clock are injected into StudyService."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Protocol

from bot.core.models import (
    AskRow,
    BoardRow,
    CardState,
    Deck,
    DeckProgress,
    GradeRecord,
    MemberRow,
    MemberStats,
    Period,
    StoredCard,
    TeamRow,
)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class Store(Protocol):
    """Persistence as the core sees it. Implemented over SQLAlchemy in bot/store/."""

    async def ensure_workspace(self, workspace_id: str, platform: str) -> str | None:
        """Create the workspace if new; return its timezone (None if unset)."""
        ...

    async def ensure_member(self, workspace_id: str, user_ref: str, display_name: str) -> MemberRow: ...

    async def get_member(self, member_id: int) -> MemberRow | None: ...

    async def sync_decks(self, decks: Sequence[Deck], now: datetime) -> None:
        """Upsert decks and cards by (deck id, card key); cards no longer in a deck become inactive."""
        ...

    async def deck_ids(self) -> list[str]: ...

    async def pick_due_card(
        self, member_id: int, now: datetime, deck_id: str | None, skipped_since: datetime
    ) -> StoredCard | None:
        """The member's most overdue card, main or follow-up, leaving out cards skipped since then."""
        ...

    async def pick_new_card(
        self, member_id: int, deck_id: str | None, skipped_since: datetime
    ) -> StoredCard | None:
        """The first main card (deck order) the member has never graded nor skipped since then."""
        ...

    async def next_due(self, member_id: int, deck_id: str | None) -> datetime | None: ...

    async def followup_of(self, card_id: int) -> StoredCard | None: ...

    async def create_ask(
        self,
        member_id: int,
        card_id: int,
        source: str,
        now: datetime,
        parent_ask_id: int | None = None,
        daily_post_id: int | None = None,
    ) -> int: ...

    async def find_open_ask(self, member_id: int, card_id: int) -> int | None:
        """An ask of this card still waiting for a grade (not skipped), so asking again reuses it."""
        ...

    async def get_ask(self, ask_id: int) -> AskRow | None: ...

    async def set_typed_answer(self, ask_id: int, text: str, now: datetime) -> bool:
        """Store a typed answer while the ask is still ungraded; False otherwise."""
        ...

    async def skip_ask(self, ask_id: int, now: datetime) -> bool: ...

    async def get_card_state(self, member_id: int, card_id: int) -> CardState | None: ...

    async def record_grade(self, record: GradeRecord) -> bool:
        """Apply a grade atomically, only if the ask is still ungraded. False means nothing was written."""
        ...

    async def member_stats(self, member_id: int, now: datetime, week_start: date) -> MemberStats: ...

    async def leaderboard(
        self, workspace_id: str, period: Period, period_start: date, limit: int
    ) -> list[BoardRow]: ...

    async def member_rank(
        self, workspace_id: str, member_id: int, period: Period, period_start: date
    ) -> BoardRow | None: ...

    async def team_standings(
        self, workspace_id: str, period: Period, period_start: date
    ) -> list[TeamRow]: ...

    async def join_team(self, member_id: int, workspace_id: str, name: str, now: datetime) -> str:
        """Join (creating if needed) the team; returns the team's stored name."""
        ...

    async def leave_team(self, member_id: int) -> str | None:
        """Leave the current team; returns its name, or None if the member had none."""
        ...

    async def team_name(self, team_id: int) -> str | None: ...

    async def deck_progress(self, member_id: int, now: datetime) -> list[DeckProgress]: ...


ALL_TIME_START = date(1970, 1, 1)

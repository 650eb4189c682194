"""What the core needs from the outside world: a clock, and the store by role, each role small, so a service
can take only the roles it needs. `Store` is all of them; bot/store/sql_store.py's SqlStore implements it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Protocol

from bot.core.model.daily import ClaimResult, DailyChannel, DailyConfig, DailyPost
from bot.core.model.digest import HardCard
from bot.core.model.models import (
    AskRow,
    Board,
    BoardRow,
    Card,
    CardState,
    Deck,
    DeckChange,
    DeckInfo,
    DeckProblem,
    DeckProgress,
    Grade,
    GradeContext,
    GradeOutcome,
    GradeRecord,
    MemberRow,
    MemberStats,
    Period,
    StoredCard,
    Suggestion,
    SuggestionStatus,
    TeamRow,
    TeamSize,
)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class MemberStore(Protocol):
    """Workspaces and their members (bot/store/members.py)."""

    async def ensure_workspace(self, workspace_id: str, platform: str) -> str | None:
        """Create the workspace if new; return its timezone (None if unset)."""
        ...

    async def ensure_member(
        self, workspace_id: str, user_ref: str, display_name: str, timezone: str | None = None
    ) -> MemberRow:
        """Create the member if new; update the display name and (when given) the time zone if changed."""
        ...

    async def ensure_caller(
        self,
        workspace_id: str,
        platform: str,
        user_ref: str,
        display_name: str,
        timezone: str | None = None,
    ) -> tuple[str | None, MemberRow]:
        """ensure_workspace then ensure_member, in one read when nothing needs writing:
        (the workspace's timezone, the member)."""
        ...

    async def get_member(self, member_id: int) -> MemberRow | None: ...


class SettingsStore(MemberStore, Protocol):
    """A member's own settings: time zone and reminders (bot/store/members.py)."""

    async def choose_timezone(
        self, member_id: int, timezone: str, before: str | None, applies_from: datetime
    ) -> None:
        """The member's own zone, which a profile's no longer overrides; `before` counts until then."""
        ...

    async def set_reminders(self, member_id: int, at: str | None) -> None:
        """Reminders at local "HH:MM" (None: off); clears a pause."""
        ...

    async def pause_reminders(self, member_id: int, reason: str) -> None: ...


class OutreachStore(Protocol):
    """Reminders and weekly digests: who gets one, and their exactly-once claims (bot/store/outreach.py)."""

    async def reminder_members(self) -> list[tuple[MemberRow, str | None]]:
        """Members whose reminders are on and not paused, each with their workspace's zone."""
        ...

    async def outreach_done(self, kind: str, items: Sequence[tuple[int, date]]) -> set[tuple[int, date]]:
        """Which (target, local date) of that kind were already sent (or given up on)."""
        ...

    async def claim_outreach(
        self,
        kind: str,
        items: Sequence[tuple[int, date]],
        now: datetime,
        claimed_by: str,
        stale_before: datetime,
    ) -> list[tuple[int, str] | None]:
        """Claim each (target, local date) under its unique row, or take over an unsent claim made before
        `stale_before`; per item (row id, token) for the caller that won it, else None."""
        ...

    async def renew_outreach_claims(
        self, held: Sequence[tuple[int, str]], now: datetime, attempt: bool = False
    ) -> set[int]: ...

    async def mark_outreach_sent(
        self, sent: Sequence[tuple[int, str]], now: datetime, error: str | None = None
    ) -> None:
        """Record (row id, message ref) as done; with `error`, done unsent, never retried."""
        ...

    async def record_outreach_failure(self, row_id: int, reason: str) -> None: ...

    async def due_counts(self, member_ids: Sequence[int], now: datetime) -> dict[int, int]:
        """Cards due now per member, leaving out members with none."""
        ...

    async def week_activity(
        self, workspace_id: str, start: datetime, end: datetime, limit: int
    ) -> tuple[int, list[HardCard]]:
        """How many members graded a card in [start, end); the `limit` cards with most Again and Hard grades
        then (most first; cards with none left out)."""
        ...

    async def streak_leaders(self, workspace_id: str, limit: int) -> list[MemberRow]:
        """Members by stored streak, longest first (the core decides which still stand)."""
        ...

    async def set_daily_digest(self, channel_id: int, on: bool) -> None: ...


class DeckStore(Protocol):
    """Decks and cards: loading, picking a member's next card, progress (bot/store/decks.py)."""

    async def card_by_id(self, card_id: int, workspace_id: str) -> StoredCard | None:
        """The card, if active in an active deck the workspace may see (bundled or its own)."""
        ...

    async def sync_decks(self, decks: Sequence[Deck], now: datetime) -> list[DeckProblem]:
        """Upsert decks and cards by (deck id, card key); cards no longer in a deck become inactive.
        A deck the database refuses is left out (inactive) and comes back as a problem; the others load."""
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

    async def deck_progress(self, member_id: int, now: datetime) -> list[DeckProgress]: ...


class WorkspaceDeckStore(Protocol):
    """Workspace decks and suggested cards (bot/store/workspace_decks.py)."""

    async def deck_infos(self, workspace_id: str | None) -> list[DeckInfo]:
        """The decks served to the workspace: bundled and its own (bundled only with None), not retired."""
        ...

    async def save_workspace_deck(
        self, workspace_id: str, name: str, deck: Deck, added_by: str, now: datetime, decks_max: int
    ) -> DeckChange | None:
        """Create or update a workspace deck atomically (cards matched by key, missing ones retired);
        None, with nothing written, when the workspace would have more than `decks_max` decks."""
        ...

    async def create_workspace_deck(
        self, workspace_id: str, name: str, deck: Deck, added_by: str, now: datetime, decks_max: int
    ) -> bool | None:
        """Start a workspace deck with its cards only if it is not served already (a card's new deck, never
        a re-import): True when started, False when it is served already, None when the workspace would
        have more than `decks_max` decks; nothing is written unless True."""
        ...

    async def deck_cards(self, deck_id: str) -> Deck | None:
        """A served deck and its cards that are not retired, in deck order."""
        ...

    async def add_cards(self, deck_id: str, new_cards: Sequence[Card]) -> None: ...

    async def retire_workspace_deck(self, workspace_id: str, deck_id: str, now: datetime) -> bool: ...

    async def suggest_card(self, suggestion: Suggestion, pending_max: int) -> int | None:
        """Queue a member's card for review; None (nothing written) when `pending_max` of theirs wait."""
        ...

    async def pending_suggestions(self, workspace_id: str, limit: int) -> list[Suggestion]: ...

    async def get_suggestion(self, suggestion_id: int) -> Suggestion | None: ...

    async def decide_suggestion(
        self,
        suggestion_id: int,
        status: SuggestionStatus,
        decided_by: str,
        now: datetime,
        deck_id: str | None = None,
    ) -> bool:
        """Decide a pending suggestion once (an approved one records the deck it went into); False when
        it was decided already."""
        ...

    async def reopen_suggestion(self, suggestion_id: int, deck_id: str | None) -> None:
        """An approved suggestion pending again (its deck the member's `deck_id`): its card was refused."""
        ...

    async def untold_outcomes(self, since: datetime) -> list[tuple[Suggestion, str]]:
        """Suggestions decided since `since` and not yet told, each with its member's user ref."""
        ...

    async def mark_told(self, suggestion_id: int, now: datetime) -> bool:
        """Mark a decided suggestion told; False when it was told already."""
        ...

    async def unmark_told(self, suggestion_id: int) -> None: ...

    async def take_outcomes(self, workspace_id: str, user_ref: str, now: datetime) -> list[Suggestion]:
        """The member's decided suggestions not yet told to them, now marked told."""
        ...


class AskStore(Protocol):
    """Asks and grading: an ask's life from asked to graded, exactly once (bot/store/asks.py, grading.py)."""

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

    async def grade_context(
        self, ask_id: int, workspace_id: str, user_ref: str, now: datetime
    ) -> GradeContext | None:
        """What grading the ask needs to read, in one query; the member is looked up by (workspace_id,
        user_ref) and may be missing. None if the ask does not exist."""
        ...

    async def record_grade(self, record: GradeRecord) -> GradeOutcome | None:
        """Apply a grade atomically, only if the ask is still ungraded, and add its points to the member's
        scores and to their current team's, unless the card already earned points on the member's
        `local_day` (then the grade earns 0). None means nothing was written."""
        ...


class BoardStore(Protocol):
    """A member's stats, the leaderboard and the team standings (bot/store/boards.py)."""

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

    async def board(
        self, workspace_id: str, member_id: int, period: Period, period_start: date, limit: int
    ) -> Board:
        """leaderboard + member_rank + team_standings in one read (one statement where the database
        allows); the rank counts distinct scores, not members."""
        ...


class PictureStore(Protocol):
    """What the /stats picture reads (bot/store/picture_data.py)."""

    async def graded_times(self, member_id: int, since: datetime) -> list[datetime]:
        """When the member graded cards, since then (UTC)."""
        ...

    async def cards_by_state(self, member_id: int) -> tuple[int, int, int]:
        """(new, learning, review) among the served cards: new are those never graded."""
        ...


class TeamStore(Protocol):
    """Team membership (bot/store/teams.py); team scores are written by grading, read by boards."""

    async def join_team(self, member_id: int, workspace_id: str, name: str, now: datetime) -> str:
        """Join (creating if needed) the team; returns the team's stored name. Points already earned stay
        with the team they were earned in."""
        ...

    async def leave_team(self, member_id: int) -> str | None:
        """Leave the current team; returns its name, or None if the member had none."""
        ...

    async def team_name(self, team_id: int) -> str | None: ...

    async def team_sizes(self, workspace_id: str) -> list[TeamSize]:
        """The workspace's teams that have members, largest first."""
        ...


class DailyPostStore(Protocol):
    """The question of the day: channel schedules, posts and their claims (bot/store/daily.py,
    daily_claims.py)."""

    async def save_daily_channel(self, config: DailyConfig, now: datetime) -> DailyChannel:
        """Create or update the channel's schedule, switch it on, clear any pause; schedules apply from now.
        A new deck starts a new pass through it."""
        ...

    async def get_daily_channel(self, workspace_id: str, channel_ref: str) -> DailyChannel | None: ...

    async def get_daily_channel_by_id(self, channel_id: int) -> DailyChannel | None: ...

    async def list_daily_channels(
        self, workspace_id: str | None, active_only: bool = False
    ) -> list[DailyChannel]:
        """One workspace's channels (all workspaces with None); active = switched on and not paused."""
        ...

    async def disable_daily_channel(self, channel_id: int, now: datetime) -> None: ...

    async def pause_daily_channel(
        self, channel_id: int, reason: str, post_id: int | None, now: datetime
    ) -> None:
        """Pause with a reason and, atomically, drop the unposted claim `post_id` so it is not retried."""
        ...

    async def claim_daily_posts(
        self, items: Sequence[tuple[int, date]], now: datetime, claimed_by: str, stale_before: datetime
    ) -> list[ClaimResult]:
        """Claim each (channel, local date) under its unique constraint, choosing the channel's next card, or
        take over an unposted claim made before `stale_before`. Of concurrent callers exactly one gets
        CLAIMED for a (channel, date). One result per item, in order; a channel may appear once."""
        ...

    async def renew_daily_claims(
        self, held: Sequence[tuple[int, str]], now: datetime, attempt: bool = False
    ) -> set[int]:
        """Refresh the unposted claims (post id, claim token) still ours; returns their ids. A takeover
        gives a claim a new token, so the old holder's renewal fails. `attempt` counts one more try."""
        ...

    async def mark_daily_posted(self, posts: Sequence[tuple[int, str, str | None]], now: datetime) -> None:
        """Record (post id, message ref, thread ref) of posts that went out, in one transaction."""
        ...

    async def record_daily_failure(self, post_id: int, reason: str) -> None: ...

    async def get_daily_post(self, post_id: int) -> DailyPost | None: ...

    async def get_daily_post_for(self, channel_id: int, local_date: date) -> DailyPost | None: ...

    async def daily_posts_on(self, local_dates: set[date]) -> dict[tuple[int, date], DailyPost]: ...

    async def previous_daily_results(
        self, channel_ids: Sequence[int], before: date
    ) -> dict[int, tuple[date, dict[Grade, int]]]:
        """Per channel, its latest posted question before that local date: the date, and how many members
        graded it by their (first) grade."""
        ...

    async def find_daily_ask(self, member_id: int, post_id: int) -> int | None:
        """The member's latest ask from this daily post, graded or not."""
        ...


class Closeable(Protocol):
    """What owns resources (the database's connections): closed once, at shutdown, by whoever built it."""

    async def close(self) -> None: ...


class DailyStore(DailyPostStore, MemberStore, AskStore, Protocol):
    """What DailyService takes today: the daily role, plus ensure_workspace (members), create_ask (asks)."""


class Store(
    SettingsStore,
    OutreachStore,
    PictureStore,
    DeckStore,
    WorkspaceDeckStore,
    AskStore,
    BoardStore,
    TeamStore,
    DailyPostStore,
    Closeable,
    Protocol,
):
    """Persistence as the core sees it: every role, and close(). Implemented over SQLAlchemy in bot/store/."""


# What each service is given: only the roles it uses (bot/core/services/).
class StudyStore(MemberStore, DeckStore, WorkspaceDeckStore, AskStore, Protocol): ...


class ProgressStore(MemberStore, BoardStore, TeamStore, PictureStore, Protocol): ...


class TeamsStore(MemberStore, TeamStore, Protocol): ...


class DecksStore(MemberStore, DeckStore, WorkspaceDeckStore, Protocol): ...


class DailyAdminStore(
    DailyPostStore, MemberStore, DeckStore, WorkspaceDeckStore, OutreachStore, Protocol
): ...

"""Plain data the core works with. No chat library and no database types here."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime

from bot.core.model.typed_text import DISPLAY_NAME_LIMIT, storable


class Grade(enum.IntEnum):
    """Self-grades, Anki style; the values are fsrs' Rating values."""

    AGAIN = 1
    HARD = 2
    GOOD = 3
    EASY = 4

    @property
    def label(self) -> str:
        return self.name.capitalize()

    @classmethod
    def parse(cls, text: str) -> Grade | None:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            return None


class CardKind(enum.StrEnum):
    MAIN = "main"
    FOLLOWUP = "followup"


class Period(enum.StrEnum):
    WEEK = "week"
    MONTH = "month"
    ALL = "all"


# The period start under which all-time scores are kept.
ALL_TIME_START = date(1970, 1, 1)


@dataclass(frozen=True)
class Card:
    """One question of a deck. `key` is its identity inside the deck (question number or explicit id)."""

    key: str
    number: int
    kind: CardKind
    question: str
    answer: str
    key_terms: tuple[str, ...]
    line: int
    parent_key: str | None = None


@dataclass(frozen=True)
class Deck:
    id: str
    title: str
    cards: tuple[Card, ...]
    credit: str = ""
    source: str = ""

    @property
    def main_cards(self) -> tuple[Card, ...]:
        return tuple(c for c in self.cards if c.kind is CardKind.MAIN)

    @property
    def followup_cards(self) -> tuple[Card, ...]:
        return tuple(c for c in self.cards if c.kind is CardKind.FOLLOWUP)


@dataclass(frozen=True)
class DeckProblem:
    """A reason a deck file is refused, reported as `file:line: message`."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


# The workspace_ref of callers outside any workspace: a Discord DM (bot/adapters/discord/replies.py).
DM_PREFIX = "dm-"


@dataclass(frozen=True)
class Caller:
    """Who is acting, as the adapter saw it. A workspace: a Discord server, a Slack workspace, a terminal."""

    platform: str
    workspace_ref: str
    user_ref: str
    display_name: str = ""
    is_admin: bool = False
    channel_ref: str | None = None
    timezone: str | None = None

    def __post_init__(self) -> None:
        # A display name is shown, never typed into the bot: make it storable rather than refuse it.
        name = storable(self.display_name)[:DISPLAY_NAME_LIMIT]
        if name != self.display_name:
            object.__setattr__(self, "display_name", name)

    @property
    def workspace_id(self) -> str:
        return f"{self.platform}:{self.workspace_ref}"

    @property
    def in_dm(self) -> bool:
        """A Discord direct message: a workspace of one (`dm-<user>`) with no admins and no server decks."""
        return self.workspace_ref.startswith(DM_PREFIX)


@dataclass(frozen=True)
class Streak:
    """A member's study streak as stored: the current and best run of study days, and the last such day."""

    current: int
    best: int
    last_day: date | None
    # Streak freezes held (one earned per 7 days in a row, at most 2) and missed days they saved so far.
    freezes: int = 0
    saved: int = 0


@dataclass(frozen=True)
class MemberRow:
    id: int
    workspace_id: str
    user_ref: str
    display_name: str
    timezone: str | None
    team_id: int | None
    streak_current: int
    streak_best: int
    last_study_day: date | None
    # /settings: a zone the member chose (a platform profile's zone no longer overrides it), the zone that
    # counted before and when the chosen one starts counting; reminders at "HH:MM" (None: off) and why they
    # were paused; streak freezes held and the missed days they saved.
    timezone_chosen: bool = False
    timezone_before: str | None = None
    timezone_from: datetime | None = None
    reminder_time: str | None = None
    reminders_paused: str | None = None
    streak_freezes: int = 0
    streak_saved: int = 0

    @property
    def streak(self) -> Streak:
        return Streak(
            self.streak_current, self.streak_best, self.last_study_day, self.streak_freezes, self.streak_saved
        )


@dataclass(frozen=True)
class StoredCard:
    """A card as the database holds it: its numeric id plus the deck data."""

    id: int
    deck_id: str
    key: str
    number: int
    kind: CardKind
    question: str
    answer: str
    key_terms: tuple[str, ...]
    parent_id: int | None


@dataclass(frozen=True)
class CardState:
    """A member's FSRS memory state for one card (mirrors fsrs.Card)."""

    state: int
    step: int | None
    stability: float | None
    difficulty: float | None
    due: datetime
    last_review: datetime | None
    reps: int = 0
    lapses: int = 0


@dataclass(frozen=True)
class AskRow:
    id: int
    member_id: int
    workspace_id: str
    card: StoredCard
    source: str
    created_at: datetime
    typed_answer: str | None
    grade: Grade | None
    graded_at: datetime | None
    skipped: bool
    parent_ask_id: int | None
    daily_post_id: int | None = None


@dataclass(frozen=True)
class GradeOutcome:
    """What a recorded grade gave: the member's streak after it, and the points it earned (0 when the
    card had already earned points that day)."""

    streak: int
    points: int


@dataclass(frozen=True)
class GradeRecord:
    """Everything one grade writes, applied atomically by the store, only while the ask is ungraded."""

    ask_id: int
    member_id: int
    workspace_id: str
    card_id: int
    grade: Grade
    points: int
    graded_at: datetime
    new_state: CardState
    local_day: date
    week_start: date
    month_start: date
    # The member's streak as the grade read it: the store extends it by bot/core/streaks.py's rule and
    # writes the result only if the row still holds it (else it reads the row again, locked, and re-decides).
    streak_seen: Streak


@dataclass(frozen=True)
class GradeContext:
    """Everything a grade reads, in one store call: the ask with its card, the workspace's timezone, the
    caller's member row (None if they have none yet), their state of the card, and the card's active
    follow-up (None if it has none) with their state of that."""

    ask: AskRow
    workspace_tz: str | None
    member: MemberRow | None
    state: CardState | None
    followup: StoredCard | None
    followup_state: CardState | None


@dataclass(frozen=True)
class BoardRow:
    rank: int
    member_id: int
    display_name: str
    points: int
    streak_current: int
    last_study_day: date | None
    streak_freezes: int = 0  # so the board's streaks survive missed days as /stats does


@dataclass(frozen=True)
class TeamRow:
    rank: int
    team_id: int
    name: str
    points: int
    active_members: int

    @property
    def per_member(self) -> float:
        return self.points / self.active_members if self.active_members else 0.0


@dataclass(frozen=True)
class Board:
    """One /leaderboard read: the top rows, the caller's own row (None without points on the board) and the
    team standings, as one store call."""

    top: list[BoardRow]
    mine: BoardRow | None
    teams: list[TeamRow]


@dataclass(frozen=True)
class TeamSize:
    team_id: int
    name: str
    members: int


@dataclass(frozen=True)
class MemberStats:
    cards_learned: int
    cards_due: int
    grade_counts: dict[Grade, int] = field(default_factory=dict)
    points_week: int = 0
    points_all: int = 0


@dataclass(frozen=True)
class DeckProgress:
    deck_id: str
    title: str
    main_cards: int
    followup_cards: int
    learned: int
    due: int
    added_by: str | None = None  # a workspace deck's: who added it (None for a bundled deck)


@dataclass(frozen=True)
class DeckInfo:
    """A deck a workspace may study: bundled (workspace_id None) or its own. `name` is what members type."""

    id: str
    name: str
    title: str
    workspace_id: str | None
    added_by: str | None
    added_at: datetime | None


@dataclass(frozen=True)
class DeckChange:
    """What saving an imported deck changed, in questions (main cards): new, kept (same identity), retired,
    and brought back."""

    created: bool
    added: int
    kept: int
    retired: int
    restored: int


class SuggestionStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Suggestion:
    """A card a member suggested for a workspace deck, and what an admin decided."""

    id: int
    workspace_id: str
    member_id: int
    suggester: str
    deck_id: str | None
    question: str
    answer: str
    followup_question: str
    followup_answer: str
    status: SuggestionStatus
    created_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None

"""An in-memory Store: the same methods as bot/store's SqlStore, the same rules, no database.

The rules follow the SQL in bot/store/ (read it when one seems subtle); the integration tests check that
the two agree (tests/integration/test_memory_store_agrees.py). Every method yields to the event loop once
before it reads anything and never again, so concurrent callers interleave between calls, as they do on
a real database, while each call stays atomic, as the store's transactions are: a grade clicked five times
at once still goes through the exactly-once guard. Its state is plain attributes, so tests can look
inside as they would with SQL."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import inspect
import secrets
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from bot.core.decks.limits import CARD_KEY_MAX, DECK_ID_MAX, NUMBER_MAX, SOURCE_MAX, TITLE_MAX
from bot.core.model.card_order import pick_card
from bot.core.model.daily import (
    ClaimResult,
    ClaimStatus,
    DailyChannel,
    DailyClaim,
    DailyConfig,
    DailyPost,
)
from bot.core.model.digest import HardCard
from bot.core.model.models import (
    ALL_TIME_START,
    AskRow,
    Board,
    BoardRow,
    Card,
    CardKind,
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
from bot.core.model.streaks import extend_streak

NAME_MAX = 100  # members.display_name
ZONE_MAX = 64  # members.timezone
REF_MAX = 200  # daily_posts.message_ref, thread_ref


@dataclass
class _Workspace:
    platform: str
    timezone: str | None = None


@dataclass
class _Deck:
    title: str
    credit: str
    source: str
    active: bool
    workspace_id: str | None = None
    name: str | None = None
    added_by: str | None = None
    added_at: datetime | None = None


@dataclass
class _Card:
    card: StoredCard
    position: int
    active: bool


@dataclass
class _Ask:
    id: int
    member_id: int
    workspace_id: str
    card_id: int
    source: str
    created_at: datetime
    parent_ask_id: int | None
    daily_post_id: int | None
    typed_answer: str | None = None
    answered_at: datetime | None = None
    skipped_at: datetime | None = None
    grade: Grade | None = None
    graded_at: datetime | None = None
    points: int = 0


@dataclass
class _Team:
    id: int
    workspace_id: str
    name: str
    name_key: str


@dataclass
class _Score:
    workspace_id: str
    points: int = 0
    reviews: int = 0


@dataclass
class _TeamScore:
    workspace_id: str
    points: int = 0
    active: int = 0


class _DeckRefused(Exception):
    pass


_Method = TypeVar("_Method", bound=Callable[..., Coroutine[Any, Any, Any]])


def _one_turn(method: _Method) -> _Method:
    @functools.wraps(method)
    async def call(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0)  # let the other callers run, as a round trip to the database would
        return await method(*args, **kwargs)

    return call  # type: ignore[return-value]


def _atomic_calls(cls: type) -> type:
    for name, method in list(vars(cls).items()):
        if not name.startswith("_") and inspect.iscoroutinefunction(method):
            setattr(cls, name, _one_turn(method))
    return cls


@dataclass
class _Outreach:
    kind: str
    target_id: int
    local_date: date
    claimed_at: datetime
    claimed_by: str
    claim_token: str
    sent_at: datetime | None = None
    message_ref: str | None = None
    attempts: int = 0
    last_error: str | None = None


@_atomic_calls
class MemoryStore:
    """Every public method of SqlStore (the Store port), over dicts."""

    def __init__(self) -> None:
        self.workspaces: dict[str, _Workspace] = {}
        self.members: dict[int, MemberRow] = {}
        self.decks: dict[str, _Deck] = {}
        self.cards: dict[int, _Card] = {}
        self.card_states: dict[tuple[int, int], CardState] = {}
        self.asks: dict[int, _Ask] = {}
        # (member, card, local day) → the ask that earned the card's points that day
        self.card_points: dict[tuple[int, int, date], int] = {}
        self.scores: dict[tuple[int, Period, date], _Score] = {}
        self.teams: dict[int, _Team] = {}
        self.team_member_scores: dict[tuple[int, int, Period, date], int] = {}
        self.team_scores: dict[tuple[int, Period, date], _TeamScore] = {}
        self.daily_channels: dict[int, DailyChannel] = {}
        self.daily_posts: dict[int, DailyPost] = {}
        self.outreach: dict[int, _Outreach] = {}
        # suggestion id → (the suggestion, when its member was told the outcome)
        self.suggestions: dict[int, tuple[Suggestion, datetime | None]] = {}
        self._ids: dict[str, int] = {}
        self.closed = False

    def _next_id(self, table: str) -> int:
        self._ids[table] = self._ids.get(table, 0) + 1
        return self._ids[table]

    async def open(self) -> None:
        """Nothing runs beside a memory store (the SQL store starts its SQLite grade lane here)."""

    async def close(self) -> None:
        self.closed = True

    # -- workspaces and members ---------------------------------------------------------------

    async def ensure_workspace(self, workspace_id: str, platform: str) -> str | None:
        workspace = self.workspaces.setdefault(workspace_id, _Workspace(platform))
        return workspace.timezone or None

    async def ensure_caller(
        self,
        workspace_id: str,
        platform: str,
        user_ref: str,
        display_name: str,
        timezone: str | None = None,
    ) -> tuple[str | None, MemberRow]:
        workspace_tz = await self.ensure_workspace(workspace_id, platform)
        return workspace_tz, await self.ensure_member(workspace_id, user_ref, display_name, timezone)

    async def ensure_member(
        self, workspace_id: str, user_ref: str, display_name: str, timezone: str | None = None
    ) -> MemberRow:
        row = self._member_by_ref(workspace_id, user_ref)
        if row is None:
            row = MemberRow(
                id=self._next_id("members"),
                workspace_id=workspace_id,
                user_ref=user_ref,
                display_name=display_name[:NAME_MAX],
                timezone=timezone[:ZONE_MAX] if timezone else None,
                team_id=None,
                streak_current=0,
                streak_best=0,
                last_study_day=None,
            )
        else:
            if display_name:
                row = dataclasses.replace(row, display_name=display_name[:NAME_MAX])
            if timezone and not row.timezone_chosen:
                row = dataclasses.replace(row, timezone=timezone[:ZONE_MAX])
        self.members[row.id] = row
        return row

    async def choose_timezone(
        self, member_id: int, timezone: str, before: str | None, applies_from: datetime
    ) -> None:
        self.members[member_id] = dataclasses.replace(
            self.members[member_id],
            timezone=timezone[:ZONE_MAX],
            timezone_chosen=True,
            timezone_before=before[:ZONE_MAX] if before else None,
            timezone_from=applies_from,
        )

    async def set_reminders(self, member_id: int, at: str | None) -> None:
        self.members[member_id] = dataclasses.replace(
            self.members[member_id], reminder_time=at, reminders_paused=None
        )

    async def pause_reminders(self, member_id: int, reason: str) -> None:
        self.members[member_id] = dataclasses.replace(self.members[member_id], reminders_paused=reason[:500])

    def _member_by_ref(self, workspace_id: str, user_ref: str) -> MemberRow | None:
        for row in self.members.values():
            if row.workspace_id == workspace_id and row.user_ref == user_ref:
                return row
        return None

    async def get_member(self, member_id: int) -> MemberRow | None:
        return self.members.get(member_id)

    # -- reminders and digests ------------------------------------------------------------------

    async def reminder_members(self) -> list[tuple[MemberRow, str | None]]:
        return [
            (m, self.workspaces[m.workspace_id].timezone or None)
            for m in self.members.values()
            if m.reminder_time is not None and m.reminders_paused is None
        ]

    async def outreach_done(self, kind: str, items: Sequence[tuple[int, date]]) -> set[tuple[int, date]]:
        sent = {(o.target_id, o.local_date) for o in self.outreach.values() if o.kind == kind and o.sent_at}
        return sent & set(items)

    async def claim_outreach(
        self,
        kind: str,
        items: Sequence[tuple[int, date]],
        now: datetime,
        claimed_by: str,
        stale_before: datetime,
    ) -> list[tuple[int, str] | None]:
        results: list[tuple[int, str] | None] = []
        for target, day in items:
            found = next(
                (
                    (row_id, o)
                    for row_id, o in self.outreach.items()
                    if (o.kind, o.target_id, o.local_date) == (kind, target, day)
                ),
                None,
            )
            token = secrets.token_hex(8)
            if found is None:
                row_id = self._next_id("outreach")
                self.outreach[row_id] = _Outreach(kind, target, day, now, claimed_by, token)
                results.append((row_id, token))
            elif found[1].sent_at is None and found[1].claimed_at < stale_before:
                found[1].claimed_at, found[1].claimed_by, found[1].claim_token = now, claimed_by, token
                results.append((found[0], token))
            else:
                results.append(None)
        return results

    async def renew_outreach_claims(
        self, held: Sequence[tuple[int, str]], now: datetime, attempt: bool = False
    ) -> set[int]:
        kept: set[int] = set()
        for row_id, token in held:
            row = self.outreach.get(row_id)
            if row is not None and row.claim_token == token and row.sent_at is None:
                row.claimed_at = now
                row.attempts += 1 if attempt else 0
                kept.add(row_id)
        return kept

    async def mark_outreach_sent(
        self, sent: Sequence[tuple[int, str]], now: datetime, error: str | None = None
    ) -> None:
        for row_id, ref in sent:
            row = self.outreach[row_id]
            if row.sent_at is None:
                row.sent_at, row.message_ref, row.last_error = now, ref[:200], error

    async def record_outreach_failure(self, row_id: int, reason: str) -> None:
        self.outreach[row_id].last_error = reason

    async def due_counts(self, member_ids: Sequence[int], now: datetime) -> dict[int, int]:
        wanted = set(member_ids)
        counts: dict[int, int] = {}
        for (member_id, card_id), state in self.card_states.items():
            if member_id in wanted and state.due <= now and self._studyable(card_id):
                counts[member_id] = counts.get(member_id, 0) + 1
        return counts

    async def graded_times(self, member_id: int, since: datetime) -> list[datetime]:
        return [
            a.graded_at
            for a in self.asks.values()
            if a.member_id == member_id
            and a.grade is not None
            and a.graded_at is not None
            and a.graded_at >= since
        ]

    async def cards_by_state(self, member_id: int) -> tuple[int, int, int]:
        workspace = self.members[member_id].workspace_id
        served = {c for c in self.cards if self._servable(c, None, workspace)}
        states = [s.state for (m, c), s in self.card_states.items() if m == member_id and c in served]
        learning = sum(1 for s in states if s in (1, 3))
        return len(served) - len(states), learning, sum(1 for s in states if s == 2)

    async def week_activity(
        self, workspace_id: str, start: datetime, end: datetime, limit: int
    ) -> tuple[int, list[HardCard]]:
        graded = [
            a
            for a in self.asks.values()
            if a.workspace_id == workspace_id
            and a.grade is not None
            and a.graded_at is not None
            and start <= a.graded_at < end
        ]
        hard: dict[int, int] = {}
        reviews: dict[int, int] = {}
        for a in graded:
            if not self._studyable(a.card_id):
                continue
            reviews[a.card_id] = reviews.get(a.card_id, 0) + 1
            if a.grade in (Grade.AGAIN, Grade.HARD):
                hard[a.card_id] = hard.get(a.card_id, 0) + 1
        order = sorted(hard, key=lambda c: (-hard[c], -reviews[c], c))[:limit]
        return len({a.member_id for a in graded}), [
            HardCard(self.cards[c].card, hard[c], reviews[c]) for c in order
        ]

    async def streak_leaders(self, workspace_id: str, limit: int) -> list[MemberRow]:
        found = [m for m in self.members.values() if m.workspace_id == workspace_id and m.streak_current > 0]
        return sorted(found, key=lambda m: (-m.streak_current, m.id))[:limit]

    async def card_by_id(self, card_id: int, workspace_id: str) -> StoredCard | None:
        if card_id not in self.cards or not self._servable(card_id, None, workspace_id):
            return None
        return self.cards[card_id].card

    async def set_daily_digest(self, channel_id: int, on: bool) -> None:
        self.daily_channels[channel_id] = dataclasses.replace(self.daily_channels[channel_id], digest=on)

    # -- decks ----------------------------------------------------------------------------------

    async def sync_decks(self, deck_list: Sequence[Deck], now: datetime) -> list[DeckProblem]:
        del now
        refused: list[DeckProblem] = []
        for stored in self.decks.values():
            if stored.workspace_id is None:
                stored.active = False
        for deck in deck_list:
            # Checked before writing anything, as a rolled-back savepoint leaves the deck as it was.
            try:
                _check_deck(deck)
            except _DeckRefused as exc:
                message = f"the database refused this deck (DataError: {exc})"
                refused.append(DeckProblem(deck.source or deck.id, 1, message))
                continue
            self._sync_deck(deck)
        return refused

    def _sync_deck(self, deck: Deck, owner: _Deck | None = None) -> None:
        self.decks[deck.id] = owner or _Deck(deck.title, deck.credit, deck.source, active=True)
        self._put_cards(deck.id, deck.cards, 0, retire=True)

    def _put_cards(self, deck_id: str, new_cards: Sequence[Card], first: int, retire: bool) -> None:
        by_key: dict[str, int] = {}
        for card_id, stored in self.cards.items():
            if stored.card.deck_id == deck_id:
                if retire:
                    stored.active = False
                by_key[stored.card.key] = card_id
        # Main cards first, so follow-ups can point at their parent's id.
        ordered = sorted(new_cards, key=lambda c: c.kind is CardKind.FOLLOWUP)
        ids: dict[str, int] = {}
        for position, card in enumerate(ordered, start=first):
            card_id = by_key.get(card.key) or self._next_id("cards")
            self.cards[card_id] = _Card(
                StoredCard(
                    id=card_id,
                    deck_id=deck_id,
                    key=card.key,
                    number=card.number,
                    kind=card.kind,
                    question=card.question,
                    answer=card.answer,
                    key_terms=tuple(card.key_terms),
                    parent_id=ids.get(card.parent_key) if card.parent_key else None,
                ),
                position,
                active=True,
            )
            ids[card.key] = card_id

    async def deck_ids(self) -> list[str]:
        return sorted(
            deck_id for deck_id, deck in self.decks.items() if deck.active and deck.workspace_id is None
        )

    # -- workspace decks and suggested cards ----------------------------------------------------

    async def deck_infos(self, workspace_id: str | None) -> list[DeckInfo]:
        found = [
            DeckInfo(deck_id, d.name or deck_id, d.title, d.workspace_id, d.added_by, d.added_at)
            for deck_id, d in self.decks.items()
            if d.active and d.workspace_id in (None, workspace_id)
        ]
        return sorted(found, key=lambda d: (d.name, d.workspace_id is None))

    async def save_workspace_deck(
        self, workspace_id: str, name: str, deck: Deck, added_by: str, now: datetime, decks_max: int
    ) -> DeckChange | None:
        existing = self.decks.get(deck.id)
        if existing is None or not existing.active:
            count = sum(1 for d in self.decks.values() if d.workspace_id == workspace_id and d.active)
            if count >= decks_max:
                return None
        before = {
            s.card.key: s.active
            for s in self.cards.values()
            if s.card.deck_id == deck.id and s.card.kind is CardKind.MAIN
        }
        owner = _Deck(deck.title, deck.credit, deck.source, True, workspace_id, name, added_by, now)
        self._sync_deck(deck, owner)
        keys = {card.key for card in deck.main_cards}
        return DeckChange(
            created=existing is None,
            added=sum(1 for k in keys if k not in before),
            kept=sum(1 for k in keys if before.get(k) is True),
            retired=sum(1 for k, active in before.items() if active and k not in keys),
            restored=sum(1 for k in keys if before.get(k) is False),
        )

    async def create_workspace_deck(
        self, workspace_id: str, name: str, deck: Deck, added_by: str, now: datetime, decks_max: int
    ) -> bool | None:
        existing = self.decks.get(deck.id)
        if existing is not None and existing.active:
            return False
        change = await self.save_workspace_deck(workspace_id, name, deck, added_by, now, decks_max)
        return None if change is None else True

    async def deck_cards(self, deck_id: str) -> Deck | None:
        stored = self.decks.get(deck_id)
        if stored is None or not stored.active:
            return None
        rows = sorted(
            (c for c in self.cards.values() if c.card.deck_id == deck_id and c.active),
            key=lambda c: (c.position, c.card.id),
        )
        keys = {c.card.id: c.card.key for c in rows}
        found = tuple(
            Card(
                key=c.card.key,
                number=c.card.number,
                kind=c.card.kind,
                question=c.card.question,
                answer=c.card.answer,
                key_terms=c.card.key_terms,
                line=0,
                parent_key=keys.get(c.card.parent_id) if c.card.parent_id is not None else None,
            )
            for c in rows
        )
        return Deck(id=deck_id, title=stored.title, cards=found, credit=stored.credit, source=stored.source)

    async def add_cards(self, deck_id: str, new_cards: Sequence[Card]) -> None:
        last = max((c.position for c in self.cards.values() if c.card.deck_id == deck_id), default=0)
        self._put_cards(deck_id, new_cards, last + 1, retire=False)

    async def retire_workspace_deck(self, workspace_id: str, deck_id: str, now: datetime) -> bool:
        deck = self.decks.get(deck_id)
        if deck is None or deck.workspace_id != workspace_id or not deck.active:
            return False
        deck.active = False
        return True

    async def suggest_card(self, suggestion: Suggestion, pending_max: int) -> int | None:
        waiting = sum(
            1
            for s, _told in self.suggestions.values()
            if s.member_id == suggestion.member_id and s.status is SuggestionStatus.PENDING
        )
        if waiting >= pending_max:
            return None
        suggestion_id = self._next_id("card_suggestions")
        stored = dataclasses.replace(
            suggestion, id=suggestion_id, status=SuggestionStatus.PENDING, decided_by=None
        )
        self.suggestions[suggestion_id] = (stored, None)
        return suggestion_id

    async def pending_suggestions(self, workspace_id: str, limit: int) -> list[Suggestion]:
        pending = [
            s
            for s, _told in self.suggestions.values()
            if s.workspace_id == workspace_id and s.status is SuggestionStatus.PENDING
        ]
        return sorted(pending, key=lambda s: s.id)[:limit]

    async def get_suggestion(self, suggestion_id: int) -> Suggestion | None:
        found = self.suggestions.get(suggestion_id)
        return found[0] if found is not None else None

    async def decide_suggestion(
        self,
        suggestion_id: int,
        status: SuggestionStatus,
        decided_by: str,
        now: datetime,
        deck_id: str | None = None,
    ) -> bool:
        found = self.suggestions.get(suggestion_id)
        if found is None or found[0].status is not SuggestionStatus.PENDING:
            return False
        decided = dataclasses.replace(found[0], status=status, decided_by=decided_by, decided_at=now)
        if deck_id is not None:
            decided = dataclasses.replace(decided, deck_id=deck_id)
        self.suggestions[suggestion_id] = (decided, None)
        return True

    async def reopen_suggestion(self, suggestion_id: int, deck_id: str | None) -> None:
        found = self.suggestions.get(suggestion_id)
        if found is not None and found[0].status is SuggestionStatus.APPROVED:
            reopened = dataclasses.replace(
                found[0], status=SuggestionStatus.PENDING, decided_by=None, decided_at=None, deck_id=deck_id
            )
            self.suggestions[suggestion_id] = (reopened, None)

    async def untold_outcomes(self, since: datetime) -> list[tuple[Suggestion, str]]:
        refs = {m.id: m.user_ref for m in self.members.values()}
        return [
            (s, refs[s.member_id])
            for s, told_at in sorted(self.suggestions.values(), key=lambda st: st[0].id)
            if told_at is None
            and s.status is not SuggestionStatus.PENDING
            and s.decided_at is not None
            and s.decided_at >= since
        ]

    async def mark_told(self, suggestion_id: int, now: datetime) -> bool:
        found = self.suggestions.get(suggestion_id)
        if found is None or found[1] is not None:
            return False
        self.suggestions[suggestion_id] = (found[0], now)
        return True

    async def unmark_told(self, suggestion_id: int) -> None:
        found = self.suggestions.get(suggestion_id)
        if found is not None:
            self.suggestions[suggestion_id] = (found[0], None)

    async def take_outcomes(self, workspace_id: str, user_ref: str, now: datetime) -> list[Suggestion]:
        member = self._member_by_ref(workspace_id, user_ref)
        if member is None:
            return []
        told = [
            s
            for s, told_at in self.suggestions.values()
            if s.member_id == member.id and told_at is None and s.status is not SuggestionStatus.PENDING
        ]
        for s in told:
            self.suggestions[s.id] = (s, now)
        return sorted(told, key=lambda s: s.id)

    # -- picking --------------------------------------------------------------------------------

    def _servable(self, card_id: int, deck_id: str | None, workspace_id: str | None = None) -> bool:
        """May be asked: active, in an active deck the workspace may see, optionally one deck."""
        stored = self.cards[card_id]
        deck = self.decks.get(stored.card.deck_id)
        return (
            stored.active
            and deck is not None
            and deck.active
            and deck.workspace_id in (None, workspace_id)
            and (deck_id is None or stored.card.deck_id == deck_id)
        )

    def _studyable(self, card_id: int) -> bool:
        """An active card of an active deck: what counts as due."""
        deck = self.decks.get(self.cards[card_id].card.deck_id)
        return self.cards[card_id].active and deck is not None and deck.active

    def _workspace_of(self, member_id: int) -> str | None:
        member = self.members.get(member_id)
        return member.workspace_id if member is not None else None

    def _recently_skipped(self, member_id: int, since: datetime) -> set[int]:
        return {
            a.card_id
            for a in self.asks.values()
            if a.member_id == member_id and a.skipped_at is not None and a.skipped_at >= since
        }

    def _states_of(self, member_id: int) -> dict[int, CardState]:
        return {card_id: state for (m, card_id), state in self.card_states.items() if m == member_id}

    async def pick_due_card(
        self, member_id: int, now: datetime, deck_id: str | None, skipped_since: datetime
    ) -> StoredCard | None:
        skipped = self._recently_skipped(member_id, skipped_since)
        due = [
            (state.due, card_id)
            for card_id, state in self._states_of(member_id).items()
            if state.due <= now
            and self._servable(card_id, deck_id, self._workspace_of(member_id))
            and card_id not in skipped
        ]
        return self.cards[min(due)[1]].card if due else None

    async def pick_new_card(
        self, member_id: int, deck_id: str | None, skipped_since: datetime
    ) -> StoredCard | None:
        seen = set(self._states_of(member_id))
        skipped = self._recently_skipped(member_id, skipped_since)
        new = [
            (stored.card.deck_id, stored.position, card_id)
            for card_id, stored in self.cards.items()
            # A follow-up is new once its main card has been graded.
            if (stored.card.kind is CardKind.MAIN or stored.card.parent_id in seen)
            and self._servable(card_id, deck_id, self._workspace_of(member_id))
            and card_id not in seen
            and card_id not in skipped
        ]
        return self.cards[min(new)[2]].card if new else None

    async def next_due(self, member_id: int, deck_id: str | None) -> datetime | None:
        dues = [
            state.due
            for card_id, state in self._states_of(member_id).items()
            if self._servable(card_id, deck_id, self._workspace_of(member_id))
        ]
        return min(dues) if dues else None

    def _followup(self, card_id: int) -> StoredCard | None:
        found = [
            stored.card
            for stored in self.cards.values()
            if stored.card.parent_id == card_id and stored.active
        ]
        return min(found, key=lambda c: c.id) if found else None

    async def followup_of(self, card_id: int) -> StoredCard | None:
        return self._followup(card_id)

    # -- asks and grading -----------------------------------------------------------------------

    async def create_ask(
        self,
        member_id: int,
        card_id: int,
        source: str,
        now: datetime,
        parent_ask_id: int | None = None,
        daily_post_id: int | None = None,
    ) -> int:
        member = self.members[member_id]  # a KeyError, as the store's scalar_one() raises
        if card_id not in self.cards:
            raise KeyError(f"no card {card_id}")  # the store's foreign key
        ask_id = self._next_id("asks")
        self.asks[ask_id] = _Ask(
            ask_id, member_id, member.workspace_id, card_id, source, now, parent_ask_id, daily_post_id
        )
        return ask_id

    async def find_open_ask(self, member_id: int, card_id: int) -> int | None:
        open_ids = [
            a.id
            for a in self.asks.values()
            if a.member_id == member_id
            and a.card_id == card_id
            and a.graded_at is None
            and a.skipped_at is None
        ]
        return max(open_ids) if open_ids else None

    def _ask_row(self, ask: _Ask) -> AskRow:
        return AskRow(
            id=ask.id,
            member_id=ask.member_id,
            workspace_id=ask.workspace_id,
            card=self.cards[ask.card_id].card,
            source=ask.source,
            created_at=ask.created_at,
            typed_answer=ask.typed_answer,
            grade=ask.grade,
            graded_at=ask.graded_at,
            skipped=ask.skipped_at is not None,
            parent_ask_id=ask.parent_ask_id,
            daily_post_id=ask.daily_post_id,
        )

    async def get_ask(self, ask_id: int) -> AskRow | None:
        ask = self.asks.get(ask_id)
        return self._ask_row(ask) if ask is not None else None

    async def grade_context(
        self, ask_id: int, workspace_id: str, user_ref: str, now: datetime
    ) -> GradeContext | None:
        del now
        ask = self.asks.get(ask_id)
        if ask is None:
            return None
        member = self._member_by_ref(workspace_id, user_ref)
        followup = self._followup(ask.card_id)
        state = followup_state = None
        if member is not None:
            state = self.card_states.get((member.id, ask.card_id))
            if followup is not None:
                followup_state = self.card_states.get((member.id, followup.id))
        return GradeContext(
            ask=self._ask_row(ask),
            workspace_tz=self.workspaces[ask.workspace_id].timezone,
            member=member,
            state=state,
            followup=followup,
            followup_state=followup_state,
        )

    async def set_typed_answer(self, ask_id: int, text: str, now: datetime) -> bool:
        ask = self.asks.get(ask_id)
        if ask is None or ask.graded_at is not None:
            return False
        ask.typed_answer, ask.answered_at, ask.skipped_at = text, now, None
        return True

    async def skip_ask(self, ask_id: int, now: datetime) -> bool:
        ask = self.asks.get(ask_id)
        if ask is None or ask.graded_at is not None or ask.skipped_at is not None:
            return False
        ask.skipped_at = now
        return True

    async def get_card_state(self, member_id: int, card_id: int) -> CardState | None:
        return self.card_states.get((member_id, card_id))

    async def record_grade(self, record: GradeRecord) -> GradeOutcome | None:
        ask = self.asks.get(record.ask_id)
        # The exactly-once guard: only a grade that finds the ask ungraded writes anything.
        if ask is None or ask.member_id != record.member_id or ask.graded_at is not None:
            return None
        ask.grade, ask.graded_at, ask.points, ask.skipped_at = (
            record.grade,
            record.graded_at,
            record.points,
            None,
        )
        if record.points > 0:
            # The card's points of the member's day are taken once.
            day_key = (record.member_id, record.card_id, record.local_day)
            if day_key in self.card_points:
                ask.points = 0
                record = dataclasses.replace(record, points=0)
            else:
                self.card_points[day_key] = record.ask_id
        self.card_states[(record.member_id, record.card_id)] = record.new_state
        for period, start in _periods(record):
            score = self.scores.setdefault((record.member_id, period, start), _Score(record.workspace_id))
            score.points += record.points
            score.reviews += 1
        member = self._extend_streak(record.member_id, record.local_day)
        if member.team_id is not None and record.points > 0:
            self._add_team_points(member.team_id, record)
        return GradeOutcome(streak=member.streak_current, points=record.points)

    def _add_team_points(self, team_id: int, record: GradeRecord) -> None:
        """To the team it was earned in; the member becomes active for the team in a period with their
        first points there, and stays so after leaving."""
        for period, start in _periods(record):
            key = (team_id, record.member_id, period, start)
            before = self.team_member_scores.get(key, 0)
            self.team_member_scores[key] = before + record.points
            total = self.team_scores.setdefault((team_id, period, start), _TeamScore(record.workspace_id))
            total.points += record.points
            if before + record.points > 0 and before <= 0:
                total.active += 1

    def _extend_streak(self, member_id: int, day: date) -> MemberRow:
        """The core's rule (bot/core/model/streaks.py), freezes and all, as the SQL store writes it."""
        member = self.members[member_id]
        after = extend_streak(member.streak, day)
        member = dataclasses.replace(
            member,
            streak_current=after.current,
            streak_best=after.best,
            last_study_day=after.last_day,
            streak_freezes=after.freezes,
            streak_saved=after.saved,
        )
        self.members[member_id] = member
        return member

    # -- stats and boards -----------------------------------------------------------------------

    async def member_stats(self, member_id: int, now: datetime, week_start: date) -> MemberStats:
        states = self._states_of(member_id)
        grade_counts: dict[Grade, int] = {}
        for ask in self.asks.values():
            if ask.member_id == member_id and ask.grade is not None:
                grade_counts[ask.grade] = grade_counts.get(ask.grade, 0) + 1
        week = self.scores.get((member_id, Period.WEEK, week_start))
        ever = self.scores.get((member_id, Period.ALL, ALL_TIME_START))
        return MemberStats(
            cards_learned=len(states),
            cards_due=sum(1 for c, s in states.items() if s.due <= now and self._studyable(c)),
            grade_counts=grade_counts,
            points_week=week.points if week else 0,
            points_all=ever.points if ever else 0,
        )

    def _board(self, workspace_id: str, period: Period, period_start: date) -> dict[int, int]:
        """Member id → points, for the workspace's scores of that period."""
        return {
            member_id: score.points
            for (member_id, p, start), score in self.scores.items()
            if p is period and start == period_start and score.workspace_id == workspace_id
        }

    def _board_row(self, rank: int, member_id: int, points: int) -> BoardRow:
        member = self.members[member_id]
        return BoardRow(
            rank=rank,
            member_id=member_id,
            display_name=member.display_name or member.user_ref,
            points=points,
            streak_current=member.streak_current,
            last_study_day=member.last_study_day,
            streak_freezes=member.streak_freezes,
        )

    async def leaderboard(
        self, workspace_id: str, period: Period, period_start: date, limit: int
    ) -> list[BoardRow]:
        scored = sorted(
            (
                (-points, member_id)
                for member_id, points in self._board(workspace_id, period, period_start).items()
                if points > 0
            )
        )[:limit]
        board: list[BoardRow] = []
        for index, (minus_points, member_id) in enumerate(scored):
            # Competition ranking: equal points share a rank.
            same = board and board[-1].points == -minus_points
            board.append(self._board_row(board[-1].rank if same else index + 1, member_id, -minus_points))
        return board

    async def member_rank(
        self, workspace_id: str, member_id: int, period: Period, period_start: date
    ) -> BoardRow | None:
        board = self._board(workspace_id, period, period_start)
        mine = board.get(member_id)
        if mine is None or mine <= 0:
            return None
        ahead = sum(1 for points in board.values() if points > mine)
        return self._board_row(ahead + 1, member_id, mine)

    async def board(
        self, workspace_id: str, member_id: int, period: Period, period_start: date, limit: int
    ) -> Board:
        return Board(
            await self.leaderboard(workspace_id, period, period_start, limit),
            await self.member_rank(workspace_id, member_id, period, period_start),
            await self.team_standings(workspace_id, period, period_start),
        )

    async def team_standings(self, workspace_id: str, period: Period, period_start: date) -> list[TeamRow]:
        # Teams with at least one member, each with its running totals for the period (none yet: zero).
        with_members = {m.team_id for m in self.members.values() if m.team_id is not None}
        unranked = []
        for team in self.teams.values():
            if team.workspace_id != workspace_id or team.id not in with_members:
                continue
            total = self.team_scores.get((team.id, period, period_start), _TeamScore(workspace_id))
            unranked.append(TeamRow(0, team.id, team.name, total.points, total.active))
        unranked.sort(key=lambda t: (-t.per_member, -t.points, t.name.lower()))
        ranked: list[TeamRow] = []
        for index, team in enumerate(unranked):
            same = ranked and ranked[-1].per_member == team.per_member
            rank = ranked[-1].rank if same else index + 1
            ranked.append(TeamRow(rank, team.team_id, team.name, team.points, team.active_members))
        return ranked

    # -- teams ----------------------------------------------------------------------------------

    async def join_team(self, member_id: int, workspace_id: str, name: str, now: datetime) -> str:
        del now
        key = name.casefold()
        team = next(
            (t for t in self.teams.values() if t.workspace_id == workspace_id and t.name_key == key), None
        )
        if team is None:
            team = _Team(self._next_id("teams"), workspace_id, name, key)
            self.teams[team.id] = team
        # Points stay with the team they were earned in; from now on they are earned for this one.
        self.members[member_id] = dataclasses.replace(self.members[member_id], team_id=team.id)
        return team.name

    async def leave_team(self, member_id: int) -> str | None:
        member = self.members.get(member_id)
        if member is None or member.team_id is None:
            return None
        self.members[member_id] = dataclasses.replace(member, team_id=None)
        return self.teams[member.team_id].name

    async def team_name(self, team_id: int) -> str | None:
        team = self.teams.get(team_id)
        return team.name if team is not None else None

    async def team_sizes(self, workspace_id: str) -> list[TeamSize]:
        counts: dict[int, int] = {}
        for member in self.members.values():
            if member.team_id is not None:
                counts[member.team_id] = counts.get(member.team_id, 0) + 1
        sizes = [
            TeamSize(team_id, self.teams[team_id].name, size)
            for team_id, size in counts.items()
            if self.teams[team_id].workspace_id == workspace_id
        ]
        return sorted(sizes, key=lambda t: (-t.members, t.name.casefold()))

    async def deck_progress(self, member_id: int, now: datetime) -> list[DeckProgress]:
        counts: dict[str, list[int]] = {}  # deck → [mains, follow-ups, learned, due]
        workspace_id = self._workspace_of(member_id)
        for stored in self.cards.values():
            deck = self.decks[stored.card.deck_id]
            if stored.active and deck.active and deck.workspace_id in (None, workspace_id):
                row = counts.setdefault(stored.card.deck_id, [0, 0, 0, 0])
                row[0 if stored.card.kind is CardKind.MAIN else 1] += 1
        mine: dict[str, list[int]] = {}
        for card_id, state in self._states_of(member_id).items():
            stored = self.cards[card_id]
            if stored.active:
                row = mine.setdefault(stored.card.deck_id, [0, 0])
                row[0] += 1
                row[1] += 1 if state.due <= now else 0
        return [
            DeckProgress(
                deck_id=deck_id,
                title=self.decks[deck_id].title,
                main_cards=row[0],
                followup_cards=row[1],
                learned=mine.get(deck_id, [0, 0])[0],
                due=mine.get(deck_id, [0, 0])[1],
                added_by=self.decks[deck_id].added_by if self.decks[deck_id].name else None,
            )
            for deck_id, row in sorted(counts.items())
        ]

    # -- the question of the day: channels ------------------------------------------------------

    async def save_daily_channel(self, config: DailyConfig, now: datetime) -> DailyChannel:
        before = self._channel_by_ref(config.workspace_id, config.channel_ref)
        values = {
            "platform": config.platform,
            "post_time": config.post_time,
            "timezone": config.timezone,
            "deck_id": config.deck_id,
            "weekdays": config.weekdays,
            "enabled": True,
            "paused_reason": None,
            "active_from": now,
        }
        if before is None:
            channel = DailyChannel(
                id=self._next_id("daily_channels"),
                workspace_id=config.workspace_id,
                channel_ref=config.channel_ref,
                order_seed=secrets.token_hex(8),
                cycle=0,
                position=0,
                **values,  # type: ignore[arg-type]
            )
        else:
            if before.deck_id != config.deck_id:
                # Another deck: a fresh pass through it.
                values |= {"cycle": before.cycle + 1, "position": 0}
            channel = dataclasses.replace(before, **values)  # type: ignore[arg-type]
        self.daily_channels[channel.id] = channel
        return channel

    def _channel_by_ref(self, workspace_id: str, channel_ref: str) -> DailyChannel | None:
        for channel in self.daily_channels.values():
            if channel.workspace_id == workspace_id and channel.channel_ref == channel_ref:
                return channel
        return None

    async def get_daily_channel(self, workspace_id: str, channel_ref: str) -> DailyChannel | None:
        return self._channel_by_ref(workspace_id, channel_ref)

    async def get_daily_channel_by_id(self, channel_id: int) -> DailyChannel | None:
        return self.daily_channels.get(channel_id)

    async def list_daily_channels(
        self, workspace_id: str | None, active_only: bool = False
    ) -> list[DailyChannel]:
        return [
            c
            for _id, c in sorted(self.daily_channels.items())
            if (workspace_id is None or c.workspace_id == workspace_id) and (not active_only or c.active)
        ]

    async def disable_daily_channel(self, channel_id: int, now: datetime) -> None:
        del now
        if channel_id in self.daily_channels:
            self.daily_channels[channel_id] = dataclasses.replace(
                self.daily_channels[channel_id], enabled=False
            )

    async def pause_daily_channel(
        self, channel_id: int, reason: str, post_id: int | None, now: datetime
    ) -> None:
        del now
        if channel_id in self.daily_channels:
            self.daily_channels[channel_id] = dataclasses.replace(
                self.daily_channels[channel_id], paused_reason=reason
            )
        post = self.daily_posts.get(post_id) if post_id is not None else None
        if post is not None and post.posted_at is None:
            del self.daily_posts[post.id]

    # -- the question of the day: claims --------------------------------------------------------

    async def claim_daily_posts(
        self, items: Sequence[tuple[int, date]], now: datetime, claimed_by: str, stale_before: datetime
    ) -> list[ClaimResult]:
        channel_ids = [channel_id for channel_id, _day in items]
        if len(set(channel_ids)) != len(channel_ids):
            raise ValueError("claim one local date per channel at a time")
        return [self._claim(channel_id, day, now, claimed_by, stale_before) for channel_id, day in items]

    def _claim(
        self, channel_id: int, day: date, now: datetime, claimed_by: str, stale_before: datetime
    ) -> ClaimResult:
        channel = self.daily_channels.get(channel_id)
        if channel is None or not channel.active:
            return ClaimResult(ClaimStatus.INACTIVE)
        existing = self._post_for(channel_id, day)
        if existing is not None:
            return self._take_over(channel, existing, now, claimed_by, stale_before)
        askable = {
            stored.card.id: stored.card
            for stored in self.cards.values()
            if stored.card.kind is CardKind.MAIN
            and self._servable(stored.card.id, channel.deck_id, channel.workspace_id)
        }
        posts = sorted(
            (p for p in self.daily_posts.values() if p.channel_id == channel_id and p.cycle == channel.cycle),
            key=lambda p: p.local_date,
        )
        used = [p.card_id for p in posts]
        picked = pick_card(
            list(askable), set(used), channel.order_seed, channel.cycle, used[-1] if used else None
        )
        if picked is None:
            return ClaimResult(ClaimStatus.NO_CARDS)
        card_id, cycle = picked
        post = DailyPost(
            id=self._next_id("daily_posts"),
            channel_id=channel_id,
            local_date=day,
            card_id=card_id,
            cycle=cycle,
            claimed_at=now,
            claimed_by=claimed_by,
            claim_token=secrets.token_hex(8),
            posted_at=None,
            message_ref=None,
            thread_ref=None,
            attempts=0,
            last_error=None,
        )
        self.daily_posts[post.id] = post
        self.daily_channels[channel_id] = dataclasses.replace(
            channel, cycle=cycle, position=len(used) + 1 if cycle == channel.cycle else 1
        )
        return ClaimResult(ClaimStatus.CLAIMED, DailyClaim(post, channel, askable[card_id]))

    def _take_over(
        self, channel: DailyChannel, post: DailyPost, now: datetime, claimed_by: str, stale_before: datetime
    ) -> ClaimResult:
        """(channel, day) already has a post: re-claim it only if it was left unposted past the timeout."""
        if post.posted_at is not None or post.claimed_at >= stale_before:
            return ClaimResult(ClaimStatus.TAKEN)
        post = dataclasses.replace(
            post, claimed_at=now, claimed_by=claimed_by, claim_token=secrets.token_hex(8)
        )
        self.daily_posts[post.id] = post
        return ClaimResult(ClaimStatus.CLAIMED, DailyClaim(post, channel, self.cards[post.card_id].card))

    async def renew_daily_claims(
        self, held: Sequence[tuple[int, str]], now: datetime, attempt: bool = False
    ) -> set[int]:
        renewed: set[int] = set()
        for post_id, token in held:
            post = self.daily_posts.get(post_id)
            if post is None or post.claim_token != token or post.posted_at is not None:
                continue
            self.daily_posts[post_id] = dataclasses.replace(
                post, claimed_at=now, attempts=post.attempts + (1 if attempt else 0)
            )
            renewed.add(post_id)
        return renewed

    async def mark_daily_posted(self, posts: Sequence[tuple[int, str, str | None]], now: datetime) -> None:
        for post_id, message_ref, thread_ref in posts:
            post = self.daily_posts.get(post_id)
            if post is None or post.posted_at is not None:
                continue
            self.daily_posts[post_id] = dataclasses.replace(
                post,
                posted_at=now,
                message_ref=message_ref[:REF_MAX],
                thread_ref=(thread_ref or None) and thread_ref[:REF_MAX],
                last_error=None,
            )

    async def record_daily_failure(self, post_id: int, reason: str) -> None:
        post = self.daily_posts.get(post_id)
        if post is not None:
            self.daily_posts[post_id] = dataclasses.replace(post, last_error=reason)

    # -- the question of the day: posts ---------------------------------------------------------

    def _post_for(self, channel_id: int, local_date: date) -> DailyPost | None:
        for post in self.daily_posts.values():
            if post.channel_id == channel_id and post.local_date == local_date:
                return post
        return None

    async def get_daily_post(self, post_id: int) -> DailyPost | None:
        return self.daily_posts.get(post_id)

    async def get_daily_post_for(self, channel_id: int, local_date: date) -> DailyPost | None:
        return self._post_for(channel_id, local_date)

    async def daily_posts_on(self, local_dates: set[date]) -> dict[tuple[int, date], DailyPost]:
        return {
            (p.channel_id, p.local_date): p for p in self.daily_posts.values() if p.local_date in local_dates
        }

    async def previous_daily_results(
        self, channel_ids: Sequence[int], before: date
    ) -> dict[int, tuple[date, dict[Grade, int]]]:
        latest: dict[int, DailyPost] = {}
        for post in self.daily_posts.values():
            if post.channel_id in channel_ids and post.local_date < before and post.posted_at is not None:
                if post.channel_id not in latest or post.local_date > latest[post.channel_id].local_date:
                    latest[post.channel_id] = post
        by_post = {post.id: channel_id for channel_id, post in latest.items()}
        results: dict[int, tuple[date, dict[Grade, int]]] = {
            channel_id: (post.local_date, {}) for channel_id, post in latest.items()
        }
        graded = sorted(
            (a for a in self.asks.values() if a.daily_post_id in by_post and a.grade is not None),
            key=lambda a: (a.graded_at, a.id),
        )
        counted: set[tuple[int, int]] = set()
        for ask in graded:
            assert ask.daily_post_id is not None and ask.grade is not None
            if (ask.daily_post_id, ask.member_id) in counted:
                continue  # a member counts once, with their first grade
            counted.add((ask.daily_post_id, ask.member_id))
            counts = results[by_post[ask.daily_post_id]][1]
            counts[ask.grade] = counts.get(ask.grade, 0) + 1
        return results

    async def find_daily_ask(self, member_id: int, post_id: int) -> int | None:
        found = [a.id for a in self.asks.values() if a.member_id == member_id and a.daily_post_id == post_id]
        return max(found) if found else None


def _periods(record: GradeRecord) -> tuple[tuple[Period, date], ...]:
    return (
        (Period.WEEK, record.week_start),
        (Period.MONTH, record.month_start),
        (Period.ALL, ALL_TIME_START),
    )


def _check_deck(deck: Deck) -> None:
    """What PostgreSQL refuses for the columns' sizes (bot/store/tables.py)."""
    if len(deck.id) > DECK_ID_MAX:
        raise _DeckRefused(f"deck id longer than {DECK_ID_MAX}")
    if len(deck.title) > TITLE_MAX:
        raise _DeckRefused(f"title longer than {TITLE_MAX}")
    if len(deck.source) > SOURCE_MAX:
        raise _DeckRefused(f"source longer than {SOURCE_MAX}")
    for card in deck.cards:
        if len(card.key) > CARD_KEY_MAX:
            raise _DeckRefused(f"card key longer than {CARD_KEY_MAX}")
        if not -NUMBER_MAX - 1 <= card.number <= NUMBER_MAX:
            raise _DeckRefused(f"card number {card.number} out of range for type integer")

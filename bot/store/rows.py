"""Result rows to the core's types, and the column lists the areas select; shared by the store's areas."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.core.model.daily import DailyChannel, DailyPost
from bot.core.model.models import (
    AskRow,
    CardKind,
    CardState,
    Grade,
    MemberRow,
    StoredCard,
    Suggestion,
    SuggestionStatus,
)
from bot.store.tables import cards

CARD_COLUMNS = (
    cards.c.id,
    cards.c.deck_id,
    cards.c.card_key,
    cards.c.number,
    cards.c.kind,
    cards.c.question,
    cards.c.answer,
    cards.c.key_terms,
    cards.c.parent_id,
)


def _columns(row: Any, prefix: str) -> Callable[[str], Any]:
    """Reads a row's columns by name, when they were labelled with `prefix` to sit beside another table's."""
    return lambda name: getattr(row, prefix + name)


def member_row(row: Any, prefix: str = "") -> MemberRow:
    """A member from a result row; `prefix` when its columns were labelled (see `card_row`)."""

    col = _columns(row, prefix)

    return MemberRow(
        id=col("id"),
        workspace_id=col("workspace_id"),
        user_ref=col("user_ref"),
        display_name=col("display_name"),
        timezone=col("timezone"),
        team_id=col("team_id"),
        streak_current=col("streak_current"),
        streak_best=col("streak_best"),
        last_study_day=col("last_study_day"),
        timezone_chosen=bool(col("timezone_chosen")),
        timezone_before=col("timezone_before"),
        timezone_from=col("timezone_from"),
        reminder_time=col("reminder_time"),
        reminders_paused=col("reminders_paused"),
        streak_freezes=col("streak_freezes"),
        streak_saved=col("streak_saved"),
    )


def card_row(row: Any, prefix: str = "") -> StoredCard:
    """A card from a result row; `prefix` when its columns were labelled to sit beside another table's."""

    col = _columns(row, prefix)

    return StoredCard(
        id=col("id"),
        deck_id=col("deck_id"),
        key=col("card_key"),
        number=col("number"),
        kind=CardKind(col("kind")),
        question=col("question"),
        answer=col("answer"),
        key_terms=tuple(col("key_terms")),
        parent_id=col("parent_id"),
    )


def ask_row(row: Any, prefix: str = "", card_prefix: str = "c_") -> AskRow:
    """An ask from a result row holding its columns (labelled with `prefix`) and its card's."""

    col = _columns(row, prefix)

    grade = col("grade")
    return AskRow(
        id=col("id"),
        member_id=col("member_id"),
        workspace_id=col("workspace_id"),
        card=card_row(row, prefix=card_prefix),
        source=col("source"),
        created_at=col("created_at"),
        typed_answer=col("typed_answer"),
        grade=Grade(grade) if grade is not None else None,
        graded_at=col("graded_at"),
        skipped=col("skipped_at") is not None,
        parent_ask_id=col("parent_ask_id"),
        daily_post_id=col("daily_post_id"),
    )


def state_row(row: Any, prefix: str = "") -> CardState:
    col = _columns(row, prefix)

    return CardState(
        state=col("state"),
        step=col("step"),
        stability=col("stability"),
        difficulty=col("difficulty"),
        due=col("due"),
        last_review=col("last_review"),
        reps=col("reps"),
        lapses=col("lapses"),
    )


def channel_row(row: Any) -> DailyChannel:
    return DailyChannel(
        id=row.id,
        workspace_id=row.workspace_id,
        platform=row.platform,
        channel_ref=row.channel_ref,
        post_time=row.post_time,
        timezone=row.timezone,
        deck_id=row.deck_id,
        weekdays=row.weekdays,
        enabled=bool(row.enabled),
        paused_reason=row.paused_reason,
        active_from=row.active_from,
        order_seed=row.order_seed,
        cycle=row.cycle,
        position=row.position,
        digest=bool(row.digest),
    )


def post_row(row: Any) -> DailyPost:
    return DailyPost(
        id=row.id,
        channel_id=row.channel_id,
        local_date=row.local_date,
        card_id=row.card_id,
        cycle=row.cycle,
        claimed_at=row.claimed_at,
        claimed_by=row.claimed_by,
        claim_token=row.claim_token,
        posted_at=row.posted_at,
        message_ref=row.message_ref,
        thread_ref=row.thread_ref,
        attempts=row.attempts,
        last_error=row.last_error,
    )


def suggestion_row(row: Any) -> Suggestion:
    return Suggestion(
        id=row.id,
        workspace_id=row.workspace_id,
        member_id=row.member_id,
        suggester=row.suggester,
        deck_id=row.deck_id,
        question=row.question,
        answer=row.answer,
        followup_question=row.followup_question,
        followup_answer=row.followup_answer,
        status=SuggestionStatus(row.status),
        created_at=row.created_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
    )

"""Grading: spaced repetition through the `fsrs` package (day-based intervals, no minute learning steps)
and the points rule (points reward practice, never claimed correctness; see README, "Points")."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

from bot.core.model.models import CardState, Grade

if TYPE_CHECKING:
    import fsrs


@cache
def _scheduler() -> fsrs.Scheduler:
    import fsrs

    # No learning steps: in a chat bot a card coming back in 10 minutes is noise; the smallest interval is a
    # day. No fuzzing: the interval printed on a button must be the interval the member gets.
    return fsrs.Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)


def review(state: CardState | None, card_id: int, grade: Grade, now: datetime) -> CardState:
    """The card's state after grading it now."""
    import fsrs  # on the first grade, not at start-up: `studybot console` reaches its prompt without it

    if state is None:
        before = fsrs.Card(card_id=card_id)
    else:
        before = fsrs.Card(
            card_id=card_id,
            state=fsrs.State(state.state),
            step=state.step,
            stability=state.stability,
            difficulty=state.difficulty,
            due=state.due,
            last_review=state.last_review,
        )
    card, _log = _scheduler().review_card(before, fsrs.Rating(int(grade)), now)
    reps = (state.reps if state else 0) + 1
    lapses = (state.lapses if state else 0) + (1 if grade is Grade.AGAIN and state is not None else 0)
    return CardState(
        state=int(card.state),
        step=card.step,
        stability=card.stability,
        difficulty=card.difficulty,
        due=card.due,
        last_review=card.last_review,
        reps=reps,
        lapses=lapses,
    )


def preview(state: CardState | None, card_id: int, now: datetime) -> dict[Grade, timedelta]:
    """The interval each grade would give, for the labels on the grade buttons."""
    return {grade: review(state, card_id, grade, now).due - now for grade in Grade}


def format_interval(interval: timedelta) -> str:
    """Short, Anki-like: 1d, 12d, 3mo, 1.2y."""
    days = max(1, round(interval.total_seconds() / 86400))
    if days < 31:
        return f"{days}d"
    if days < 365:
        return f"{round(days / 30.4)}mo"
    return f"{days / 365:.1f}y"


PRACTICE_POINTS = 10
WRITTEN_ANSWER_BONUS = 5


def points_for(grade: Grade, wrote_answer: bool) -> int:
    """Every graded card earns the same, whatever the grade; writing an answer first earns a bonus.

    The grade is accepted but deliberately unused: an honest "Again" must never earn less than "Easy".
    """
    del grade
    return PRACTICE_POINTS + (WRITTEN_ANSWER_BONUS if wrote_answer else 0)

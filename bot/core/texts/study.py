"""The wording of studying: a question, its answer with the grade buttons, a grade recorded."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core import cardtext
from bot.core.actions import GradeAsk, Next, Reveal, Skip, Write
from bot.core.decks.keyterms import Coverage, TermMatch
from bot.core.decks.workspace import shown
from bot.core.messages import Action, Message, Section, Style
from bot.core.model.grading import format_interval
from bot.core.model.models import (
    AskRow,
    Grade,
    StoredCard,
)
from bot.core.texts.words import plural, when

GRADE_STYLES = {
    Grade.AGAIN: Style.DANGER,
    Grade.HARD: Style.SECONDARY,
    Grade.GOOD: Style.SUCCESS,
    Grade.EASY: Style.PRIMARY,
}


def card_label(card: StoredCard) -> str:
    return f"{shown(card.deck_id)} #{card.number}" + (" (follow-up)" if card.parent_id else "")


def question(ask_id: int, card: StoredCard, kind: str) -> Message:
    return Message(
        title=f"{kind} · {card_label(card)}",
        sections=(Section(cardtext.bold_lead(card.question), markdown=True),),
        actions=(
            Action(Reveal(ask_id).id, "Reveal answer", Style.PRIMARY),
            Action(Write(ask_id).id, "Write my answer"),
            Action(Skip(ask_id).id, "Skip"),
        ),
        footer="Think of your answer first, then reveal and grade yourself honestly.",
    )


def reveal(
    ask: AskRow,
    intervals: dict[Grade, timedelta],
    coverage: Sequence[TermMatch] | None,
) -> Message:
    sections = [Section(ask.card.question, "Question", markdown=True)]
    if ask.typed_answer:
        sections.append(Section(cardtext.escape(ask.typed_answer), "Your answer", markdown=True))
    sections.append(Section(ask.card.answer, "Model answer", markdown=True))
    if coverage:
        sections.append(Section(key_term_lines(coverage), "Key terms", markdown=True))
    actions = tuple(
        Action(
            GradeAsk(ask.id, g).id,
            f"{g.label} · {format_interval(intervals[g])}",
            GRADE_STYLES[g],
        )
        for g in Grade
    )
    return Message(
        title=f"Answer · {card_label(ask.card)}",
        sections=tuple(sections),
        actions=actions,
        footer="How well did you know it? Every honest grade earns the same points.",
    )


def key_term_lines(coverage: Sequence[TermMatch]) -> str:
    """Covered and missed terms (`none` when empty), and the partly covered ones when there are some."""
    lines = []
    for kind in Coverage:
        terms = [cardtext.escape(m.term) for m in coverage if m.coverage is kind]
        if terms or kind is not Coverage.PARTLY:
            lines.append(f"{kind.capitalize()}: {', '.join(terms) or 'none'}")
    return "\n".join(lines)


def graded(
    ask: AskRow,
    grade: Grade,
    points: int,
    due: datetime,
    now: datetime,
    tz: ZoneInfo,
    streak: int,
    followup_action: Action | None,
) -> Message:
    lines = [f"+{plural(points, 'point')} · 🔥 {streak}-day streak"]
    if not points:
        lines.append("This card already earned you points today; it counts once a day.")
    elif ask.typed_answer:
        lines.append("Includes a bonus for writing your answer first.")
    actions = [followup_action] if followup_action else []
    actions.append(Action(Next(member_id=ask.member_id).id, "Next question", Style.SECONDARY))
    return Message(
        title=f"{grade.label} — next review {when(due, now, tz)}.",
        sections=(Section("\n".join(lines)),),
        actions=tuple(actions),
    )


def caught_up(next_due: datetime | None, now: datetime, tz: ZoneInfo) -> Message:
    """No card to ask now: when the next one is due, or that there is nothing to ask at all."""
    if next_due is None:
        return Message(title="There are no questions to ask yet.", sections=(Section("No deck is loaded."),))
    return Message(
        title="You're all caught up! 🎉",
        sections=(
            Section(
                f"Your next card is due {when(next_due, now, tz)}. Come back then to keep your streak going."
            ),
        ),
    )

"""The wording of decks: the list with the member's progress, and what a reload served or refused."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core import cardtext
from bot.core.messages import Message, Section
from bot.core.model.models import (
    Deck,
    DeckProblem,
    DeckProgress,
)
from bot.core.texts.words import plural


def decks(progress: Sequence[DeckProgress], problems: Sequence[DeckProblem]) -> Message:
    sections = [
        Section(
            f"{plural(p.main_cards, 'question')} + {plural(p.followup_cards, 'follow-up')} · "
            f"you've learned {p.learned}, {p.due} due\n"
            f"/quiz {p.deck_id}",
            p.title,
        )
        for p in progress
    ]
    if not sections:
        sections.append(Section("No decks are loaded."))
    if problems:
        sections.append(_refused_section(problems))
    return Message(title="Decks", sections=tuple(sections))


REFUSED_HEADING = "Decks refused (fix the files, then /decks reload)"


def _refused_section(problems: Sequence[DeckProblem]) -> Section:
    # Problems quote deck syntax (`**Theory:**`): escaped, so they read exactly as an author must write it.
    return Section(cardtext.escape(_refused(problems)), REFUSED_HEADING, markdown=True)


def _refused(problems: Sequence[DeckProblem], shown: int = 10) -> str:
    lines = [str(p) for p in problems[:shown]]
    if len(problems) > shown:
        lines.append(f"… and {len(problems) - shown} more: run `studybot decks check` for all of them")
    return "\n".join(lines)


def decks_reloaded(served: Sequence[Deck], problems: Sequence[DeckProblem]) -> Message:
    """The answer to /decks reload: what is served now, and why the other files were refused."""

    def count(n: int, noun: str) -> str:
        return f"{n} {noun}" + ("" if n == 1 else "s")

    lines = [
        f"{d.id} — “{d.title}”, {count(len(d.main_cards), 'question')} + "
        f"{count(len(d.followup_cards), 'follow-up')}"
        for d in served
    ]
    sections = [Section("\n".join(lines) or "No deck is loaded.", "Served now")]
    if problems:
        sections.append(_refused_section(problems))
    refused_files = len({p.path for p in problems})
    return Message(
        title=f"Decks reloaded: {len(served)} served, {refused_files} refused",
        sections=tuple(sections),
        is_error=bool(problems),
    )

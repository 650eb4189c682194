"""What an import gave: the deck, and what was left out and why, for the reply in chat."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.core.model.models import Deck


class DeckFormat(enum.StrEnum):
    MARKDOWN = "markdown"
    CSV = "csv"
    ANKI = "anki"


@dataclass(frozen=True)
class ImportResult:
    deck: Deck
    format: DeckFormat
    skipped: tuple[tuple[str, int], ...] = ()  # (reason, how many notes), e.g. ("cloze notes", 3)
    media: int = 0  # media files in the package, not imported
    reversed_notes: int = 0  # Anki "and reversed" notes, studied front to back only

    @property
    def cards(self) -> int:
        return len(self.deck.main_cards)

    @property
    def followups(self) -> int:
        return len(self.deck.followup_cards)

    def summary(self) -> str:
        """One paragraph a chat reply can show as it is."""
        lines = [
            f"Imported **{self.deck.title}**: "
            f"{_count(self.cards, 'card')}, {_count(self.followups, 'follow-up')}."
        ]
        for reason, count in self.skipped:
            lines.append(f"Skipped {_count(count, 'note')}: {reason}.")
        if self.reversed_notes:
            lines.append(f"Reversed notes are asked front to back only ({self.reversed_notes:,}).")
        if self.media:
            lines.append(
                f"{_count(self.media, 'media file')} (images, sounds) not imported: cards show text only."
            )
        return "\n".join(lines)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")

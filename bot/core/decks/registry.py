"""Deck file formats: each format is one module that registers its file suffixes and its parse function.

Adding a format (CSV, Anki…) is one module calling `register` plus its import in bot/core/decks/loader.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.core.model.models import Deck, DeckProblem

# A file's bytes, the name problems are reported under, and the deck id → the deck or every problem found.
Parse = Callable[[bytes, str, str], Deck | list[DeckProblem]]


@dataclass(frozen=True)
class DeckFormat:
    name: str
    suffixes: tuple[str, ...]  # lower case, with the dot: (".md",)
    parse: Parse


_FORMATS: list[DeckFormat] = []


def register(deck_format: DeckFormat) -> DeckFormat:
    taken = {s for f in _FORMATS for s in f.suffixes}
    if clash := taken.intersection(deck_format.suffixes):
        raise ValueError(f"deck file suffix already registered: {', '.join(sorted(clash))}")
    _FORMATS.append(deck_format)
    return deck_format


def formats() -> tuple[DeckFormat, ...]:
    return tuple(_FORMATS)


def suffixes() -> tuple[str, ...]:
    return tuple(s for f in _FORMATS for s in f.suffixes)


def for_suffix(suffix: str) -> DeckFormat | None:
    wanted = suffix.casefold()
    return next((f for f in _FORMATS if wanted in f.suffixes), None)

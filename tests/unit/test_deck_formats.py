"""The deck loader's format registry: a format is one module registering its suffixes and parse function."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.decks import registry
from bot.core.decks.loader import load_decks
from bot.core.model.models import Card, CardKind, Deck, DeckProblem


@pytest.fixture
def restore_registry() -> Iterator[None]:
    saved = list(registry._FORMATS)
    yield
    registry._FORMATS[:] = saved


def _lines(data: bytes, path: str, deck_id: str) -> Deck | list[DeckProblem]:
    """A toy format: one `question|answer` per line."""
    cards = []
    for number, line in enumerate(data.decode().splitlines(), start=1):
        question, _, answer = line.partition("|")
        cards.append(Card(str(number), number, CardKind.MAIN, question, answer, (), number))
    return Deck(id=deck_id, title=deck_id, cards=tuple(cards), source=path)


def test_a_registered_format_is_loaded_from_a_folder_beside_markdown(
    tmp_path: Path, restore_registry: None
) -> None:
    registry.register(registry.DeckFormat("lines", (".lines",), _lines))
    (tmp_path / "toy.lines").write_text("What is 2+2?|4\nWhat is 3+3?|6\n")
    (tmp_path / "notes.txt").write_text("not a deck")
    decks, problems = load_decks([tmp_path])
    assert problems == []
    assert [(d.id, len(d.cards)) for d in decks] == [("toy", 2)]


def test_a_suffix_cannot_belong_to_two_formats(restore_registry: None) -> None:
    with pytest.raises(ValueError, match=r"\.md"):
        registry.register(registry.DeckFormat("other", (".md",), _lines))


def test_a_folder_without_deck_files_names_the_suffixes(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a deck")
    _decks, problems = load_decks([tmp_path])
    assert [p.message for p in problems] == ["directory holds no .md deck files"]

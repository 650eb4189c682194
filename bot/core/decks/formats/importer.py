"""One entry point for an uploaded deck file: detect its format, read it, say what was imported."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from bot.core.decks.formats.anki_format import read_apkg
from bot.core.decks.formats.csv_format import read_csv
from bot.core.decks.formats.detect import detect_format
from bot.core.decks.formats.import_result import DeckFormat, ImportResult
from bot.core.decks.limits import CARDS_MAX, DECK_ID_MAX, IMPORT_FILE_MAX
from bot.core.decks.markdown import parse_deck_bytes
from bot.core.model.models import Deck, DeckProblem

_NOT_ID = re.compile(r"[^a-z0-9_-]+")
_SPREADSHEETS = (".xlsx", ".xls", ".ods", ".numbers")


def deck_id_for(filename: str) -> str:
    """A deck id from a file name: `Team Notes (v2).csv` → `team-notes-v2`."""
    stem = PurePosixPath(filename.replace("\\", "/")).stem
    return _NOT_ID.sub("-", stem.casefold()).strip("-")[:DECK_ID_MAX].strip("-") or "deck"


def import_deck(filename: str, data: bytes, deck_id: str | None = None) -> ImportResult | list[DeckProblem]:
    """The deck in an uploaded file, or every problem found; nothing is returned half-read."""
    deck_id = deck_id or deck_id_for(filename)
    if len(data) > IMPORT_FILE_MAX:
        return [DeckProblem(filename, 1, f"file is too big: at most {IMPORT_FILE_MAX // 1_000_000} MB")]
    found = detect_format(filename, data)
    if found is DeckFormat.ANKI:
        return read_apkg(data, filename, deck_id)
    if found is DeckFormat.MARKDOWN:
        deck: Deck | list[DeckProblem] = parse_deck_bytes(data, filename, deck_id, IMPORT_FILE_MAX)
    elif found is DeckFormat.CSV:
        deck = read_csv(data, filename, deck_id, title=PurePosixPath(filename).stem)
    else:
        hint = " (save a spreadsheet as CSV first)" if filename.casefold().endswith(_SPREADSHEETS) else ""
        return [
            DeckProblem(
                filename,
                1,
                "not a deck file: expected a Markdown deck (`# Title` first), a CSV or TSV with a "
                f"question,answer header, a Quizlet export or an Anki .apkg{hint}",
            )
        ]
    if isinstance(deck, list):
        return deck
    if len(deck.cards) > CARDS_MAX:  # CSV checks its rows itself; the Markdown parser has no such limit
        return [DeckProblem(filename, 1, f"the deck has {len(deck.cards):,} cards; at most {CARDS_MAX:,}")]
    return ImportResult(deck, found)

"""Deck files in other formats (CSV/TSV, Quizlet, Anki) read into the same `Deck` the Markdown parser
gives, and any deck written back as Markdown. Pure functions: no chat library, database or network."""

from bot.core.decks.formats.detect import detect_format
from bot.core.decks.formats.import_result import DeckFormat, ImportResult
from bot.core.decks.formats.importer import deck_id_for, import_deck
from bot.core.decks.formats.markdown_export import export_markdown

__all__ = ["DeckFormat", "ImportResult", "deck_id_for", "detect_format", "export_markdown", "import_deck"]

"""The limits a deck must keep: the columns it is stored in (bot/store/tables.py, checked by a test)
and the sizes the parser reads, so `studybot decks check` refuses what the database would."""

from __future__ import annotations

DECK_ID_MAX = 100  # decks.id, cards.deck_id: the file name without .md
TITLE_MAX = 300  # decks.title
SOURCE_MAX = 500  # decks.source: the path as the content setting names it
CARD_KEY_MAX = 120  # cards.card_key: the question number or {#id}, plus "/followup" for its follow-up
NUMBER_MAX = 2**31 - 1  # cards.number: PostgreSQL's INTEGER (SQLite's is wider)

# Sizes: a deck of 15 questions is about 20 KB, and a paragraph is one line.
FILE_MAX = 2_000_000  # bytes
LINE_MAX = 20_000  # characters

# Decks imported from chat (CSV, Anki, Markdown uploads).
CARDS_MAX = 5_000  # cards a deck may hold, follow-ups included
IMPORT_FILE_MAX = 5_000_000  # bytes of an uploaded file
IMPORT_UNPACKED_MAX = 50_000_000  # bytes an .apkg may unpack to (its media included): no zip bombs
WORKSPACE_DECKS_MAX = 100  # workspace decks (not retired) one server or workspace may have
DECK_NAME_MAX = 60  # decks.name: the name members type for a workspace deck

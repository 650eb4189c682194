"""Which format an uploaded deck file is in, by its content first and its name second."""

from __future__ import annotations

import io
import re
import zipfile

from bot.core.decks.formats.anki_format import COLLECTION_NAMES
from bot.core.decks.formats.import_result import DeckFormat

_ZIP_MAGIC = b"PK\x03\x04"
_TITLE = re.compile(r"^ {0,3}#(?:[ \t]|$)")
_MARKDOWN_NAMES = (".md", ".markdown")
_TABLE_NAMES = (".csv", ".tsv", ".tab", ".txt")
SNIFF_BYTES = 64_000


def detect_format(filename: str, data: bytes) -> DeckFormat | None:
    """The deck format of `data` (named `filename`), or None when it is none of them.

    An Anki package is a zip archive holding a collection file; a Markdown deck starts with a `# Title`
    line; CSV and TSV are text whose first line has a comma, tab or semicolon. The name decides only
    what content cannot: a `.md` without its title is still Markdown (its parser names the problem).
    """
    name = filename.casefold()
    if data.startswith(_ZIP_MAGIC):
        return DeckFormat.ANKI if _holds_collection(data) else None
    if name.endswith(".apkg"):
        return DeckFormat.ANKI  # not a zip: the Anki reader says so
    if name.endswith(_MARKDOWN_NAMES):
        return DeckFormat.MARKDOWN
    head = data[:SNIFF_BYTES].decode("utf-8-sig", errors="replace")
    first = next((line for line in head.splitlines() if line.strip()), "")
    if _TITLE.match(first):
        return DeckFormat.MARKDOWN
    if name.endswith(_TABLE_NAMES) or any(d in first for d in ",\t;"):
        return DeckFormat.CSV
    return None


def _holds_collection(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return any(name in COLLECTION_NAMES for name in archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return False

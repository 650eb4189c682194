"""Text that people type, checked at the core's door before it is stored, looked up or quoted back.

PostgreSQL's text types refuse NUL (U+0000), and a lone surrogate (half of a UTF-16 pair, such as
U+D800) has no UTF-8 encoding, so both database drivers refuse it. Such text gets a reply that names
the field and the character, never a database error. Lengths are limited to the columns they go into.
The check that refuses such text is bot/core/refusal.py.
"""

from __future__ import annotations

# The sizes of the columns these go into (bot/store/tables.py; a test keeps them equal).
USER_REF_LIMIT = 100
WORKSPACE_ID_LIMIT = 100
DISPLAY_NAME_LIMIT = 100
CHANNEL_REF_LIMIT = 100
ECHO_LIMIT = 60  # how much of a typed word a reply quotes back
REPLACEMENT = "\ufffd"


def refused_character(text: str) -> str | None:
    """The first character that no database here can store, described; None when all can be."""
    if "\x00" in text:
        return "a NUL character (U+0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"an unpaired surrogate character (U+{ord(text[exc.start]):04X})"
    return None


def storable(text: str) -> str:
    """`text` with each character that cannot be stored replaced by U+FFFD (for names shown to others)."""
    if refused_character(text) is None:
        return text
    return "".join(REPLACEMENT if ch == "\x00" or "\ud800" <= ch <= "\udfff" else ch for ch in text)


def echo(text: str) -> str:
    """Typed text to quote back in a reply: storable, on one line, and short."""
    one_line = " ".join(storable(text).split())
    return one_line if len(one_line) <= ECHO_LIMIT else one_line[: ECHO_LIMIT - 1] + "…"

"""Text that people type, checked at the core's door before it is stored, looked up or quoted back.

PostgreSQL's text types refuse NUL (U+0000), and a lone surrogate (half of a UTF-16 pair, such as
U+D800) has no UTF-8 encoding, so both database drivers refuse it. Such text gets a reply that names
the field and the character, never a database error. Lengths are limited to the columns they go into.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.messages import Message, error

if TYPE_CHECKING:
    from bot.core.models import Caller

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


def refuse(caller: Caller | None = None, /, **fields: str | None) -> Message | None:
    """The error for the first field that cannot be stored, or None. A field's keyword is its name in
    the reply (`team_name` → "team name"); the caller's ids are checked too."""
    for key, value in fields.items():
        what = refused_character(value) if value else None
        if what is not None:
            label = key.replace("_", " ")
            return error(f"The {label} you sent contains {what}, which I can't store.", _REMOVE_IT)
    if caller is None:
        return None
    ids = (
        ("user id", caller.user_ref, USER_REF_LIMIT),
        ("server or workspace id", caller.workspace_id, WORKSPACE_ID_LIMIT),
        ("channel id", caller.channel_ref or "", CHANNEL_REF_LIMIT),
    )
    for label, value, limit in ids:
        what = refused_character(value)
        if what is not None:
            return error(f"Your {label} contains {what}, which I can't store.", _ASK_ADMIN)
        if len(value) > limit:
            return error(f"Your {label} is {len(value)} characters long; I can store {limit}.", _ASK_ADMIN)
    return None


_REMOVE_IT = "Remove that character and send it again."
_ASK_ADMIN = "Use another name, or ask whoever runs the bot."

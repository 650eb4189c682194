"""The Markdown deck format (DESIGN.md, "Content format"): the only format so far."""

from __future__ import annotations

from bot.core.decks.limits import FILE_MAX
from bot.core.decks.parser import DeckParser
from bot.core.decks.registry import DeckFormat, register
from bot.core.model.models import Deck, DeckProblem


def parse_deck_bytes(
    data: bytes, path: str, deck_id: str, max_bytes: int = FILE_MAX
) -> Deck | list[DeckProblem]:
    """Parse a deck file's bytes; `path` names it in problems, `deck_id` is its file stem. `max_bytes`: a
    bundled deck's limit, or a deck file's imported from chat (IMPORT_FILE_MAX, as for every format)."""
    if len(data) > max_bytes:
        return [_too_big(path, max_bytes)]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        encoding_problem = DeckProblem(
            path,
            line,
            f"not valid UTF-8: byte 0x{data[exc.start]:02x} at byte offset {exc.start} "
            f"(column {column}) cannot be decoded; save the file as UTF-8",
        )
        # Keep going on a lossy decoding so the author also sees the file's other problems.
        rest = parse_deck_text(data.decode("utf-8", errors="replace"), path, deck_id, max_bytes)
        others = rest if isinstance(rest, list) else []
        return sorted([encoding_problem, *others], key=lambda p: p.line)
    return parse_deck_text(text, path, deck_id, max_bytes)


def parse_deck_text(text: str, path: str, deck_id: str, max_size: int = FILE_MAX) -> Deck | list[DeckProblem]:
    """Parse deck Markdown. Returns the deck, or every problem found (sorted by line) if there is any."""
    if len(text) > max_size:  # characters; bytes are checked before decoding
        return [_too_big(path, max_size)]
    return DeckParser(text, path, deck_id).parse()


def _too_big(path: str, max_size: int) -> DeckProblem:
    return DeckProblem(
        path, 1, f"file is too big: a deck can be at most {max_size // 1_000_000} MB; split it into several"
    )


FORMAT = register(DeckFormat("markdown", (".md",), parse_deck_bytes))

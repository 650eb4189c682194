"""Deck files: parse and validate the Markdown question decks (DESIGN.md, "Content format").

A deck is refused as a whole when anything in it is wrong, with every problem found reported as
`file:line: message`, so an author can fix a file in one pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from bot.core.deck_limits import FILE_MAX
from bot.core.deck_parser import FOLLOWUP_SUFFIX, DeckParser
from bot.core.keyterms import key_terms
from bot.core.models import Deck, DeckProblem

__all__ = [
    "FOLLOWUP_SUFFIX",
    "key_terms",
    "load_decks",
    "parse_deck",
    "parse_deck_bytes",
    "parse_deck_text",
]

# --- public API -------------------------------------------------------------------------------------------


def parse_deck(path: Path) -> Deck | list[DeckProblem]:
    """Parse one deck file; the deck id is the file stem, `source` the path as given."""
    shown = _shown(path)
    try:
        with path.open("rb") as file:
            data = file.read(FILE_MAX + 1)  # never more: a huge file is refused unread
    except OSError as exc:
        return [DeckProblem(shown, 1, f"cannot read the file: {exc.strerror or exc}")]
    return parse_deck_bytes(data, shown, path.stem)


def _shown(path: Path) -> str:
    # A file name that is not UTF-8 comes as surrogates, which no terminal or database takes.
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def parse_deck_bytes(data: bytes, path: str, deck_id: str) -> Deck | list[DeckProblem]:
    """Parse a deck file's bytes; `path` names it in problems, `deck_id` is its file stem."""
    if len(data) > FILE_MAX:
        return [_too_big(path)]
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
        rest = parse_deck_text(data.decode("utf-8", errors="replace"), path, deck_id)
        others = rest if isinstance(rest, list) else []
        return sorted([encoding_problem, *others], key=lambda p: p.line)
    return parse_deck_text(text, path, deck_id)


def parse_deck_text(text: str, path: str, deck_id: str) -> Deck | list[DeckProblem]:
    """Parse deck Markdown. Returns the deck, or every problem found (sorted by line) if there is any."""
    if len(text) > FILE_MAX:  # characters; bytes are checked before decoding
        return [_too_big(path)]
    return DeckParser(text, path, deck_id).parse()


def _too_big(path: str) -> DeckProblem:
    return DeckProblem(
        path, 1, f"file is too big: a deck can be at most {FILE_MAX // 1_000_000} MB; split it into several"
    )


def load_decks(paths: Iterable[Path]) -> tuple[list[Deck], list[DeckProblem]]:
    """Load every deck under `paths` (a directory means its `*.md` files, sorted by name).

    Valid decks are returned even when other files are refused; their problems come back alongside.
    """
    decks: list[Deck] = []
    problems: list[DeckProblem] = []
    ids: dict[str, str] = {}
    seen_files: set[Path] = set()
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.glob("*.md") if p.is_file())
            if not files:
                problems.append(DeckProblem(_shown(path), 1, "directory holds no .md deck files"))
        elif path.exists():
            files = [path]
        else:
            problems.append(DeckProblem(_shown(path), 1, "no such file or directory"))
            continue
        for file in files:
            resolved = file.resolve()
            if resolved in seen_files:  # the same file named twice, e.g. as itself and via its directory
                continue
            seen_files.add(resolved)
            result = parse_deck(file)
            if isinstance(result, list):
                problems.extend(result)
            elif result.id in ids:
                # Progress is stored per deck id, so two files with one stem would share it.
                problems.append(
                    DeckProblem(_shown(file), 1, f"deck id {result.id!r} is already used by {ids[result.id]}")
                )
            else:
                ids[result.id] = _shown(file)
                decks.append(result)
    return decks, problems

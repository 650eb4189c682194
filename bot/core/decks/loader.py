"""Deck files: find them in the content folders and parse each with its format (bot/core/decks/registry.py).

A deck is refused as a whole when anything in it is wrong, with every problem found reported as
`file:line: message`, so an author can fix a file in one pass. Valid decks are served even when others
are refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from bot.core.decks import markdown, registry
from bot.core.decks.limits import FILE_MAX
from bot.core.model.models import Deck, DeckProblem

# A file named on its own is read in this format when its suffix is not registered.
DEFAULT_FORMAT = markdown.FORMAT


def parse_deck(path: Path) -> Deck | list[DeckProblem]:
    """Parse one deck file in the format its suffix names; the deck id is the file stem, `source` the path
    as given."""
    shown = _shown(path)
    try:
        with path.open("rb") as file:
            data = file.read(FILE_MAX + 1)  # never more: a huge file is refused unread
    except OSError as exc:
        return [DeckProblem(shown, 1, f"cannot read the file: {exc.strerror or exc}")]
    deck_format = registry.for_suffix(path.suffix) or DEFAULT_FORMAT
    return deck_format.parse(data, shown, path.stem)


def _shown(path: Path) -> str:
    # A file name that is not UTF-8 comes as surrogates, which no terminal or database takes.
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _deck_files(folder: Path) -> list[Path]:
    known = registry.suffixes()
    return sorted(p for p in folder.iterdir() if p.suffix in known and p.is_file())


def load_decks(paths: Iterable[Path]) -> tuple[list[Deck], list[DeckProblem]]:
    """Load every deck under `paths` (a directory means its deck files, sorted by name).

    Valid decks are returned even when other files are refused; their problems come back alongside.
    """
    decks: list[Deck] = []
    problems: list[DeckProblem] = []
    ids: dict[str, str] = {}
    seen_files: set[Path] = set()
    for path in paths:
        if path.is_dir():
            files = _deck_files(path)
            if not files:
                kinds = " or ".join(registry.suffixes())
                problems.append(DeckProblem(_shown(path), 1, f"directory holds no {kinds} deck files"))
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

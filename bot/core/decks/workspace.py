"""Workspace decks' ids: namespaced by their workspace so they never collide with another workspace's deck
or a bundled one (a bundled id is a file stem and never holds a `/`), while members only ever see and type
the plain name."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import PurePosixPath

from bot.core.decks.limits import DECK_NAME_MAX

PREFIX = "w."
_NOT_NAME = re.compile(r"[^a-z0-9_-]+")


def deck_name(text: str) -> str:
    """The name members type for a deck, from typed text or a file name: `Team Notes` → `team-notes`."""
    return _NOT_NAME.sub("-", text.strip().casefold()).strip("-")[:DECK_NAME_MAX].strip("-")


def file_deck_name(filename: str) -> str:
    """A deck's name from its file's: accents folded (`Español.csv` → `espanol`); a name with no Latin
    letters or digits at all (`日本語.csv`) gets one from its hash, so two such files stay two decks."""
    stem = PurePosixPath(filename.replace("\\", "/")).stem
    folded = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    name = deck_name(folded)
    if name:
        return name
    return "deck-" + hashlib.sha256(stem.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def workspace_deck_id(workspace_id: str, name: str) -> str:
    """`w.<10 hex of the workspace>/<name>`: at most 73 characters, so a `next:<deck>` button id fits."""
    digest = hashlib.sha256(workspace_id.encode("utf-8")).hexdigest()[:10]
    return f"{PREFIX}{digest}/{name}"


def shown(deck_id: str) -> str:
    """What members see for a deck id: a workspace deck's plain name, a bundled deck's id."""
    return deck_id.rpartition("/")[2]

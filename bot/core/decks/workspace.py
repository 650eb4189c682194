"""Workspace decks' names and ids: namespaced by their workspace so they never collide with another
workspace's deck or a bundled one (a bundled id is a file stem and never holds a `/`), while members only
ever see and type the plain name. One rule makes a name, from typed text or a file's name alike."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import PurePosixPath

from bot.core.decks.limits import DECK_NAME_MAX

PREFIX = "w."
_NOT_NAME = re.compile(r"[^a-z0-9_-]+")
# Every name `deck_name` gives, and nothing else: button and form ids carry it (bot/core/actions.py).
NAME = re.compile(rf"[a-z0-9_](?:[a-z0-9_-]{{0,{DECK_NAME_MAX - 2}}}[a-z0-9_])?")


def deck_name(text: str) -> str:
    """A deck's name from typed text or a file's stem: accents folded (`Español` → `espanol`), `Team Notes`
    → `team-notes`. Text with letters but no Latin ones (`日本語`) gets a name from its hash, so two such
    decks stay two; text with no letter or digit at all gives "" (no name)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    name = _NOT_NAME.sub("-", folded.strip().casefold()).strip("-")[:DECK_NAME_MAX].strip("-")
    if name or not any(ch.isalnum() for ch in text):
        return name
    return _hashed(text)


def file_deck_name(filename: str) -> str:
    """A deck's name from its file's (`Español.csv` → `espanol`), never empty."""
    stem = PurePosixPath(filename.replace("\\", "/")).stem
    return deck_name(stem) or _hashed(stem)


def is_deck_name(text: str) -> bool:
    """Whether `text` is a name `deck_name` could have given (what a button or form id may carry)."""
    return NAME.fullmatch(text) is not None


def _hashed(text: str) -> str:
    return "deck-" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def workspace_deck_id(workspace_id: str, name: str) -> str:
    """`w.<10 hex of the workspace>/<name>`: at most 73 characters, so a `next:<deck>` button id fits."""
    digest = hashlib.sha256(workspace_id.encode("utf-8")).hexdigest()[:10]
    return f"{PREFIX}{digest}/{name}"


def shown(deck_id: str) -> str:
    """What members see for a deck id: a workspace deck's plain name, a bundled deck's id."""
    return deck_id.rpartition("/")[2]

"""The decks the bot serves: loaded from the content folders at start, again on SIGHUP or `/decks reload`;
and `/decks`, the list with the member's progress.

A deck refused by the parser or by the database is left out and reported (to admins in /decks and in the
log); every other deck is served."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.core.decks.loader import load_decks
from bot.core.messages import Message
from bot.core.model.models import Caller, Deck, DeckProblem
from bot.core.model.typed_text import echo
from bot.core.ports import Clock, DecksStore
from bot.core.refusal import refusal, refuse
from bot.core.services.members import who
from bot.core.texts import decks as texts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeckReport:
    served: tuple[Deck, ...]
    problems: tuple[DeckProblem, ...]


class DeckIds(Protocol):
    async def deck_ids(self) -> list[str]: ...


async def resolve_deck(store: DeckIds, name: str | None) -> str | None:
    """A deck id from what the member typed (exact or unique prefix); refused with the list of decks."""
    if not name:
        return None
    ids = await store.deck_ids()
    wanted = name.strip().casefold()
    matches = [d for d in ids if d.casefold() == wanted] or [
        d for d in ids if d.casefold().startswith(wanted)
    ]
    if len(matches) != 1:
        raise refusal(
            f"There is no deck called “{echo(name)}”.",
            f"Decks: {', '.join(ids) or 'none loaded'}. See /decks.",
        )
    return matches[0]


class DeckService:
    def __init__(self, store: DecksStore, clock: Clock, content: Sequence[Path] = ()) -> None:
        self.store = store
        self.clock = clock
        self.content = tuple(content)
        self.problems: tuple[DeckProblem, ...] = ()
        self._lock = asyncio.Lock()  # one load at a time: a SIGHUP and a /decks reload never interleave

    async def load(self, decks: Sequence[Deck], problems: Sequence[DeckProblem] = ()) -> DeckReport:
        """Serve `decks` (and no other); `problems` are those of the files that were refused."""
        async with self._lock:
            return await self._load(decks, problems)

    async def reload(self) -> DeckReport:
        """Read the content folders again and serve what they hold now."""
        async with self._lock:
            decks, problems = await asyncio.to_thread(load_decks, self.content)
            return await self._load(decks, problems)

    async def reload_for(self, caller: Caller) -> Message:
        if not caller.is_admin:
            raise refusal(
                "Only admins can reload the decks.", "Ask someone who can manage this server or workspace."
            )
        report = await self.reload()
        return texts.decks_reloaded(report.served, report.problems)

    async def decks(self, caller: Caller) -> Message:
        refuse(caller)
        member = (await who(self.store, caller)).member
        progress = await self.store.deck_progress(member.id, self.clock.now())
        return texts.decks(progress, self.problems if caller.is_admin else ())

    async def _load(self, decks: Sequence[Deck], problems: Sequence[DeckProblem]) -> DeckReport:
        refused = await self.store.sync_decks(decks, self.clock.now())
        refused_paths = {p.path for p in refused}
        served = tuple(d for d in decks if (d.source or d.id) not in refused_paths)
        self.problems = tuple(sorted((*problems, *refused), key=lambda p: (p.path, p.line)))
        for problem in self.problems:
            log.warning("deck refused: %s", problem)
        log.info("decks loaded: %s", ", ".join(f"{d.id} ({len(d.cards)} cards)" for d in served) or "none")
        return DeckReport(served, self.problems)

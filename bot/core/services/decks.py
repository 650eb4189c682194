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
from bot.core.decks.workspace import deck_name
from bot.core.messages import Message
from bot.core.model.models import Caller, Deck, DeckInfo, DeckProblem
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


class DeckInfos(Protocol):
    async def deck_infos(self, workspace_id: str | None) -> list[DeckInfo]: ...


def match_deck(infos: Sequence[DeckInfo], name: str) -> DeckInfo | None:
    """The deck a member means: its exact name (the workspace's own before a bundled one of that name), an
    internal id (a Next button carries one), the name their text makes (`Team Notes` → `team-notes`, as
    a file's name does), or the one name that starts with what they typed."""
    wanted = name.strip().casefold()
    plain = deck_name(name.strip())
    for key in (wanted, plain):
        exact = [d for d in infos if key and (d.id.casefold() == key or d.name.casefold() == key)]
        if exact:
            own = [d for d in exact if d.workspace_id is not None]
            return (own or exact)[0]
    started = [d for d in infos if d.name.casefold().startswith(wanted)]
    return started[0] if len(started) == 1 else None


async def resolve_deck(store: DeckInfos, name: str | None, workspace_id: str | None) -> str | None:
    """A deck id from what the member typed (exact or unique prefix), among the bundled decks and the
    workspace's own; refused with the list of decks."""
    if not name:
        return None
    infos = await store.deck_infos(workspace_id)
    found = match_deck(infos, name)
    if found is None:
        raise refusal(
            f"There is no deck called “{echo(name)}”.",
            f"Decks: {', '.join(d.name for d in infos) or 'none loaded'}. See /decks.",
        )
    return found.id


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

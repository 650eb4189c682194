"""Telling a member by direct message what an admin decided on their suggested card, at the outreach
runner's next sweep (bot/schedule/outreach.py).

Exactly once: one `outreach` row of kind CARD_OUTCOME per suggestion (target = its id, local date = the
decision's UTC date), claimed like reminders. The direct message and the member's next command share the
suggestion's `told_at`: whichever marks it first tells, and a direct message that does not go unmarks it,
so the next command tells instead."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from typing import Protocol

from bot.core.messages import Message
from bot.core.model.models import Suggestion
from bot.core.ports import Clock, DecksStore, OutreachStore
from bot.core.texts import decks as texts

CARD_OUTCOME = "outcome"  # the outreach kind (bot/store/outreach.py; at most 10 characters)


@dataclass(frozen=True)
class OutcomeNews:
    """One decided suggestion to tell its member about."""

    suggestion: Suggestion
    user_ref: str
    deck_name: str | None  # where an approved card went

    @property
    def local_date(self) -> date:
        return decision_date(self.suggestion)


def decision_date(s: Suggestion) -> date:
    assert s.decided_at is not None
    return s.decided_at.astimezone(UTC).date()


class CardOutcomeStore(DecksStore, OutreachStore, Protocol): ...


class CardOutcomeService:
    def __init__(self, store: CardOutcomeStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def due(self, grace: timedelta, platforms: Collection[str] | None = None) -> list[OutcomeNews]:
        """Decisions of the last `grace` not yet told, on these platforms, not yet sent (or given up)."""
        untold = await self.store.untold_outcomes(self.clock.now() - grace)
        untold = [
            (s, ref)
            for s, ref in untold
            if platforms is None or s.workspace_id.partition(":")[0] in platforms
        ]
        done = await self.store.outreach_done(CARD_OUTCOME, [(s.id, decision_date(s)) for s, _ in untold])
        names: dict[str, dict[str, str]] = {}
        found = []
        for s, ref in untold:
            if (s.id, decision_date(s)) in done:
                continue
            if s.workspace_id not in names:
                infos = await self.store.deck_infos(s.workspace_id)
                names[s.workspace_id] = {d.id: d.name for d in infos}
            deck = names[s.workspace_id].get(s.deck_id) if s.deck_id else None
            found.append(OutcomeNews(s, ref, deck))
        return found

    async def telling(self, news: OutcomeNews) -> bool:
        """Mark it told before the message goes; False: a command's reply told it already."""
        return await self.store.mark_told(news.suggestion.id, self.clock.now())

    async def not_told(self, news: OutcomeNews) -> None:
        """The message did not go: the member's next command tells them."""
        await self.store.unmark_told(news.suggestion.id)


def message(news: OutcomeNews) -> Message:
    return texts.outcome_told(news.suggestion, news.deck_name)

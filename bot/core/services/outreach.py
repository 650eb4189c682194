"""The claims of reminders and digests, whatever their kind: exactly once per (kind, target, local date),
held and fenced by the runner's ClaimKeeper (bot/schedule/claims.py) as daily posts are."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from bot.core.ports import Clock, OutreachStore


class OutreachClaims:
    def __init__(self, store: OutreachStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def claim(
        self, kind: str, items: Sequence[tuple[int, date]], claimed_by: str, claim_timeout: timedelta
    ) -> list[tuple[int, str] | None]:
        now = self.clock.now()
        return await self.store.claim_outreach(kind, items, now, claimed_by, now - claim_timeout)

    async def renew(self, held: Sequence[tuple[int, str]], attempt: bool = False) -> set[int]:
        return await self.store.renew_outreach_claims(held, self.clock.now(), attempt)

    async def sent(self, sent: Sequence[tuple[int, str]]) -> None:
        await self.store.mark_outreach_sent(sent, self.clock.now())

    async def failed(self, row_id: int, reason: str) -> None:
        """Not sent this time; the claim expires and a later sweep (within the grace window) tries again."""
        await self.store.record_outreach_failure(row_id, reason)

    async def given_up(self, row_id: int, reason: str) -> None:
        """Done without sending: the target can't be reached, so it is not retried."""
        await self.store.mark_outreach_sent([(row_id, "")], self.clock.now(), error=reason)

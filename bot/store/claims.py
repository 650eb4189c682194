"""Claims with a lease and a fence: one instance at a time acts on a row (a daily post; the same shape
suits per-member reminders and digests).

A claimable table has `id`, `claimed_at`, `claimed_by` (who, for people reading it), `claim_token` (new on
every claim and takeover), `attempts` and a column set when the work is done. A holder renews its claim by
(id, token); a takeover of a claim left unrenewed past the timeout gives the row a new token, so the old
holder's next renewal fails and it knows, before acting, that the row is no longer its own."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection


def new_token() -> str:
    return secrets.token_hex(8)


@dataclass(frozen=True)
class Claimable:
    """A table with claim columns; `done` names the column set once the work is done."""

    table: sa.Table
    done: str

    def _col(self, name: str) -> sa.Column[Any]:
        return self.table.c[name]

    async def renew(
        self, conn: AsyncConnection, held: Sequence[tuple[int, str]], now: datetime, attempt: bool = False
    ) -> set[int]:
        """Refresh the claims still ours and not done; the ids of those. `attempt` counts one more try."""
        if not held:
            return set()
        values: dict[str, object] = {"claimed_at": now}
        if attempt:
            values["attempts"] = self._col("attempts") + 1
        result = await conn.execute(
            sa.update(self.table)
            .where(
                sa.tuple_(self._col("id"), self._col("claim_token")).in_(list(held)),
                self._col(self.done).is_(None),
            )
            .values(**values)
            .returning(self._col("id"))
        )
        return {int(row_id) for row_id in result.scalars()}

    async def take_over(
        self, conn: AsyncConnection, row_id: int, now: datetime, claimed_by: str, stale_before: datetime
    ) -> str | None:
        """Claim a row left undone and unrenewed since before `stale_before`; its new token, or None."""
        token = new_token()
        result = await conn.execute(
            sa.update(self.table)
            .where(
                self._col("id") == row_id,
                self._col(self.done).is_(None),
                self._col("claimed_at") < stale_before,
            )
            .values(claimed_at=now, claimed_by=claimed_by, claim_token=token)
        )
        return token if result.rowcount == 1 else None

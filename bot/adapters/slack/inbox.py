"""The Slack inbox: acked requests kept in the database until they are handled.

Slack sends a click once; after the ack it is ours to finish. So a listener writes the request here and
acks only once the row is committed; the row is deleted when the work is done. Writes are group-committed:
listeners queue their rows and one writer commits everything queued in one transaction, so a burst of
clicks costs a few commits, not one each. A row names the instance holding it (`claimed_by`), renewed while
it lives; rows released by a stopping instance, or held by one whose lease lapsed (it crashed), are claimed
by exactly one instance (a conditional UPDATE), which finishes them."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.engine import writer
from bot.store.tables import slack_inbox

log = logging.getLogger(__name__)

t = slack_inbox


def new_owner() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Item:
    id: str
    kind: str  # command, action, answer, home
    body: dict[str, Any]
    received_at: datetime
    attempts: int = 1


class InboxError(RuntimeError):
    """The row could not be committed: the request must not be acked."""


class Inbox:
    def __init__(self, engine: AsyncEngine, lease_seconds: float, owner: str | None = None) -> None:
        self._writer = writer(engine)
        self.owner = owner or new_owner()
        self.lease = timedelta(seconds=lease_seconds)
        self._adds: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._dones: list[str] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._write_loop())

    async def add(self, kind: str, body: dict[str, Any]) -> Item:
        """Keep a request; returns once its row is committed (InboxError if it could not be)."""
        if self._task is None or self._closing:
            raise InboxError("the inbox is closed")
        now = datetime.now(UTC)
        item = Item(uuid.uuid4().hex, kind, body, now)
        row = {
            "id": item.id,
            "kind": kind,
            "body": json.dumps(body, separators=(",", ":")),
            "received_at": now,
            "claimed_by": self.owner,
            "claimed_at": now,
            "attempts": 1,
        }
        committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._adds.append((row, committed))
        self._wake.set()
        await committed
        return item

    def done(self, item_id: str) -> None:
        """Forget a handled request (committed with the next batch)."""
        self._dones.append(item_id)
        self._wake.set()

    async def _write_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            adds, self._adds = self._adds, []
            dones, self._dones = self._dones, []
            if adds or dones:
                await self._commit(adds, dones)
            elif self._closing:
                return

    async def _commit(
        self, adds: list[tuple[dict[str, Any], asyncio.Future[None]]], dones: list[str]
    ) -> None:
        try:
            async with self._writer.begin() as conn:
                if adds:
                    await conn.execute(sa.insert(t), [row for row, _ in adds])
                if dones:
                    await conn.execute(sa.delete(t).where(t.c.id.in_(dones)))
        except Exception as exc:
            log.warning("slack inbox write failed rows=%d done=%d error=%r", len(adds), len(dones), exc)
            for _, committed in adds:
                if not committed.done():
                    committed.set_exception(InboxError(repr(exc)))
            self._dones[:0] = dones  # tried again with the next batch; a row left behind is redone
            if not self._closing:
                await asyncio.sleep(0.2)
                self._wake.set()
            return
        for _, committed in adds:
            if not committed.done():
                committed.set_result(None)

    async def close(self) -> None:
        """Commit what is queued, then stop the writer."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None

    # -- claims ---------------------------------------------------------------------------------

    async def claim(self, limit: int) -> list[Item]:
        """Take up to `limit` rows nobody holds: released, or held by an instance whose lease lapsed."""
        if limit <= 0:
            return []
        now = datetime.now(UTC)
        free = sa.or_(
            t.c.claimed_by.is_(None), sa.and_(t.c.claimed_by != self.owner, t.c.claimed_at < now - self.lease)
        )
        async with self._writer.begin() as conn:
            ids = (
                (await conn.execute(sa.select(t.c.id).where(free).order_by(t.c.received_at).limit(limit)))
                .scalars()
                .all()
            )
            if not ids:
                return []
            # `free` again: of instances claiming at once, only one sees a row still free (PostgreSQL
            # re-checks it after the other's commit; SQLite runs one writer at a time).
            rows = (
                await conn.execute(
                    sa.update(t)
                    .where(t.c.id.in_(ids), free)
                    .values(claimed_by=self.owner, claimed_at=now, attempts=t.c.attempts + 1)
                    .returning(t.c.id, t.c.kind, t.c.body, t.c.received_at, t.c.attempts)
                )
            ).all()
        items = [Item(r.id, r.kind, json.loads(r.body), r.received_at, r.attempts) for r in rows]
        return sorted(items, key=lambda i: i.received_at)

    async def renew(self) -> None:
        """Keep our rows ours: a live instance's rows are never taken over."""
        async with self._writer.begin() as conn:
            await conn.execute(
                sa.update(t).where(t.c.claimed_by == self.owner).values(claimed_at=datetime.now(UTC))
            )

    async def release(self, ids: list[str]) -> None:
        """Hand rows we will not finish to whoever starts next (or another running instance)."""
        if not ids:
            return
        async with self._writer.begin() as conn:
            await conn.execute(
                sa.update(t)
                .where(t.c.id.in_(ids), t.c.claimed_by == self.owner)
                .values(claimed_by=None, claimed_at=None)
            )

"""Asks: creating them, answers typed and skips, and what a grade reads (one query)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from bot.core.model.models import AskRow, CardState, GradeContext
from bot.store.compiled import CompiledStatement
from bot.store.db import Db
from bot.store.rows import CARD_COLUMNS, ask_row, card_row, member_row, state_row
from bot.store.tables import asks, card_states, cards, members, workspaces

# Everything a grade reads, in one SELECT (StudyService.grade): the ask and its card, the workspace's
# timezone, the caller's member row, their state of the card, the card's active follow-up and their state
# of that. Only the ask and its card must exist; the rest is outer-joined and may come back NULL.
_caller = members.alias("caller")
_caller_state = card_states.alias("caller_state")
_followup = cards.alias("followup")
_followup_state = card_states.alias("followup_state")
_GRADE_CONTEXT = (
    sa.select(
        *[c.label(f"a_{c.name}") for c in asks.c],
        *[c.label(f"c_{c.name}") for c in CARD_COLUMNS],
        workspaces.c.timezone.label("w_timezone"),
        *[c.label(f"m_{c.name}") for c in _caller.c],
        *[c.label(f"s_{c.name}") for c in _caller_state.c],
        *[_followup.c[c.name].label(f"f_{c.name}") for c in CARD_COLUMNS],
        *[c.label(f"fs_{c.name}") for c in _followup_state.c],
    )
    .select_from(
        asks.join(cards, cards.c.id == asks.c.card_id)
        .join(workspaces, workspaces.c.id == asks.c.workspace_id)
        .outerjoin(
            _caller,
            sa.and_(
                _caller.c.workspace_id == sa.bindparam("workspace_id"),
                _caller.c.user_ref == sa.bindparam("user_ref"),
            ),
        )
        .outerjoin(
            _caller_state,
            sa.and_(_caller_state.c.member_id == _caller.c.id, _caller_state.c.card_id == cards.c.id),
        )
        .outerjoin(_followup, sa.and_(_followup.c.parent_id == cards.c.id, _followup.c.active.is_(True)))
        .outerjoin(
            _followup_state,
            sa.and_(_followup_state.c.member_id == _caller.c.id, _followup_state.c.card_id == _followup.c.id),
        )
    )
    .where(asks.c.id == sa.bindparam("ask_id"))
    .order_by(_followup.c.id)
    .limit(1)
)


class SqlAsks:
    def __init__(self, db: Db) -> None:
        self.db = db
        # Compiled once; on SQLite it runs on the grade lane (one hand-off), on PostgreSQL on asyncpg itself.
        self._grade_context = CompiledStatement("grade_context", _GRADE_CONTEXT, db.engine.dialect)

    async def create_ask(
        self,
        member_id: int,
        card_id: int,
        source: str,
        now: datetime,
        parent_ask_id: int | None = None,
        daily_post_id: int | None = None,
    ) -> int:
        async with self.db.writer.begin() as conn:
            workspace_id = (
                await conn.execute(sa.select(members.c.workspace_id).where(members.c.id == member_id))
            ).scalar_one()
            result = await conn.execute(
                sa.insert(asks)
                .values(
                    member_id=member_id,
                    workspace_id=workspace_id,
                    card_id=card_id,
                    source=source,
                    parent_ask_id=parent_ask_id,
                    daily_post_id=daily_post_id,
                    created_at=now,
                )
                .returning(asks.c.id)
            )
            return int(result.scalar_one())

    async def find_open_ask(self, member_id: int, card_id: int) -> int | None:
        query = (
            sa.select(asks.c.id)
            .where(
                asks.c.member_id == member_id,
                asks.c.card_id == card_id,
                asks.c.graded_at.is_(None),
                asks.c.skipped_at.is_(None),
            )
            .order_by(asks.c.id.desc())
            .limit(1)
        )
        async with self.db.engine.connect() as conn:
            value = (await conn.execute(query)).scalar_one_or_none()
        return int(value) if value is not None else None

    async def get_ask(self, ask_id: int) -> AskRow | None:
        query = (
            sa.select(asks, *[c.label(f"c_{c.name}") for c in CARD_COLUMNS])
            .join(cards, cards.c.id == asks.c.card_id)
            .where(asks.c.id == ask_id)
        )
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return ask_row(row) if row is not None else None

    async def grade_context(
        self, ask_id: int, workspace_id: str, user_ref: str, now: datetime
    ) -> GradeContext | None:
        del now  # everything is read as stored; the core compares due dates itself
        params = {"ask_id": ask_id, "workspace_id": workspace_id, "user_ref": user_ref}
        compiled = self._grade_context
        if self.db.lane is not None:
            rows = await self.db.lane.run(lambda conn: compiled.run(conn, params)[1])
            row = rows[0] if rows else None
        else:
            row = await self.db.read_retried(compiled, params)
        if row is None:
            return None
        return GradeContext(
            ask=ask_row(row, prefix="a_"),
            workspace_tz=row.w_timezone,
            member=member_row(row, prefix="m_") if row.m_id is not None else None,
            state=state_row(row, prefix="s_") if row.s_member_id is not None else None,
            followup=card_row(row, prefix="f_") if row.f_id is not None else None,
            followup_state=state_row(row, prefix="fs_") if row.fs_member_id is not None else None,
        )

    async def set_typed_answer(self, ask_id: int, text: str, now: datetime) -> bool:
        async with self.db.writer.begin() as conn:
            result = await conn.execute(
                sa.update(asks)
                .where(asks.c.id == ask_id, asks.c.graded_at.is_(None))
                .values(typed_answer=text, answered_at=now, skipped_at=None)
            )
        return result.rowcount == 1

    async def skip_ask(self, ask_id: int, now: datetime) -> bool:
        async with self.db.writer.begin() as conn:
            result = await conn.execute(
                sa.update(asks)
                .where(asks.c.id == ask_id, asks.c.graded_at.is_(None), asks.c.skipped_at.is_(None))
                .values(skipped_at=now)
            )
        return result.rowcount == 1

    async def get_card_state(self, member_id: int, card_id: int) -> CardState | None:
        query = sa.select(card_states).where(
            card_states.c.member_id == member_id, card_states.c.card_id == card_id
        )
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return state_row(row) if row is not None else None

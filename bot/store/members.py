"""Workspaces and their members."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from bot.core.model.models import MemberRow
from bot.store.db import Db
from bot.store.rows import member_row
from bot.store.tables import members, workspaces


class SqlMembers:
    def __init__(self, db: Db) -> None:
        self.db = db

    async def ensure_workspace(self, workspace_id: str, platform: str) -> str | None:
        async with self.db.engine.connect() as conn:
            tz = (
                await conn.execute(sa.select(workspaces.c.timezone).where(workspaces.c.id == workspace_id))
            ).first()
        if tz is not None:
            return str(tz.timezone) if tz.timezone else None
        async with self.db.writer.begin() as conn:
            await conn.execute(
                self.db.upsert(workspaces)
                .values(id=workspace_id, platform=platform, created_at=sa.func.now())
                .on_conflict_do_nothing(index_elements=["id"])
            )
        return None

    async def ensure_member(
        self, workspace_id: str, user_ref: str, display_name: str, timezone: str | None = None
    ) -> MemberRow:
        query = sa.select(members).where(
            members.c.workspace_id == workspace_id, members.c.user_ref == user_ref
        )
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if (
            row is not None
            and (not display_name or row.display_name == display_name)
            and (not timezone or row.timezone == timezone or row.timezone_chosen)
        ):
            return member_row(row)
        async with self.db.writer.begin() as conn:
            stmt = self.db.upsert(members).values(
                workspace_id=workspace_id,
                user_ref=user_ref,
                display_name=display_name[:100],
                timezone=timezone or None,
                created_at=sa.func.now(),
            )
            changed: dict[str, object] = {"display_name": display_name[:100]} if display_name else {}
            if timezone:
                # A zone the member chose in /settings wins over their profile's.
                changed["timezone"] = sa.case(
                    (members.c.timezone_chosen.is_(True), members.c.timezone), else_=timezone[:64]
                )
            if changed:
                stmt = stmt.on_conflict_do_update(index_elements=["workspace_id", "user_ref"], set_=changed)
            else:
                stmt = stmt.on_conflict_do_nothing(index_elements=["workspace_id", "user_ref"])
            await conn.execute(stmt)
            row = (await conn.execute(query)).one()
        return member_row(row)

    async def get_member(self, member_id: int) -> MemberRow | None:
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(sa.select(members).where(members.c.id == member_id))).first()
        return member_row(row) if row is not None else None

    async def choose_timezone(
        self, member_id: int, timezone: str, before: str | None, applies_from: datetime
    ) -> None:
        async with self.db.writer.begin() as conn:
            await conn.execute(
                sa.update(members)
                .where(members.c.id == member_id)
                .values(
                    timezone=timezone[:64],
                    timezone_chosen=True,
                    timezone_before=before[:64] if before else None,
                    timezone_from=applies_from,
                )
            )

    async def set_reminders(self, member_id: int, at: str | None) -> None:
        """Reminders at "HH:MM" (None: off); either way a pause is over."""
        async with self.db.writer.begin() as conn:
            await conn.execute(
                sa.update(members)
                .where(members.c.id == member_id)
                .values(reminder_time=at, reminders_paused=None)
            )

    async def pause_reminders(self, member_id: int, reason: str) -> None:
        async with self.db.writer.begin() as conn:
            await conn.execute(
                sa.update(members).where(members.c.id == member_id).values(reminders_paused=reason[:500])
            )

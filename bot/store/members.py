"""Workspaces and their members."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from bot.core.model.models import MemberRow
from bot.store.db import Db
from bot.store.engine import single_reads
from bot.store.rows import member_row
from bot.store.tables import members, workspaces

# A known caller in one read: the workspace's time zone and the member's row (absent when new).
_CALLER = (
    sa.select(workspaces.c.timezone.label("ws_timezone"), *(c.label(f"m_{c.name}") for c in members.c))
    .select_from(
        workspaces.outerjoin(
            members,
            sa.and_(
                members.c.workspace_id == workspaces.c.id,
                members.c.user_ref == sa.bindparam("b_user_ref", type_=members.c.user_ref.type),
            ),
        )
    )
    .where(workspaces.c.id == sa.bindparam("b_workspace", type_=workspaces.c.id.type))
)


class SqlMembers:
    def __init__(self, db: Db) -> None:
        self.db = db
        self._one_read = single_reads(db.engine)

    async def ensure_caller(
        self,
        workspace_id: str,
        platform: str,
        user_ref: str,
        display_name: str,
        timezone: str | None = None,
    ) -> tuple[str | None, MemberRow]:
        """ensure_workspace + ensure_member: one read (one checkout) when both are known and unchanged,
        as for nearly every command; otherwise the two, which write."""
        async with self._one_read.connect() as conn:
            row = (await conn.execute(_CALLER, {"b_workspace": workspace_id, "b_user_ref": user_ref})).first()
        if (
            row is not None
            and row.m_id is not None
            and (not display_name or row.m_display_name == display_name)
            and (not timezone or row.m_timezone == timezone or row.m_timezone_chosen)
        ):
            return (str(row.ws_timezone) if row.ws_timezone else None), member_row(row, "m_")
        workspace_tz = await self.ensure_workspace(workspace_id, platform)
        return workspace_tz, await self.ensure_member(workspace_id, user_ref, display_name, timezone)

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

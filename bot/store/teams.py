"""Teams: joining, leaving, names and sizes. Their scores are kept by grading and read by boards."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.model.models import TeamSize
from bot.store.db import Db
from bot.store.tables import members, teams


class SqlTeams:
    def __init__(self, db: Db) -> None:
        self.db = db

    async def join_team(self, member_id: int, workspace_id: str, name: str, now: datetime) -> str:
        key = name.casefold()
        async with self.db.writer.begin() as conn:
            await conn.execute(
                self.db.upsert(teams)
                .values(workspace_id=workspace_id, name=name, name_key=key, created_at=now)
                .on_conflict_do_nothing(index_elements=["workspace_id", "name_key"])
            )
            team = (
                await conn.execute(
                    sa.select(teams.c.id, teams.c.name).where(
                        teams.c.workspace_id == workspace_id, teams.c.name_key == key
                    )
                )
            ).one()
            old_team = await _lock_member_team(conn, member_id)
            if old_team != team.id:
                # Points stay with the team they were earned in; from now on they are earned for this one.
                await conn.execute(
                    sa.update(members).where(members.c.id == member_id).values(team_id=team.id)
                )
        return str(team.name)

    async def leave_team(self, member_id: int) -> str | None:
        async with self.db.writer.begin() as conn:
            old_team = await _lock_member_team(conn, member_id)
            if old_team is None:
                return None
            name = (await conn.execute(sa.select(teams.c.name).where(teams.c.id == old_team))).scalar_one()
            await conn.execute(sa.update(members).where(members.c.id == member_id).values(team_id=None))
        return str(name)

    async def team_name(self, team_id: int) -> str | None:
        async with self.db.engine.connect() as conn:
            value = (
                await conn.execute(sa.select(teams.c.name).where(teams.c.id == team_id))
            ).scalar_one_or_none()
        return str(value) if value is not None else None

    async def team_sizes(self, workspace_id: str) -> list[TeamSize]:
        query = (
            sa.select(teams.c.id, teams.c.name, sa.func.count(members.c.id).label("size"))
            .join(members, members.c.team_id == teams.c.id)
            .where(teams.c.workspace_id == workspace_id)
            .group_by(teams.c.id, teams.c.name)
        )
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        sizes = [TeamSize(r.id, r.name, int(r.size)) for r in rows]
        return sorted(sizes, key=lambda t: (-t.members, t.name.casefold()))


async def _lock_member_team(conn: AsyncConnection, member_id: int) -> int | None:
    """The member's team, with their row locked (PostgreSQL; SQLite writers hold the database lock)
    until the transaction ends: a grade of theirs counts wholly for the team before or after."""
    team_id: int | None = (
        await conn.execute(sa.select(members.c.team_id).where(members.c.id == member_id).with_for_update())
    ).scalar_one_or_none()
    return team_id

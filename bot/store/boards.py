"""Stats and boards: a member's numbers, the leaderboard, a member's rank, the team standings."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from bot.core.model.models import ALL_TIME_START, BoardRow, Grade, MemberStats, Period, TeamRow
from bot.store.db import Db
from bot.store.tables import asks, card_states, members, scores, team_scores, teams


class SqlBoards:
    def __init__(self, db: Db) -> None:
        self.db = db

    async def member_stats(self, member_id: int, now: datetime, week_start: date) -> MemberStats:
        async with self.db.engine.connect() as conn:
            learned, due = (
                await conn.execute(
                    sa.select(
                        sa.func.count(),
                        sa.func.coalesce(sa.func.sum(sa.case((card_states.c.due <= now, 1), else_=0)), 0),
                    ).where(card_states.c.member_id == member_id)
                )
            ).one()
            grade_rows = await conn.execute(
                sa.select(asks.c.grade, sa.func.count())
                .where(asks.c.member_id == member_id, asks.c.grade.is_not(None))
                .group_by(asks.c.grade)
            )
            grade_counts = {Grade(g): int(n) for g, n in grade_rows}
            point_rows = await conn.execute(
                sa.select(scores.c.period, scores.c.points).where(
                    scores.c.member_id == member_id,
                    sa.or_(
                        sa.and_(scores.c.period == Period.WEEK.value, scores.c.period_start == week_start),
                        sa.and_(scores.c.period == Period.ALL.value, scores.c.period_start == ALL_TIME_START),
                    ),
                )
            )
            points = {p: int(v) for p, v in point_rows}
        return MemberStats(
            cards_learned=int(learned),
            cards_due=int(due),
            grade_counts=grade_counts,
            points_week=points.get(Period.WEEK.value, 0),
            points_all=points.get(Period.ALL.value, 0),
        )

    async def leaderboard(
        self, workspace_id: str, period: Period, period_start: date, limit: int
    ) -> list[BoardRow]:
        query = (
            sa.select(
                scores.c.member_id,
                scores.c.points,
                members.c.display_name,
                members.c.user_ref,
                members.c.streak_current,
                members.c.last_study_day,
                members.c.streak_freezes,
            )
            .join(members, members.c.id == scores.c.member_id)
            .where(_board_filter(workspace_id, period, period_start), scores.c.points > 0)
            .order_by(scores.c.points.desc(), scores.c.member_id)
            .limit(limit)
        )
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        board: list[BoardRow] = []
        for index, row in enumerate(rows):
            # Competition ranking: equal points share a rank.
            rank = board[-1].rank if board and board[-1].points == row.points else index + 1
            board.append(
                BoardRow(
                    rank=rank,
                    member_id=row.member_id,
                    display_name=row.display_name or row.user_ref,
                    points=row.points,
                    streak_current=row.streak_current,
                    last_study_day=row.last_study_day,
                    streak_freezes=row.streak_freezes,
                )
            )
        return board

    async def member_rank(
        self, workspace_id: str, member_id: int, period: Period, period_start: date
    ) -> BoardRow | None:
        mine = (
            sa.select(
                scores.c.points,
                members.c.display_name,
                members.c.user_ref,
                members.c.streak_current,
                members.c.last_study_day,
                members.c.streak_freezes,
            )
            .join(members, members.c.id == scores.c.member_id)
            .where(_board_filter(workspace_id, period, period_start), scores.c.member_id == member_id)
        )
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(mine)).first()
            if row is None or row.points <= 0:
                return None
            ahead = (
                await conn.execute(
                    sa.select(sa.func.count()).where(
                        _board_filter(workspace_id, period, period_start), scores.c.points > row.points
                    )
                )
            ).scalar_one()
        return BoardRow(
            rank=int(ahead) + 1,
            member_id=member_id,
            display_name=row.display_name or row.user_ref,
            points=row.points,
            streak_current=row.streak_current,
            last_study_day=row.last_study_day,
            streak_freezes=row.streak_freezes,
        )

    async def team_standings(self, workspace_id: str, period: Period, period_start: date) -> list[TeamRow]:
        # Teams with at least one member, each with its running totals for the period (none yet: zero).
        has_members = sa.exists().where(members.c.team_id == teams.c.id)
        query = (
            sa.select(
                teams.c.id,
                teams.c.name,
                sa.func.coalesce(team_scores.c.points, 0).label("points"),
                sa.func.coalesce(team_scores.c.active, 0).label("active"),
            )
            .select_from(
                teams.outerjoin(
                    team_scores,
                    sa.and_(
                        team_scores.c.team_id == teams.c.id,
                        team_scores.c.period == period.value,
                        team_scores.c.period_start == period_start,
                    ),
                )
            )
            .where(teams.c.workspace_id == workspace_id, has_members)
        )
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        unranked = [TeamRow(0, r.id, r.name, int(r.points), int(r.active)) for r in rows]
        unranked.sort(key=lambda t: (-t.per_member, -t.points, t.name.lower()))
        ranked: list[TeamRow] = []
        for index, team in enumerate(unranked):
            same = ranked and ranked[-1].per_member == team.per_member
            rank = ranked[-1].rank if same else index + 1
            ranked.append(TeamRow(rank, team.team_id, team.name, team.points, team.active_members))
        return ranked


def _board_filter(workspace_id: str, period: Period, period_start: date) -> sa.ColumnElement[bool]:
    return sa.and_(
        scores.c.workspace_id == workspace_id,
        scores.c.period == period.value,
        scores.c.period_start == period_start,
    )

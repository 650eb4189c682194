"""Stats and boards: a member's numbers, the leaderboard, a member's rank, the team standings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from bot.core.model.models import ALL_TIME_START, Board, BoardRow, Grade, MemberStats, Period, TeamRow
from bot.store.db import Db
from bot.store.engine import single_reads
from bot.store.tables import (
    asks,
    board_counts,
    card_states,
    cards,
    decks,
    members,
    scores,
    team_scores,
    teams,
)

_WS = sa.bindparam("b_workspace", type_=scores.c.workspace_id.type)
_PERIOD = sa.bindparam("b_period", type_=scores.c.period.type)
_START = sa.bindparam("b_start", type_=scores.c.period_start.type)
_MEMBER = sa.bindparam("b_member", type_=scores.c.member_id.type)
_LIMIT = sa.bindparam("b_limit", type_=sa.Integer)
_ON_BOARD = sa.and_(scores.c.workspace_id == _WS, scores.c.period == _PERIOD, scores.c.period_start == _START)


def _ahead_of(points: sa.ColumnElement[Any]) -> sa.ScalarSelect[Any]:
    """How many members of the board have more points: a sum over the distinct scores above, read from
    `board_counts` (migration 0009), never a count of the members one by one."""
    return (
        sa.select(sa.func.coalesce(sa.func.sum(board_counts.c.members), 0))
        .where(
            board_counts.c.workspace_id == _WS,
            board_counts.c.period == _PERIOD,
            board_counts.c.period_start == _START,
            board_counts.c.points > points,
        )
        .scalar_subquery()
    )


def _board_statement() -> sa.CompoundSelect[Any]:
    """/leaderboard in one statement: the top rows (kind 0), the caller's row with the number of members
    ahead (kind 1) and the teams with their totals (kind 2). Built once; only the parameters change."""
    top = (
        sa.select(scores.c.member_id, scores.c.points)
        .where(_ON_BOARD, scores.c.points > 0)
        .order_by(scores.c.points.desc(), scores.c.member_id)
        .limit(_LIMIT)
        .cte("top_rows")
    )
    mine = (
        sa.select(scores.c.member_id, scores.c.points)
        .where(_ON_BOARD, scores.c.member_id == _MEMBER, scores.c.points > 0)
        .cte("my_row")
    )

    def member_part(kind: int, rows: sa.CTE, extra: sa.ColumnElement[Any]) -> sa.Select[Any]:
        return sa.select(
            sa.literal(kind, sa.Integer).label("kind"),
            members.c.id,
            members.c.display_name.label("name"),
            members.c.user_ref,
            rows.c.points,
            members.c.streak_current,
            members.c.last_study_day,
            members.c.streak_freezes,
            extra.label("extra"),
        ).join_from(rows, members, members.c.id == rows.c.member_id)

    has_members = sa.exists().where(members.c.team_id == teams.c.id)
    team_part = (
        sa.select(
            sa.literal(2, sa.Integer).label("kind"),
            teams.c.id,
            teams.c.name,
            sa.cast(sa.null(), members.c.user_ref.type),
            sa.func.coalesce(team_scores.c.points, 0),
            sa.cast(sa.null(), sa.Integer),
            sa.cast(sa.null(), members.c.last_study_day.type),
            sa.cast(sa.null(), sa.Integer),
            sa.func.coalesce(team_scores.c.active, 0),
        )
        .select_from(
            teams.outerjoin(
                team_scores,
                sa.and_(
                    team_scores.c.team_id == teams.c.id,
                    team_scores.c.period == _PERIOD,
                    team_scores.c.period_start == _START,
                ),
            )
        )
        .where(teams.c.workspace_id == _WS, has_members)
    )
    return sa.union_all(
        member_part(0, top, sa.cast(sa.null(), sa.Integer)),
        member_part(1, mine, _ahead_of(mine.c.points)),
        team_part,
    )


_BOARD = _board_statement()
_MEMBER_RANK = sa.select(_ahead_of(sa.bindparam("b_points", type_=sa.Integer)))


class SqlBoards:
    def __init__(self, db: Db) -> None:
        self.db = db
        self._one_read = single_reads(db.engine)

    async def member_stats(self, member_id: int, now: datetime, week_start: date) -> MemberStats:
        async with self.db.engine.connect() as conn:
            # Due: only what can be studied, as a reminder counts it (a removed deck's cards are not).
            studyable = sa.and_(card_states.c.due <= now, cards.c.active.is_(True), decks.c.active.is_(True))
            learned, due = (
                await conn.execute(
                    sa.select(
                        sa.func.count(),
                        sa.func.coalesce(sa.func.sum(sa.case((studyable, 1), else_=0)), 0),
                    )
                    .select_from(
                        card_states.join(cards, cards.c.id == card_states.c.card_id).join(
                            decks, decks.c.id == cards.c.deck_id
                        )
                    )
                    .where(card_states.c.member_id == member_id)
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
        return _ranked_top(
            [
                (
                    r.member_id,
                    r.display_name or r.user_ref,
                    r.points,
                    r.streak_current,
                    r.last_study_day,
                    r.streak_freezes,
                )
                for r in rows
            ]
        )

    async def board(
        self, workspace_id: str, member_id: int, period: Period, period_start: date, limit: int
    ) -> Board:
        params = {
            "b_workspace": workspace_id,
            "b_period": period.value,
            "b_start": period_start,
            "b_member": member_id,
            "b_limit": limit,
        }
        async with self._one_read.connect() as conn:
            rows = (await conn.execute(_BOARD, params)).all()
        top = sorted(
            (
                (r.id, r.name or r.user_ref, r.points, r.streak_current, r.last_study_day, r.streak_freezes)
                for r in rows
                if r.kind == 0
            ),
            key=lambda t: (-t[2], t[0]),
        )
        mine = next(
            (
                BoardRow(
                    int(r.extra) + 1,
                    r.id,
                    r.name or r.user_ref,
                    r.points,
                    r.streak_current,
                    r.last_study_day,
                    r.streak_freezes,
                )
                for r in rows
                if r.kind == 1
            ),
            None,
        )
        teams_found = [TeamRow(0, r.id, r.name, int(r.points), int(r.extra)) for r in rows if r.kind == 2]
        return Board(_ranked_top(top), mine, _ranked_teams(teams_found))

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
                    _MEMBER_RANK,
                    {
                        "b_workspace": workspace_id,
                        "b_period": period.value,
                        "b_start": period_start,
                        "b_points": row.points,
                    },
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
        return _ranked_teams([TeamRow(0, r.id, r.name, int(r.points), int(r.active)) for r in rows])


def _ranked_top(rows: Sequence[tuple[int, str, int, int, date | None, int]]) -> list[BoardRow]:
    """The top rows, best first, with competition ranks: equal points share a rank."""
    board: list[BoardRow] = []
    for index, (member_id, name, points, streak, last_day, freezes) in enumerate(rows):
        rank = board[-1].rank if board and board[-1].points == points else index + 1
        board.append(BoardRow(rank, member_id, name, points, streak, last_day, freezes))
    return board


def _ranked_teams(unranked: list[TeamRow]) -> list[TeamRow]:
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

"""team scores: points and active members per team and period, kept as running totals

Team standings used to sum every team member's `scores` row on every /leaderboard. From this revision
the store keeps `team_scores` in step with `scores` (on every grade, team join and team leave); the
upgrade fills it from the scores already there.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "team_scores",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("workspace_id", sa.String(length=100), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("active", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_team_scores_team_id_teams"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_team_scores_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("team_id", "period", "period_start", name=op.f("pk_team_scores")),
    )
    with op.batch_alter_table("team_scores", schema=None) as batch_op:
        batch_op.create_index(
            "ix_team_scores_board", ["workspace_id", "period", "period_start"], unique=False
        )

    # Backfill: each team's members' scores per period, as the store would have kept them.
    op.execute(
        """
        INSERT INTO team_scores (team_id, workspace_id, period, period_start, points, active)
        SELECT m.team_id, t.workspace_id, s.period, s.period_start,
               sum(s.points), sum(CASE WHEN s.points > 0 THEN 1 ELSE 0 END)
        FROM scores s
        JOIN members m ON m.id = s.member_id
        JOIN teams t ON t.id = m.team_id
        WHERE m.team_id IS NOT NULL
        GROUP BY m.team_id, t.workspace_id, s.period, s.period_start
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("team_scores", schema=None) as batch_op:
        batch_op.drop_index("ix_team_scores_board")
    op.drop_table("team_scores")

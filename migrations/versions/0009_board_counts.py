"""board counts: how many members hold each score, per board, for the caller's rank

A member's rank was `1 + count(*)` of the members with more points: a walk over the board that grew with
the caller's rank (40 ms for the last of 1M members). `board_counts` keeps, per board (workspace, period,
period start), how many members have each positive number of points; the rank is 1 + the sum of the counts
above the caller's points, a walk over distinct scores only. Kept in step with `scores` by every grade;
the upgrade fills it from the scores already there. A WITHOUT ROWID table on SQLite: the sum reads the
primary-key tree alone.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "board_counts",
        sa.Column("workspace_id", sa.String(length=100), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_board_counts_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id", "period", "period_start", "points", name=op.f("pk_board_counts")
        ),
        sqlite_with_rowid=False,
    )
    op.execute(
        """
        INSERT INTO board_counts (workspace_id, period, period_start, points, members)
        SELECT workspace_id, period, period_start, points, count(*)
        FROM scores
        WHERE points > 0
        GROUP BY workspace_id, period, period_start, points
        """
    )


def downgrade() -> None:
    op.drop_table("board_counts")

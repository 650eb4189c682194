"""claim tokens for daily posts; team points earned in the team; one card's points once a day

- `daily_posts.claim_token`: a fresh token on every claim and takeover, so a runner can prove, right
  before it posts, that the claim is still its own (a takeover gives the row a new token).
- `team_member_scores`: each member's points per team and period, earned while in that team. Team totals
  (`team_scores`) no longer move with a member who switches; `active` counts the members who earned
  points for the team in the period. The upgrade counts the points already there for the member's
  current team, as the totals did until now.
- `card_points`: one row per (member, card, local day) whose grade earned points; a second grade of the
  same card that day earns none.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("daily_posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim_token", sa.String(length=32), nullable=True))

    op.create_table(
        "team_member_scores",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_team_member_scores_team_id_teams"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_team_member_scores_member_id_members")
        ),
        sa.PrimaryKeyConstraint(
            "team_id", "member_id", "period", "period_start", name=op.f("pk_team_member_scores")
        ),
    )
    op.execute(
        """
        INSERT INTO team_member_scores (team_id, member_id, period, period_start, points)
        SELECT m.team_id, s.member_id, s.period, s.period_start, s.points
        FROM scores s JOIN members m ON m.id = s.member_id
        WHERE m.team_id IS NOT NULL AND s.points > 0
        """
    )

    op.create_table(
        "card_points",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("ask_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_card_points_member_id_members")),
        sa.ForeignKeyConstraint(["card_id"], ["cards.id"], name=op.f("fk_card_points_card_id_cards")),
        sa.PrimaryKeyConstraint("member_id", "card_id", "local_day", name=op.f("pk_card_points")),
    )


def downgrade() -> None:
    op.drop_table("card_points")
    op.drop_table("team_member_scores")
    with op.batch_alter_table("daily_posts", schema=None) as batch_op:
        batch_op.drop_column("claim_token")

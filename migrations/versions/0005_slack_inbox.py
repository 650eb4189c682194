"""slack inbox: acked Slack requests not yet finished

A Slack request is written here before it is acked and deleted once it is handled, so work that Slack
will never send again survives a stop or a crash: the next instance to start (or any running one, once the
holder's lease lapses) claims the row and finishes it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slack_inbox",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_inbox")),
    )
    op.create_index(op.f("ix_slack_inbox_claimed_at"), "slack_inbox", ["claimed_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_slack_inbox_claimed_at"), table_name="slack_inbox")
    op.drop_table("slack_inbox")

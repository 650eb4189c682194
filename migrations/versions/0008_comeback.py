"""member settings, streak freezes, and claims for reminders and weekly digests

- `members`: the time zone a member chose with /settings (`timezone_chosen`; a profile zone no longer
  overrides it), the zone before the change and the moment the new one applies (the next local day), the
  reminder time (NULL: off) and why reminders were paused, streak freezes held and days they saved.
- `outreach`: one claimable row per (kind, target, local date), `kind` "reminder" (target: a member) or
  "digest" (target: a daily channel); the same lease-and-fence claims as daily posts (bot/store/claims.py).
- `daily_channels.digest`: whether the channel gets the weekly digest.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN, not batch mode: on SQLite a batch rebuilds the table (copy, drop, rename),
    # and dropping `members` fails while other tables' rows refer to it with foreign keys on.
    for table, column in (
        ("members", sa.Column("timezone_chosen", sa.Boolean(), server_default=sa.false(), nullable=False)),
        ("members", sa.Column("timezone_before", sa.String(length=64), nullable=True)),
        ("members", sa.Column("timezone_from", sa.DateTime(), nullable=True)),
        ("members", sa.Column("reminder_time", sa.String(length=5), nullable=True)),
        ("members", sa.Column("reminders_paused", sa.Text(), nullable=True)),
        ("members", sa.Column("streak_freezes", sa.Integer(), server_default="0", nullable=False)),
        ("members", sa.Column("streak_saved", sa.Integer(), server_default="0", nullable=False)),
        ("daily_channels", sa.Column("digest", sa.Boolean(), server_default=sa.true(), nullable=False)),
    ):
        op.add_column(table, column)
    op.create_index("ix_members_reminder_time", "members", ["reminder_time"], unique=False)

    op.create_table(
        "outreach",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=False),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("message_ref", sa.String(length=200), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach")),
        sa.UniqueConstraint("kind", "target_id", "local_date", name="uq_outreach_kind_target_date"),
    )


def downgrade() -> None:
    op.drop_table("outreach")
    op.drop_index("ix_members_reminder_time", table_name="members")
    # ALTER TABLE DROP COLUMN (SQLite 3.35+), not a batch rebuild: see upgrade().
    for table, column in (
        ("daily_channels", "digest"),
        ("members", "streak_saved"),
        ("members", "streak_freezes"),
        ("members", "reminders_paused"),
        ("members", "reminder_time"),
        ("members", "timezone_from"),
        ("members", "timezone_before"),
        ("members", "timezone_chosen"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")

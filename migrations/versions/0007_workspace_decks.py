"""workspace decks and suggested cards

- `decks` gains an owner: `workspace_id` (NULL for the bundled decks of `content/`), the `name` members
  type, `added_by` and `added_at`. A workspace deck's id is namespaced, so it never collides with another
  workspace's or a bundled one; a removed deck is retired (`active` false), its cards and progress kept.
- `card_suggestions`: cards members suggested, waiting for an admin's review; the outcome is told to the
  member once (`told_at`).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("decks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("workspace_id", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("name", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("added_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("added_at", sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_decks_workspace_id_workspaces"), "workspaces", ["workspace_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_decks_workspace"), ["workspace_id"], unique=False)

    op.create_table(
        "card_suggestions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.String(length=100), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("suggester", sa.String(length=100), nullable=False),
        sa.Column("deck_id", sa.String(length=100), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("followup_question", sa.Text(), server_default="", nullable=False),
        sa.Column("followup_answer", sa.Text(), server_default="", nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("told_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_card_suggestions_workspace_id_workspaces")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_card_suggestions_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_suggestions")),
    )
    op.create_index(
        "ix_card_suggestions_status", "card_suggestions", ["workspace_id", "status"], unique=False
    )
    op.create_index("ix_card_suggestions_member", "card_suggestions", ["member_id", "told_at"], unique=False)


def downgrade() -> None:
    # Before 0007 every deck is a bundled one, offered in every workspace: a workspace's own decks (and
    # their cards) are retired first, kept as a removed deck is, never handed to everyone.
    owned = sa.table("decks", sa.column("id"), sa.column("workspace_id"), sa.column("active", sa.Boolean))
    their_cards = sa.table("cards", sa.column("deck_id"), sa.column("active", sa.Boolean))
    workspace_decks = sa.select(owned.c.id).where(owned.c.workspace_id.is_not(None))
    op.execute(their_cards.update().where(their_cards.c.deck_id.in_(workspace_decks)).values(active=False))
    op.execute(owned.update().where(owned.c.workspace_id.is_not(None)).values(active=False))
    op.drop_index("ix_card_suggestions_member", table_name="card_suggestions")
    op.drop_index("ix_card_suggestions_status", table_name="card_suggestions")
    op.drop_table("card_suggestions")
    with op.batch_alter_table("decks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decks_workspace"))
        batch_op.drop_constraint(batch_op.f("fk_decks_workspace_id_workspaces"), type_="foreignkey")
        batch_op.drop_column("added_at")
        batch_op.drop_column("added_by")
        batch_op.drop_column("name")
        batch_op.drop_column("workspace_id")

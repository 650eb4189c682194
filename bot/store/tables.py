"""The schema, in SQLAlchemy Core. It changes only together with a migration in migrations/versions/."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC, so SQLite and PostgreSQL give the same values back."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


workspaces = sa.Table(
    "workspaces",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("platform", sa.String(20), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

teams = sa.Table(
    "teams",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", sa.String(100), sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("name", sa.String(40), nullable=False),
    sa.Column("name_key", sa.String(40), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("workspace_id", "name_key", name="uq_teams_workspace_name"),
)

members = sa.Table(
    "members",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", sa.String(100), sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("user_ref", sa.String(100), nullable=False),
    sa.Column("display_name", sa.String(100), nullable=False, server_default=""),
    sa.Column("timezone", sa.String(64), nullable=True),
    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="SET NULL"), nullable=True),
    sa.Column("streak_current", sa.Integer, nullable=False, server_default="0"),
    sa.Column("streak_best", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_study_day", sa.Date, nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    # Set by /settings: the member's own zone, which a platform profile's zone no longer overrides; the zone
    # before the change keeps counting days until `timezone_from` (the next local day).
    sa.Column("timezone_chosen", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("timezone_before", sa.String(64), nullable=True),
    sa.Column("timezone_from", UTCDateTime(), nullable=True),
    sa.Column("reminder_time", sa.String(5), nullable=True),  # "HH:MM" local; NULL: reminders off
    sa.Column("reminders_paused", sa.Text, nullable=True),  # why reminders stopped (a blocked DM)
    sa.Column("streak_freezes", sa.Integer, nullable=False, server_default="0"),
    sa.Column("streak_saved", sa.Integer, nullable=False, server_default="0"),
    sa.UniqueConstraint("workspace_id", "user_ref", name="uq_members_workspace_user"),
)
sa.Index("ix_members_team", members.c.team_id)
sa.Index("ix_members_reminder_time", members.c.reminder_time)

decks = sa.Table(
    "decks",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("credit", sa.Text, nullable=False, server_default=""),
    sa.Column("source", sa.String(500), nullable=False, server_default=""),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    # A workspace deck (NULL for a bundled one): its owner, the name members type, who added it and when.
    # Its id is namespaced (bot/core/decks/workspace.py); `active` false is a retired deck.
    sa.Column("workspace_id", sa.String(100), sa.ForeignKey("workspaces.id"), nullable=True),
    sa.Column("name", sa.String(60), nullable=True),
    sa.Column("added_by", sa.String(100), nullable=True),
    sa.Column("added_at", UTCDateTime(), nullable=True),
)
sa.Index("ix_decks_workspace", decks.c.workspace_id)

cards = sa.Table(
    "cards",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("deck_id", sa.String(100), sa.ForeignKey("decks.id"), nullable=False),
    sa.Column("card_key", sa.String(120), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("cards.id"), nullable=True),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("key_terms", sa.JSON, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.UniqueConstraint("deck_id", "card_key", name="uq_cards_deck_key"),
)

card_states = sa.Table(
    "card_states",
    metadata,
    sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), primary_key=True),
    sa.Column("card_id", sa.Integer, sa.ForeignKey("cards.id"), primary_key=True),
    sa.Column("state", sa.Integer, nullable=False),
    sa.Column("step", sa.Integer, nullable=True),
    sa.Column("stability", sa.Float, nullable=True),
    sa.Column("difficulty", sa.Float, nullable=True),
    sa.Column("due", UTCDateTime(), nullable=False),
    sa.Column("last_review", UTCDateTime(), nullable=True),
    sa.Column("reps", sa.Integer, nullable=False, server_default="0"),
    sa.Column("lapses", sa.Integer, nullable=False, server_default="0"),
)
sa.Index("ix_card_states_member_due", card_states.c.member_id, card_states.c.due)

# Every question shown to a member is an ask; a graded ask is a review.
asks = sa.Table(
    "asks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), nullable=False),
    sa.Column("workspace_id", sa.String(100), sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("card_id", sa.Integer, sa.ForeignKey("cards.id"), nullable=False),
    sa.Column("source", sa.String(20), nullable=False),
    sa.Column("parent_ask_id", sa.Integer, sa.ForeignKey("asks.id"), nullable=True),
    sa.Column("daily_post_id", sa.Integer, nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("typed_answer", sa.Text, nullable=True),
    sa.Column("answered_at", UTCDateTime(), nullable=True),
    sa.Column("skipped_at", UTCDateTime(), nullable=True),
    sa.Column("grade", sa.Integer, nullable=True),
    sa.Column("graded_at", UTCDateTime(), nullable=True),
    sa.Column("points", sa.Integer, nullable=False, server_default="0"),
)
sa.Index("ix_asks_member_graded", asks.c.member_id, asks.c.graded_at)
sa.Index("ix_asks_daily_post", asks.c.daily_post_id)

# Points per member and period, kept up to date on every grade so leaderboards read an index, not reviews.
scores = sa.Table(
    "scores",
    metadata,
    sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), primary_key=True),
    sa.Column("period", sa.String(8), primary_key=True),
    sa.Column("period_start", sa.Date, primary_key=True),
    sa.Column("workspace_id", sa.String(100), sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("points", sa.Integer, nullable=False),
    sa.Column("reviews", sa.Integer, nullable=False),
)
sa.Index(
    "ix_scores_board",
    scores.c.workspace_id,
    scores.c.period,
    scores.c.period_start,
    scores.c.points,
)

# How many members hold each positive score on each board, kept in step with `scores` by every grade: a
# member's rank is 1 + the sum of the counts above their points (a walk over distinct scores, not members).
board_counts = sa.Table(
    "board_counts",
    metadata,
    sa.Column("workspace_id", sa.String(100), sa.ForeignKey("workspaces.id"), primary_key=True),
    sa.Column("period", sa.String(8), primary_key=True),
    sa.Column("period_start", sa.Date, primary_key=True),
    sa.Column("points", sa.Integer, primary_key=True),
    sa.Column("members", sa.Integer, nullable=False),
    sqlite_with_rowid=False,  # the sum reads the primary-key tree alone
)

# Daily question of the day: one row per configured channel ...
daily_channels = sa.Table(
    "daily_channels",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", sa.String(100), sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("platform", sa.String(20), nullable=False),
    sa.Column("channel_ref", sa.String(100), nullable=False),
    sa.Column("post_time", sa.String(5), nullable=False),  # "HH:MM", local to `timezone`
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("deck_id", sa.String(100), sa.ForeignKey("decks.id"), nullable=True),
    sa.Column("weekdays", sa.Integer, nullable=False, server_default="127"),  # bit 0 = Monday
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("digest", sa.Boolean, nullable=False, server_default=sa.true()),  # the weekly digest
    sa.Column("paused_reason", sa.Text, nullable=True),
    sa.Column("paused_at", UTCDateTime(), nullable=True),
    # Occurrences before this moment are never posted, so a new or changed schedule starts from now.
    sa.Column("active_from", UTCDateTime(), nullable=False),
    # The channel's shuffled walk through its deck: order from (order_seed, cycle), cards used counted.
    sa.Column("order_seed", sa.String(32), nullable=False),
    sa.Column("cycle", sa.Integer, nullable=False, server_default="0"),
    sa.Column("position", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("workspace_id", "channel_ref", name="uq_daily_channels_workspace_channel"),
)

# ... and one row per (channel, local date): the claim that makes each day's post exactly-once.
daily_posts = sa.Table(
    "daily_posts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("channel_id", sa.Integer, sa.ForeignKey("daily_channels.id"), nullable=False),
    sa.Column("local_date", sa.Date, nullable=False),
    sa.Column("card_id", sa.Integer, sa.ForeignKey("cards.id"), nullable=False),
    sa.Column("cycle", sa.Integer, nullable=False),
    sa.Column("claimed_at", UTCDateTime(), nullable=False),
    sa.Column("claimed_by", sa.String(100), nullable=False),
    # New on every claim and takeover: the holder proves the claim is still its own (bot/store/claims.py).
    sa.Column("claim_token", sa.String(32), nullable=True),
    sa.Column("posted_at", UTCDateTime(), nullable=True),
    sa.Column("message_ref", sa.String(200), nullable=True),
    sa.Column("thread_ref", sa.String(200), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.UniqueConstraint("channel_id", "local_date", name="uq_daily_posts_channel_date"),
)
sa.Index("ix_daily_posts_date", daily_posts.c.local_date)

# Slack OAuth (HTTP mode for many workspaces), read and written only by slack-sdk's SQLAlchemy stores
# (bot/adapters/slack/oauth.py). Copied from slack-sdk's table builders; naive UTC, as those stores write.
slack_installations = sa.Table(
    "slack_installations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("client_id", sa.String(32), nullable=False),
    sa.Column("app_id", sa.String(32), nullable=False),
    sa.Column("enterprise_id", sa.String(32)),
    sa.Column("enterprise_name", sa.String(200)),
    sa.Column("enterprise_url", sa.String(200)),
    sa.Column("team_id", sa.String(32)),
    sa.Column("team_name", sa.String(200)),
    sa.Column("bot_token", sa.String(200)),
    sa.Column("bot_id", sa.String(32)),
    sa.Column("bot_user_id", sa.String(32)),
    sa.Column("bot_scopes", sa.String(1000)),
    sa.Column("bot_refresh_token", sa.String(200)),
    sa.Column("bot_token_expires_at", sa.DateTime),
    sa.Column("user_id", sa.String(32), nullable=False),
    sa.Column("user_token", sa.String(200)),
    sa.Column("user_scopes", sa.String(1000)),
    sa.Column("user_refresh_token", sa.String(200)),
    sa.Column("user_token_expires_at", sa.DateTime),
    sa.Column("incoming_webhook_url", sa.String(200)),
    sa.Column("incoming_webhook_channel", sa.String(200)),
    sa.Column("incoming_webhook_channel_id", sa.String(200)),
    sa.Column("incoming_webhook_configuration_url", sa.String(200)),
    sa.Column("is_enterprise_install", sa.Boolean, nullable=False),
    sa.Column("token_type", sa.String(32)),
    sa.Column("installed_at", sa.DateTime, nullable=False),
)
sa.Index(
    "slack_installations_idx",
    slack_installations.c.client_id,
    slack_installations.c.enterprise_id,
    slack_installations.c.team_id,
    slack_installations.c.user_id,
    slack_installations.c.installed_at,
)

slack_bots = sa.Table(
    "slack_bots",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("client_id", sa.String(32), nullable=False),
    sa.Column("app_id", sa.String(32), nullable=False),
    sa.Column("enterprise_id", sa.String(32)),
    sa.Column("enterprise_name", sa.String(200)),
    sa.Column("team_id", sa.String(32)),
    sa.Column("team_name", sa.String(200)),
    sa.Column("bot_token", sa.String(200)),
    sa.Column("bot_id", sa.String(32)),
    sa.Column("bot_user_id", sa.String(32)),
    sa.Column("bot_scopes", sa.String(1000)),
    sa.Column("bot_refresh_token", sa.String(200)),
    sa.Column("bot_token_expires_at", sa.DateTime),
    sa.Column("is_enterprise_install", sa.Boolean, nullable=False),
    sa.Column("installed_at", sa.DateTime, nullable=False),
)
sa.Index(
    "slack_bots_idx",
    slack_bots.c.client_id,
    slack_bots.c.enterprise_id,
    slack_bots.c.team_id,
    slack_bots.c.installed_at,
)

slack_oauth_states = sa.Table(
    "slack_oauth_states",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("state", sa.String(200), nullable=False),
    sa.Column("expire_at", sa.DateTime, nullable=False),
)

# Points per team and period, kept in step with `scores` in the same transaction as every grade and every
# team join or leave, so team standings read one row per team instead of walking every member.
# `active` counts the team's members with points > 0 in that period.
team_scores = sa.Table(
    "team_scores",
    metadata,
    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("period", sa.String(8), primary_key=True),
    sa.Column("period_start", sa.Date, primary_key=True),
    sa.Column("workspace_id", sa.String(100), sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("points", sa.Integer, nullable=False),
    sa.Column("active", sa.Integer, nullable=False),
)
sa.Index("ix_team_scores_board", team_scores.c.workspace_id, team_scores.c.period, team_scores.c.period_start)

# Points per member, team and period, earned while in that team: team totals keep what was earned there
# when a member moves on, and `team_scores.active` counts the members with points here.
team_member_scores = sa.Table(
    "team_member_scores",
    metadata,
    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), primary_key=True),
    sa.Column("period", sa.String(8), primary_key=True),
    sa.Column("period_start", sa.Date, primary_key=True),
    sa.Column("points", sa.Integer, nullable=False),
)

# One row per card whose grade earned points, per member and local day: the same card graded again that
# day (from another channel's daily post, or back from "Again") earns nothing more.
card_points = sa.Table(
    "card_points",
    metadata,
    sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), primary_key=True),
    sa.Column("card_id", sa.Integer, sa.ForeignKey("cards.id"), primary_key=True),
    sa.Column("local_day", sa.Date, primary_key=True),
    sa.Column("ask_id", sa.Integer, nullable=False),
)

# Slack requests acked and not yet finished (bot/adapters/slack/inbox.py): written before the ack, deleted
# when done; a row left by a stop or a crash is claimed and finished by the next instance to start.
slack_inbox = sa.Table(
    "slack_inbox",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("received_at", UTCDateTime(), nullable=False),
    sa.Column("claimed_by", sa.String(64), nullable=True),
    sa.Column("claimed_at", UTCDateTime(), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
)
sa.Index("ix_slack_inbox_claimed_at", slack_inbox.c.claimed_at)

# Cards members suggested for a workspace deck, waiting for an admin (or decided and not yet told).
card_suggestions = sa.Table(
    "card_suggestions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", sa.String(100), sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), nullable=False),
    sa.Column("suggester", sa.String(100), nullable=False),
    sa.Column("deck_id", sa.String(100), nullable=True),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("followup_question", sa.Text, nullable=False, server_default=""),
    sa.Column("followup_answer", sa.Text, nullable=False, server_default=""),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("decided_by", sa.String(100), nullable=True),
    sa.Column("decided_at", UTCDateTime(), nullable=True),
    sa.Column("told_at", UTCDateTime(), nullable=True),
)
sa.Index("ix_card_suggestions_status", card_suggestions.c.workspace_id, card_suggestions.c.status)
sa.Index("ix_card_suggestions_member", card_suggestions.c.member_id, card_suggestions.c.told_at)

# Reminders (target: a member) and weekly digests (target: a daily channel): one row per (kind, target,
# local date) is the claim that makes each exactly-once, with the daily posts' lease and fence
# (bot/store/claims.py).
outreach = sa.Table(
    "outreach",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("target_id", sa.Integer, nullable=False),
    sa.Column("local_date", sa.Date, nullable=False),
    sa.Column("claimed_at", UTCDateTime(), nullable=False),
    sa.Column("claimed_by", sa.String(100), nullable=False),
    sa.Column("claim_token", sa.String(32), nullable=True),
    sa.Column("sent_at", UTCDateTime(), nullable=True),
    sa.Column("message_ref", sa.String(200), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.UniqueConstraint("kind", "target_id", "local_date", name="uq_outreach_kind_target_date"),
)

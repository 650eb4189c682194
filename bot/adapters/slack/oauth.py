"""OAuth installations and install states, kept in the bot's own database through slack-sdk's stores.

The stores' tables are created by migrations/versions/0003_slack_oauth.py, never by create_tables():
the schema changes only through Alembic."""

from __future__ import annotations

from typing import Any

from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.engine import writer

# The least the app needs: the slash command and shortcuts, posting (daily posts and ephemeral replies),
# users.info (members' time zones; workspace admins from members), reading files members send
# (files.info, private URLs), uploading files (exports) and opening the DM they go to.
# views.open/publish need no scope. im:write also opens the DMs reminders go to.
BOT_SCOPES = ("commands", "chat:write", "users:read", "files:read", "files:write", "im:write")
STATE_SECONDS = 600


def installation_store(client_id: str, engine: AsyncEngine) -> Any:
    """Installations per workspace (tables slack_installations, slack_bots)."""
    # Plain BEGIN: it is read on every request; installs (the only writes) are rare.
    return AsyncSQLAlchemyInstallationStore(client_id=client_id, engine=engine)


def state_store(engine: AsyncEngine, expiration_seconds: int = STATE_SECONDS) -> Any:
    """One-time OAuth `state` values (table slack_oauth_states)."""
    # consume() reads then deletes: take SQLite's write lock up front so two installs can't deadlock.
    return AsyncSQLAlchemyOAuthStateStore(expiration_seconds=expiration_seconds, engine=writer(engine))


def authorize_url(api_url: str) -> str:
    """Slack's authorize page beside its Web API: slack.com for Slack, slack-gov.com for GovSlack,
    the mock in tests."""
    base = api_url.rstrip("/")
    if base.endswith("/api"):
        base = base[: -len("/api")]
    return f"{base}/oauth/v2/authorize"

"""HTTP mode with the OAuth install flow: installations in the bot's own database, workspaces apart."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import aiohttp
import pytest
import sqlalchemy as sa
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from bot.adapters.slack.oauth import BOT_SCOPES
from bot.core.messages import Message
from bot.core.service import StudyService
from bot.schedule.poster import PermanentPostError
from bot.store import tables
from tests.fakes.slack.driver import Member, SlackHarness
from tests.fakes.slack.fixtures import mock_slack, running
from tests.fakes.slack.server import Install, MockSlack, texts

__all__ = ["mock_slack"]
# slack-sdk's oauth.v2.access call still uses aiohttp's BasicAuth.
pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "oauth-client-secret"


def shape(table: sa.Table) -> list[tuple[str, str, bool]]:
    return [(c.name, repr(c.type), bool(c.nullable)) for c in table.columns]


def test_our_tables_match_slack_sdks_stores() -> None:
    """Migration 0003 and bot/store/tables.py copy slack-sdk's tables; an upgrade changing them shows here."""
    theirs = sa.MetaData()
    builders = {
        "slack_installations": SQLAlchemyInstallationStore.build_installations_table(
            theirs, "slack_installations"
        ),
        "slack_bots": SQLAlchemyInstallationStore.build_bots_table(theirs, "slack_bots"),
        "slack_oauth_states": SQLAlchemyOAuthStateStore.build_oauth_states_table(
            theirs, "slack_oauth_states"
        ),
    }
    for name, table in builders.items():
        assert shape(tables.metadata.tables[name]) == shape(table), name


async def test_migrations_create_the_oauth_tables(service: StudyService) -> None:
    async with service.store.engine.connect() as conn:  # type: ignore[attr-defined]
        found = await conn.run_sync(
            lambda c: {
                t: {col["name"] for col in sa.inspect(c).get_columns(t)}
                for t in ("slack_installations", "slack_bots", "slack_oauth_states")
            }
        )
    for name, columns in found.items():
        assert columns == set(tables.metadata.tables[name].columns.keys()), name


@pytest.fixture
async def oauth_app(mock_slack: MockSlack, service: StudyService, db_url: str) -> AsyncIterator[SlackHarness]:
    mock_slack.installs = {
        "code-1": Install("T1", "xoxb-team-1", "U_ALICE"),
        "code-2": Install("T2", "xoxb-team-2", "U_BOB"),
    }
    app = running(
        mock_slack,
        service,
        slack_bot_token="",
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        database_url=db_url,
    )
    async with app as harness:
        yield harness


async def install(slack: SlackHarness, code: str) -> tuple[int, str]:
    """An admin's browser: open /slack/install, follow Slack's consent page back with `code`."""
    async with aiohttp.ClientSession() as browser:  # a fresh browser: its own state cookie
        async with browser.get(slack.url + "/slack/install") as page:
            assert page.status == 200
            cookie = page.headers["Set-Cookie"].split(";")[0]
            link = html.unescape(re.search(r'<a href="([^"]+)"', await page.text())[1])  # type: ignore[index]
        authorize = urlparse(link)
        query = parse_qs(authorize.query)
        assert link.startswith(slack.mock.base + "/oauth/v2/authorize")  # beside SLACK_API_URL
        # Exactly the manifest's scopes (test_slack_app checks BOT_SCOPES against the manifest).
        assert query["client_id"] == [CLIENT_ID] and query["scope"] == [",".join(BOT_SCOPES)]
        callback = f"{slack.url}/slack/oauth_redirect?code={code}&state={query['state'][0]}"
        async with browser.get(callback, headers={"Cookie": cookie}) as done:
            return done.status, await done.text()


async def test_install_stores_the_workspace_and_keeps_workspaces_apart(oauth_app: SlackHarness) -> None:
    slack, mock = oauth_app, oauth_app.mock
    assert mock.calls_to("auth.test") == []  # nothing to check before anyone installs
    for code in ("code-1", "code-2"):
        status, _ = await install(slack, code)
        assert status == 200
    access = mock.calls_to("oauth.v2.access")
    assert [c.args["code"] for c in access] == ["code-1", "code-2"]
    found = await slack.adapter.installation_store.async_find_installation(enterprise_id=None, team_id="T2")
    assert (found.team_id, found.bot_token, found.user_id) == ("T2", "xoxb-team-2", "U_BOB")

    alice, bob = Member("U_ALICE", "T1", "alice"), Member("U_BOB", "T2", "bob")
    answer = await slack.press(alice, await slack.ask(alice, "quiz"), "reveal:")
    assert "Good" in texts((await slack.press(alice, answer, "grade:", label="Good"))["blocks"])
    board = texts((await slack.ask(bob, "leaderboard"))["blocks"])
    assert "Nobody has studied in this period yet" in board and "alice" not in board
    assert "1. alice (you)" in texts((await slack.ask(alice, "leaderboard"))["blocks"])

    # Each workspace's calls carry its own token.
    tokens = {c.token for c in mock.calls_to("auth.test")}
    assert tokens == {"xoxb-team-1", "xoxb-team-2"}
    await slack.adapter.poster.post(
        "T2", "C0TEAM2CH", Message(title="Question of the day", private=False), "t"
    )
    assert {c.token for c in mock.calls_to("chat.postMessage")} == {"xoxb-team-2"}


async def test_an_uninstalled_workspace_gets_nothing(oauth_app: SlackHarness) -> None:
    stranger = Member("U_X", "T9")
    url = await oauth_app.command(stranger, "quiz")
    await oauth_app.mock.settle()
    (told,) = oauth_app.mock.responses[url.rsplit("/", 1)[1]]
    assert "not installed in this workspace" in told["text"] and "blocks" not in told
    with pytest.raises(PermanentPostError, match="not installed in Slack workspace T9"):
        await oauth_app.adapter.poster.post("T9", "C0NOWHERE1", Message(title="q", private=False), "t")


async def test_a_forged_install_callback_stores_nothing(oauth_app: SlackHarness) -> None:
    async with aiohttp.ClientSession() as browser:
        async with browser.get(oauth_app.url + "/slack/oauth_redirect?code=code-1&state=forged") as done:
            assert done.status in (400, 401)
    assert oauth_app.mock.calls_to("oauth.v2.access") == []
    store: Any = oauth_app.adapter.installation_store
    assert await store.async_find_installation(enterprise_id=None, team_id="T1") is None

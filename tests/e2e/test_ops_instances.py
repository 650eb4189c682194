"""Two `studybot run` processes on one PostgreSQL database, both serving the same Slack workspace (HTTP
mode, against one mock Slack): one daily post per channel, one grade for a click both receive, the same
leaderboard from either. Needs STUDYBOT_TEST_POSTGRES_URL."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bot.bootstrap import open_engine
from tests.db import POSTGRES_ENV
from tests.e2e.test_ops_sigterm import ALICE, BotProcess, bot_env, click_body, command, send
from tests.fakes.slack.driver import Member
from tests.fakes.slack.server import MockSlack, texts

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get(POSTGRES_ENV), reason=f"{POSTGRES_ENV} not set: PostgreSQL tests skipped"
    ),
]

ADMIN = Member("U_ADMIN", name="admin")
CHANNEL = ALICE.channel


async def metric_sum(http: aiohttp.ClientSession, bot: BotProcess, name: str) -> float:
    async with http.get(f"http://127.0.0.1:{bot.health_port}/metrics") as response:
        text = await response.text()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + "{"))


@pytest.fixture
def pg_url() -> Iterator[str]:
    from tests.db import fresh_postgres_database

    with fresh_postgres_database() as url:
        yield url


async def test_two_instances_on_one_postgres_post_once_grade_once_and_agree(
    tmp_path: Path, pg_url: str
) -> None:
    mock = MockSlack()
    mock.admins.add(ADMIN.user)
    await mock.start()
    # Written the way an operator would: postgresql://, no driver named.
    database_url = make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    bots = [
        BotProcess(bot_env(tmp_path / name, mock, DATABASE_URL=database_url), tmp_path) for name in ("a", "b")
    ]
    engine = open_engine(pg_url)
    try:
        # Started together on an empty database: only one may migrate it.
        await asyncio.gather(*(bot.start() for bot in bots))
        await asyncio.gather(*(bot.wait_for_log("running: ") for bot in bots))
        first, second = bots
        async with aiohttp.ClientSession() as http:
            configured = await mock.reply(
                await command(http, mock, first, "daily set 09:00 UTC", ADMIN), within=10
            )
            assert "Daily question set" in texts(configured["blocks"])

            # Both are asked to post now, at the same moment.
            urls = await asyncio.gather(*(command(http, mock, bot, "daily now", ADMIN) for bot in bots))
            answers = [texts((await mock.reply(u, within=10))["blocks"]) for u in urls]
            await mock.settle()
            posts = [
                c
                for c in mock.calls_to("chat.postMessage")
                if c.args.get("channel") == CHANNEL and not c.args.get("thread_ts")
            ]
            assert len(posts) == 1, answers
            assert sum("Posted today's question" in a for a in answers) <= 1

            # Alice opens the daily question on one instance, then her grade click reaches both.
            public = {"blocks": posts[0].args["blocks"]}
            reveal, reveal_url = click_body(mock, public, "daily:", ephemeral=False)
            await send(http, first, reveal)
            revealed = await mock.reply(reveal_url, within=10)
            grade, grade_url = click_body(mock, revealed, "grade:")
            await asyncio.gather(send(http, first, grade), send(http, second, grade))
            await mock.replies(grade_url, 2, within=10)
            async with engine.connect() as conn:
                graded = await conn.scalar(sa.text("SELECT count(*) FROM asks WHERE grade IS NOT NULL"))
            assert graded == 1

            boards = await asyncio.gather(*(command(http, mock, bot, "leaderboard") for bot in bots))
            shown = [texts((await mock.reply(u, within=10))["blocks"]) for u in boards]
            assert shown[0] == shown[1] and "alice" in shown[0]

            counted = [await metric_sum(http, bot, "studybot_grades_total") for bot in bots]
            assert sum(counted) == 1  # each instance counts only what it wrote
            posted = [await metric_sum(http, bot, "studybot_daily_posts_total") for bot in bots]
            assert sum(posted) == 1

        stopped = await asyncio.gather(*(bot.terminate() for bot in bots))
        assert [code for code, _elapsed in stopped] == [0, 0], "\n\n".join(b.output for b in bots)
    finally:
        await asyncio.gather(*(bot.kill() for bot in bots))
        await engine.dispose()
        await mock.stop()

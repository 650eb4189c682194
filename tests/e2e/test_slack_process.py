"""A whole `studybot run` process in Slack HTTP mode, its Web API pointed at the mock Slack."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp

from tests.conftest import CONTENT, REPO
from tests.fakes.slack.driver import Member, command_body
from tests.fakes.slack.fixtures import mock_slack
from tests.fakes.slack.server import BOT_TOKEN, SECRET, MockSlack, buttons, signed_headers, texts
from tests.support.network import free_port

__all__ = ["mock_slack"]

STUDYBOT = Path(sys.executable).parent / "studybot"


async def wait_for_port(port: int, process: asyncio.subprocess.Process, within: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        assert process.returncode is None, "studybot run exited early"
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise AssertionError(f"nothing listening on {port}")


async def test_studybot_run_serves_slack_against_a_mock(mock_slack: MockSlack, tmp_path: Path) -> None:
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DISCORD_", "STUDYBOT_", "DATABASE_"))
    }
    env.update(
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_URL=mock_slack.api_url,
        SLACK_PORT=str(port),
        STUDYBOT_DATA_DIR=str(tmp_path / "data"),
        STUDYBOT_CONTENT=str(CONTENT),
        STUDYBOT_MIGRATIONS=str(REPO / "migrations"),
    )
    process = await asyncio.create_subprocess_exec(
        str(STUDYBOT), "run", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        await wait_for_port(port, process)
        assert [c.token for c in mock_slack.calls_to("auth.test")] == [BOT_TOKEN]  # checked at start
        body, url = command_body(mock_slack, Member("U_ALICE", name="alice"), "quiz")
        headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_headers(body)}
        async with aiohttp.ClientSession() as http:
            async with http.post(
                f"http://127.0.0.1:{port}/slack/events", data=body, headers=headers
            ) as response:
                assert response.status == 200
        question = await mock_slack.reply(url, within=10)
        assert question["response_type"] == "ephemeral"
        assert "What Is Deep Learning" in texts(question["blocks"])
        assert buttons(question["blocks"])[0]["value"].startswith("reveal:")
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 15)
    assert process.returncode == 0, stderr.decode()[-2000:]

"""A real `studybot run` (Slack HTTP mode, against the mock Slack) stopped with SIGTERM in the middle of
a grade: the grade is written and answered, the process exits 0 within 10 seconds and says so, and no
secret from its environment shows up anywhere in its output."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from bot.bootstrap import open_core
from bot.config import Settings
from bot.ops.metrics import Metrics
from bot.runner import _start, _stop_all
from tests.e2e.test_ops_logs import SIGNING_SECRET, SLACK_BOT_TOKEN, STUDYBOT, assert_clean, base_env
from tests.fakes.slack.driver import Member, click_payload, command_body
from tests.fakes.slack.server import MockSlack, buttons, signed_headers
from tests.support.network import free_port

REPO = Path(__file__).resolve().parents[2]
ALICE = Member("U_ALICE", name="alice")


class BotProcess:
    """`studybot run` in a subprocess, its output collected line by line as it comes."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd
        self.lines: list[str] = []
        self.slack_port = int(env["SLACK_PORT"])
        self.health_port = int(env["STUDYBOT_HEALTH_PORT"])
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    async def start(self) -> None:
        self._proc = await asyncio.create_subprocess_exec(
            *STUDYBOT,
            "run",
            env=self.env,
            cwd=self.cwd,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        async for line in self._proc.stdout:
            self.lines.append(line.decode(errors="replace").rstrip("\n"))

    async def wait_for_log(self, text: str, within: float = 30) -> None:
        deadline = time.monotonic() + within
        while not any(text in line for line in self.lines):
            assert self._proc is not None
            if self._proc.returncode is not None or time.monotonic() > deadline:
                raise AssertionError(f"no log line with {text!r}:\n{self.output}")
            await asyncio.sleep(0.05)

    async def terminate(self, within: float = 15) -> tuple[int, float]:
        """SIGTERM; returns the exit code and the seconds it took to exit."""
        assert self._proc is not None
        sent = time.monotonic()
        self._proc.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(self._proc.wait(), within)
        except TimeoutError:
            self._proc.kill()
            code = await self._proc.wait()
        elapsed = time.monotonic() - sent
        if self._reader is not None:
            await self._reader
        return code, elapsed

    async def kill(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            self._proc.kill()
            await self._proc.wait()
        if self._reader is not None:
            await self._reader


def bot_env(tmp_path: Path, mock: MockSlack, **extra: str) -> dict[str, str]:
    return base_env(
        tmp_path,
        SLACK_BOT_TOKEN=SLACK_BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=mock.api_url,
        SLACK_PORT=str(free_port()),
        STUDYBOT_HEALTH_PORT=str(free_port()),
        **extra,
    )


async def send(http: aiohttp.ClientSession, bot: BotProcess, body: str) -> None:
    """Deliver a request to the bot as Slack does: form-encoded and signed."""
    headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_headers(body, SIGNING_SECRET)}
    url = f"http://127.0.0.1:{bot.slack_port}/slack/events"
    async with http.post(url, data=body.encode(), headers=headers) as response:
        assert response.status == 200, await response.text()


async def command(
    http: aiohttp.ClientSession, mock: MockSlack, bot: BotProcess, text: str, member: Member = ALICE
) -> str:
    """Type `/study text` as `member`; returns the response_url the bot answers on."""
    body, reply_url = command_body(mock, member, text)
    await send(http, bot, body)
    return reply_url


def click_body(
    mock: MockSlack, message: dict[str, Any], prefix: str, member: Member = ALICE, ephemeral: bool = True
) -> tuple[str, str]:
    """A signed-to-be click on the button whose value starts with `prefix`, and its response_url."""
    button = next(b for b in buttons(message["blocks"]) if b["value"].startswith(prefix))
    payload, reply_url = click_payload(mock, member, button, ephemeral)
    return urlencode({"payload": json.dumps(payload)}), reply_url


class SlowMockSlack(MockSlack):
    """Takes `delay` seconds to accept a reply, so a grade is still being answered when SIGTERM comes."""

    delay = 0.0

    async def _response(self, request: web.Request) -> web.Response:
        await asyncio.sleep(self.delay)
        return await super()._response(request)


async def health(http: aiohttp.ClientSession, bot: BotProcess) -> tuple[int, dict[str, Any]]:
    async with http.get(f"http://127.0.0.1:{bot.health_port}/healthz") as response:
        return response.status, await response.json()


async def test_sigterm_finishes_the_grade_in_flight_and_exits_0_within_10_seconds(tmp_path: Path) -> None:
    mock = SlowMockSlack()
    await mock.start()
    bot = BotProcess(bot_env(tmp_path, mock), tmp_path)
    try:
        await bot.start()
        await bot.wait_for_log("running: ")
        async with aiohttp.ClientSession() as http:
            status, body = await health(http, bot)
            assert (
                status == 200
                and body["database"] == "ok"
                and set(body["adapters"]) == {"slack", "daily", "outreach"}
            )

            question = await mock.reply(await command(http, mock, bot, "quiz"), within=10)
            body_, reveal_url = click_body(mock, question, "reveal:")
            await send(http, bot, body_)
            revealed = await mock.reply(reveal_url)

            mock.delay = 2.0
            grade, grade_url = click_body(mock, revealed, "grade:")
            await send(http, bot, grade)  # acked at once; the answer is still on its way
            await asyncio.sleep(0.3)
            code, elapsed = await bot.terminate()
            answered = mock.responses.get(grade_url.rsplit("/", 1)[1], [])
    finally:
        await bot.kill()
        await mock.stop()

    assert code == 0, bot.output
    assert elapsed < 10, f"took {elapsed:.1f}s to stop\n{bot.output}"
    assert "stopped cleanly" in bot.output
    assert len(answered) == 1, f"the grade in flight was not answered\n{bot.output}"
    with sqlite3.connect(tmp_path / "data" / "studybot.db") as db:
        assert db.execute("SELECT count(*) FROM asks WHERE grade IS NOT NULL").fetchone() == (1,)
    assert_clean(bot.output)


class Stuck:
    """A component whose stop() never returns, like an adapter waiting on a dead socket."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.stop_called = False

    async def start(self) -> None:
        await asyncio.sleep(3600)

    async def stop(self) -> None:
        self.stop_called = True
        await asyncio.sleep(3600)


async def test_a_component_that_hangs_on_stop_cannot_hold_up_the_exit(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", content_dirs=())
    core = await open_core(settings, metrics=Metrics())
    stuck, after = Stuck("discord"), Stuck("slack")
    loop = asyncio.get_running_loop()
    began = loop.time()
    clean = await _stop_all([after, stuck], core, None, began + 2.5)  # stopped newest first
    assert loop.time() - began < 3
    assert not clean
    assert stuck.stop_called and after.stop_called  # the hang did not skip the next one


async def test_a_stop_signal_during_a_slow_start_cancels_it() -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.1, stop.set)
    assert await asyncio.wait_for(_start(Stuck("discord"), stop), 2) is False

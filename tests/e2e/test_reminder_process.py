"""Due-card reminders from a whole `studybot run` process, on Discord (fake gateway and REST API) and on
Slack (HTTP mode against the mock Slack): the runner's sweep at start catches up on a reminder that came
due a few minutes ago, sends it once by direct message, and its Start review button leads to a graded card.

The database is prepared in this process first (the same file the process then opens): yesterday the
member got a card wrong, so it is due now; their zone is one where it is daytime now, and their reminder
time three minutes ago there."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import aiohttp
import pytest
import sqlalchemy as sa

from bot.bootstrap import build_service
from bot.config import Settings
from bot.core.commands import run_text_command
from bot.core.messages import Message
from bot.core.model.models import Caller, Grade
from bot.core.service import StudyService
from bot.schedule.outreach import OutreachRunner
from bot.schedule.poster import PostRef
from bot.store.tables import asks
from tests.conftest import CONTENT, REPO
from tests.e2e.test_discord_process import STUDYBOT, Process, run_env
from tests.e2e.test_slack_process import wait_for_port
from tests.fakes.discord.driver import DiscordDriver, button
from tests.fakes.discord.gateway import FakeGateway, fake_gateway
from tests.fakes.discord.server import GUILD_ID, UPDATE_MESSAGE, User
from tests.fakes.slack.driver import Member, SlackHarness, click_payload
from tests.fakes.slack.fixtures import mock_slack
from tests.fakes.slack.server import BOT_TOKEN, SECRET, TEAM, MockSlack, buttons, texts
from tests.support.clock import FakeClock
from tests.support.network import free_port

__all__ = ["fake_gateway", "mock_slack"]  # fixtures

WITHIN = 15.0
# Zones without a date line between them, 4 or 5 hours apart: at any moment it is daytime in one.
ZONES = ("Pacific/Honolulu", "America/Bogota", "Africa/Abidjan", "Asia/Karachi", "Asia/Tokyo")
ALICE = User(1001, "Alice")
KENJI = Member("U_KENJI", name="kenji", channel="DU_KENJI")  # a DM's channel, as conversations.open names it


def daytime_zone(now: datetime) -> str:
    """A zone where it is between 06:00 and 18:00 now: a reminder three minutes ago was earlier today."""
    return next(z for z in ZONES if 6 <= now.astimezone(ZoneInfo(z)).hour < 18)


class Recorder:
    """A platform's direct messages for a second runner in this process: records what it would send."""

    def __init__(self, platform: str) -> None:
        self.platform = platform
        self.sent: list[tuple[str, str, Message]] = []

    async def dm(self, workspace_ref: str, user_ref: str, message: Message) -> PostRef:
        self.sent.append((workspace_ref, user_ref, message))
        return PostRef(f"dm/{user_ref}")


@dataclass
class Prepared:
    service: StudyService
    clock: FakeClock
    who: Caller

    def now(self) -> None:
        self.clock.set(datetime.now(UTC))

    async def grades(self) -> list[Grade]:
        """The member's grades, as the database has them, oldest first."""
        engine = self.service.store.engine  # type: ignore[attr-defined]
        query = sa.select(asks.c.grade).where(asks.c.grade.is_not(None)).order_by(asks.c.id)
        async with engine.connect() as conn:
            return [Grade(g) for (g,) in await conn.execute(query)]

    async def sent_once(self) -> None:
        """Another runner on the same database (another instance, or this one restarted) finds nothing
        left to send: the reminder of the day is claimed in the database."""
        self.now()
        recorder = Recorder(self.who.platform)
        again = OutreachRunner(self.service, {self.who.platform: recorder}, instance="second")
        # Claimed by the process: at most "taken" here, while it records the send.
        assert (await again.sweep())["sent"] == 0
        assert recorder.sent == []
        # Once recorded as sent, it is not even looked for again that day.
        deadline = asyncio.get_running_loop().time() + WITHIN
        while await again.reminders_due():
            assert asyncio.get_running_loop().time() < deadline, "the send was never recorded"
            await asyncio.sleep(0.05)
        assert sum((await again.sweep()).values()) == 0 and recorder.sent == []


@asynccontextmanager
async def prepare(tmp_path: Path, who: Caller) -> AsyncIterator[Prepared]:
    """The database `studybot run` will open, with `who`'s reminder due now."""
    now = datetime.now(UTC)
    zone = daytime_zone(now)
    at = (now.astimezone(ZoneInfo(zone)) - timedelta(minutes=3)).strftime("%H:%M")
    clock = FakeClock(now - timedelta(days=2))
    service = await build_service(database_url(tmp_path), [CONTENT], clock)
    try:
        # The zone is chosen two days ago (a change applies from the next day), the card got wrong
        # yesterday (due again minutes later), the reminder time set now.
        reply = await run_text_command(service, who, f"/settings timezone {zone}")
        assert isinstance(reply, Message) and not reply.is_error, reply.title
        clock.set(now - timedelta(days=1))
        card = await service.quiz(who)
        graded = await service.act(who, f"grade:{card.actions[0].id.split(':')[1]}:again")
        assert isinstance(graded, Message) and not graded.is_error, graded.title
        clock.set(datetime.now(UTC))
        reply = await run_text_command(service, who, f"/settings reminders {at}")
        assert isinstance(reply, Message) and not reply.is_error, reply.title
        [job] = await service.reminders.due(timedelta(hours=6), {who.platform})
        assert (job.due, job.streak_at_stake) == (1, 1), "a card due, and yesterday's streak at stake"
        yield Prepared(service, clock, who)
    finally:
        await service.store.close()


def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'studybot.db'}"


@pytest.fixture
async def alice(tmp_path: Path) -> AsyncIterator[Prepared]:
    async with prepare(tmp_path, Caller("discord", str(GUILD_ID), str(ALICE.id), "Alice")) as ready:
        yield ready


@pytest.fixture
async def kenji(tmp_path: Path) -> AsyncIterator[Prepared]:
    async with prepare(tmp_path, Caller("slack", TEAM, KENJI.user, "kenji")) as ready:
        yield ready


# -- Discord ----------------------------------------------------------------------------------------


async def test_discord_reminder_dm_from_the_process_leads_to_a_graded_card(
    alice: Prepared, fake_gateway: FakeGateway, tmp_path: Path
) -> None:
    rest = fake_gateway.rest
    assert rest is not None
    port = free_port()
    env = run_env(fake_gateway, tmp_path, port)
    env["DATABASE_URL"] = database_url(tmp_path)
    process = Process(env, tmp_path, port, tmp_path / "discord.log")
    try:
        await process.start()
        # The sweep at start: the DM channel is opened, then the reminder posted in it.
        posted = await rest.wait_for(lambda: rest.received("POST", r"^/channels/\d+/messages$"), WITHIN)
        [opened] = rest.received("POST", "^/users/@me/channels$")
        assert str(opened.body["recipient_id"]) == str(ALICE.id)
        dm_channel = rest.dm_channels[ALICE.id]
        [reminder_post] = posted
        assert reminder_post.path == f"/channels/{dm_channel}/messages"
        assert reminder_post.body["allowed_mentions"]["parse"] == []
        reminder = next(m for m in rest.messages.values() if m["channel_id"] == str(dm_channel))
        assert "1 card due for review" in json.dumps(reminder["embeds"], ensure_ascii=False)
        await alice.sent_once()

        # Start review, clicked in the DM (over the gateway), then Reveal, then Good.
        await process.wait_connected()
        bot = DiscordDriver(rest, deliver=fake_gateway.interaction, within=WITHIN)
        card = await bot.click(reminder, button(reminder, "Start review"), ALICE, dm=True)
        assert not card.latest.title.startswith("⚠"), card.latest.title
        reveal = await bot.click(card.message, button(card.message, "reveal:"), ALICE, dm=True)
        assert reveal.callback.type == UPDATE_MESSAGE and "Model answer" in reveal.callback.text()
        graded = await bot.click(reveal.message, button(reveal.message, "Good"), ALICE, dm=True)
        assert graded.callback.title.startswith("Good — next review"), graded.callback.title
        assert await alice.grades() == [Grade.AGAIN, Grade.GOOD]
        assert len(rest.received("POST", r"^/channels/\d+/messages$")) == 1, "one reminder only"
    finally:
        assert await process.stop() == 0, process.output()
    assert "Traceback" not in process.log.read_text(), process.output()


# -- Slack ------------------------------------------------------------------------------------------


async def test_slack_reminder_dm_from_the_process_leads_to_a_graded_card(
    kenji: Prepared, mock_slack: MockSlack, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DISCORD_", "STUDYBOT_", "DATABASE_"))
    }
    env.update(
        DATABASE_URL=database_url(tmp_path),
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_URL=mock_slack.api_url,
        SLACK_PORT=str(port),
        STUDYBOT_DATA_DIR=str(tmp_path / "data"),
        STUDYBOT_CONTENT=str(CONTENT),
        STUDYBOT_MIGRATIONS=str(REPO / "migrations"),
    )
    log_path = tmp_path / "slack.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            str(STUDYBOT), "run", cwd=tmp_path, env=env, stdout=log, stderr=log
        )
    try:
        # The sweep at start: chat.postMessage with the member's user id as the channel, a DM.
        [sent] = await mock_slack.wait_for("chat.postMessage", within=WITHIN)
        assert sent.args["channel"] == KENJI.user
        assert "1 card due for review" in texts(sent.args["blocks"]) and sent.args["text"]
        await kenji.sent_once()

        # Start review, pressed in the DM (a block_actions payload, signed), then Reveal, then Good.
        await wait_for_port(port, process)
        async with aiohttp.ClientSession() as http:
            adapter: Any = SimpleNamespace(port=port, settings=Settings())
            slack = SlackHarness(mock_slack, adapter, http)
            # Slack sends the whole message along when the one clicked is not ephemeral.
            start = next(b for b in buttons(sent.args["blocks"]) if b["text"]["text"] == "Start review")
            payload, url = click_payload(mock_slack, KENJI, start, ephemeral=False)
            payload["message"] = {"type": "message", "ts": "1700000000.000001", "blocks": sent.args["blocks"]}
            status, _ = await slack.post(urlencode({"payload": json.dumps(payload)}))
            assert status == 200
            card = await mock_slack.reply(url, within=WITHIN)
            assert "Reveal" in str(card["blocks"]), texts(card["blocks"])
            answer = await slack.press(KENJI, card, "reveal:")
            graded = await slack.press(KENJI, answer, "grade:", label="Good")
            assert "Good — next review" in texts(graded["blocks"]), texts(graded["blocks"])
        assert await kenji.grades() == [Grade.AGAIN, Grade.GOOD]
        assert len(mock_slack.calls_to("chat.postMessage")) == 1, "one reminder only"
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 20)
        assert code == 0, log_path.read_text(errors="replace")[-3000:]
    assert "Traceback" not in log_path.read_text(), log_path.read_text()[-3000:]

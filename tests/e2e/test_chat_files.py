"""Team decks from chat files, in whole `studybot run` processes: on Discord (fake gateway, REST API and
CDN) and on Slack (HTTP mode against the mock Slack, its files.info, private URLs and upload calls). An
admin imports a file, studies it with /quiz DECK and exports it back as a file; a member's import is
refused; "Make a study card" opens the card form with the message's text."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest

from bot.adapters.discord.commands import MAKE_CARD
from bot.adapters.slack.files import CARD_SHORTCUT, FILE_INPUT
from bot.config import Settings
from tests.conftest import CONTENT, REPO
from tests.e2e.test_discord_process import Process, run_env
from tests.e2e.test_slack_process import wait_for_port
from tests.fakes.discord.driver import DiscordDriver
from tests.fakes.discord.gateway import FakeGateway, fake_gateway
from tests.fakes.discord.server import ADMIN_PERMISSIONS, MESSAGE, MODAL, User, walk
from tests.fakes.slack.driver import Member, SlackHarness
from tests.fakes.slack.fixtures import mock_slack
from tests.fakes.slack.server import BOT_TOKEN, SECRET, MockSlack, texts
from tests.support.network import free_port

__all__ = ["fake_gateway", "mock_slack"]

STUDYBOT = Path(sys.executable).parent / "studybot"
WITHIN = 15.0
OWLS = b"question,answer\nWhat do owls eat?,Voles and mice\nHow do owls hunt at night?,By hearing\n"
ADA = User(1003, "Ada", permissions=ADMIN_PERMISSIONS)
BEN = User(1004, "Ben")


# -- Discord ----------------------------------------------------------------------------------------


async def test_discord_import_study_export_and_make_a_card(fake_gateway: FakeGateway, tmp_path: Path) -> None:
    rest = fake_gateway.rest
    assert rest is not None
    port = free_port()
    env = run_env(fake_gateway, tmp_path, port) | {"DISCORD_CDN_URL": rest.cdn_base}
    process = Process(env, tmp_path, port, tmp_path / "discord.log")
    try:
        await process.start()
        await process.wait_connected()
        bot = DiscordDriver(rest, deliver=fake_gateway.interaction, within=WITHIN)

        # A member's file is refused without being fetched; an admin's is fetched from the CDN.
        refused = await bot.slash(
            "deck", BEN, sub="import", attachments={"file": rest.attach("owls.csv", OWLS)}
        )
        assert refused.latest.ephemeral and "admin" in refused.latest.text().lower()
        assert rest.cdn_requests == []
        # Files off Discord's CDN, or bigger than 5 MB by Discord's own count, are refused unread.
        foreign = rest.attach("owls.csv", OWLS) | {"url": "https://example.com/owls.csv"}
        huge = rest.attach("owls.csv", OWLS) | {"size": 6_000_000}
        for bad, why in ((foreign, "only fetch files from Discord"), (huge, "too big: the limit is 5 MB")):
            answer = await bot.slash("deck", ADA, sub="import", attachments={"file": bad})
            assert answer.latest.ephemeral and why in answer.latest.title
        assert rest.cdn_requests == []
        imported = await bot.slash(
            "deck", ADA, sub="import", attachments={"file": rest.attach("owls.csv", OWLS)}
        )
        assert imported.latest.title == "Deck “owls” imported", imported.latest.text()
        assert len(rest.cdn_requests) == 1

        # Studied like any deck.
        quiz = await bot.slash("quiz", BEN, options={"deck": "owls"})
        assert quiz.latest.type == MESSAGE and "owls" in quiz.latest.text()
        assert "What do owls eat?" in quiz.latest.text() or "How do owls hunt" in quiz.latest.text()

        # Exported as an attachment on the private reply; the Markdown has both cards.
        exported = await bot.slash("deck", BEN, sub="export", options={"deck": "owls"})
        assert exported.latest.ephemeral
        [(name, data)] = exported.latest.files
        assert name == "owls.md" and b"What do owls eat?" in data and b"By hearing" in data

        # A message becomes a card: the form opens with the message as the answer.
        opened = await bot.message_action(MAKE_CARD, BEN, "Owls swallow prey whole.")
        assert opened.callback.type == MODAL
        inputs = {c["custom_id"]: c for c in walk(opened.callback.data["components"]) if c.get("type") == 4}
        assert inputs["answer"]["value"] == "Owls swallow prey whole."
    finally:
        assert await process.stop() == 0, process.output()


# -- Slack ------------------------------------------------------------------------------------------


@pytest.fixture
async def slack_process(mock_slack: MockSlack, tmp_path: Path) -> AsyncIterator[SlackHarness]:
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
        SLACK_FILES_URL=mock_slack.files_url,
        SLACK_ADMIN_IDS="U_ADA",
        SLACK_PORT=str(port),
        STUDYBOT_DATA_DIR=str(tmp_path / "data"),
        STUDYBOT_CONTENT=str(CONTENT),
        STUDYBOT_MIGRATIONS=str(REPO / "migrations"),
    )
    log = (tmp_path / "slack.log").open("wb")
    process = await asyncio.create_subprocess_exec(str(STUDYBOT), "run", cwd=tmp_path, env=env, stderr=log)
    try:
        await wait_for_port(port, process)
        async with aiohttp.ClientSession() as http:
            adapter: Any = SimpleNamespace(port=port, settings=Settings())
            yield SlackHarness(mock_slack, adapter, http)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 15)
        log.close()
    assert process.returncode == 0, (tmp_path / "slack.log").read_text()[-2000:]


async def test_slack_import_study_export_and_make_a_card(
    slack_process: SlackHarness, mock_slack: MockSlack
) -> None:
    slack, ada, ben = slack_process, Member("U_ADA", name="ada"), Member("U_BEN", name="ben")

    # A member is refused at once, with no form.
    refused = await slack.ask(ben, "deck import")
    assert "admin" in texts(refused["blocks"]).lower()
    assert mock_slack.calls_to("views.open") == []

    # An admin gets a form with a file_input; the file chosen is fetched with the bot token.
    url = await slack.command(ada, "deck import")
    [opened] = await mock_slack.wait_for("views.open", within=WITHIN)
    view = opened.args["view"]
    assert [b["element"]["type"] for b in view["blocks"] if b["type"] == "input"] == ["file_input"]
    shared = mock_slack.share_file("owls.csv", OWLS, user=ada.user)
    status, _ = await slack.upload(ada, view, {"file": shared})
    assert status == 200
    imported = await mock_slack.reply(url, within=WITHIN)
    assert "Deck “owls” imported" in texts(imported["blocks"])
    assert [c.args["file"] for c in mock_slack.calls_to("files.info")] == [shared["id"]]
    assert mock_slack.downloads == [(shared["id"], f"Bearer {BOT_TOKEN}")]

    # A file Slack says is over 5 MB is refused before it is downloaded.
    url = await slack.command(ada, "deck import")
    view = (await mock_slack.wait_for("views.open", 2, within=WITHIN))[-1].args["view"]
    await slack.upload(ada, view, {"file": mock_slack.share_file("big.csv", OWLS, size=6_000_000)})
    assert "too big: the limit is 5 MB" in texts((await mock_slack.reply(url, within=WITHIN))["blocks"])
    assert len(mock_slack.downloads) == 1

    # Studied like any deck.
    question = texts((await slack.ask(ben, "quiz owls"))["blocks"])
    assert "What do owls eat?" in question or "How do owls hunt" in question

    # Exported: uploaded into the member's DM through Slack's external upload.
    exported = await slack.ask(ben, "deck export owls")
    assert "direct messages" in texts(exported["blocks"])
    [completed] = mock_slack.calls_to("files.completeUploadExternal")
    assert completed.args["channel_id"] == "DU_BEN"
    [sent] = json.loads(completed.args["files"])
    assert b"What do owls eat?" in mock_slack.uploads[sent["id"]]
    assert mock_slack.calls_to("files.getUploadURLExternal")[0].args["filename"] == "owls.md"

    # "Make a study card" on a message: the card form, the message as its answer.
    await slack.shortcut(ben, CARD_SHORTCUT, "Owls swallow prey whole.")
    card = (await mock_slack.wait_for("views.open", 3, within=WITHIN))[-1].args["view"]
    answer = next(b for b in card["blocks"] if b.get("block_id") == "answer")
    assert answer["element"]["initial_value"] == "Owls swallow prey whole."
    assert FILE_INPUT not in json.dumps(card)

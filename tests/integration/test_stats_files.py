"""/stats carries its picture on every platform: a Discord attachment on the ephemeral reply, a Slack
upload (files.getUploadURLExternal, the upload URL, files.completeUploadExternal) into the member's DM, each
a valid PNG of the stated size."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from bot.core.service import StudyService
from bot.pictures.stats import SIZE
from tests.fakes.discord.driver import button
from tests.fakes.discord.fixtures import DiscordEnv
from tests.fakes.discord.server import User
from tests.fakes.slack.driver import Member
from tests.fakes.slack.fixtures import mock_slack, running
from tests.fakes.slack.server import MockSlack, texts

pytest_plugins = ("tests.fakes.discord.fixtures",)
__all__ = ["mock_slack"]

ALICE = User(1001, "Alice")
ANN = Member("U_ANN", name="ann")


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """About the adapters, not the database: SQLite only."""
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


def png_size(data: bytes) -> tuple[int, int]:
    image = Image.open(io.BytesIO(data))
    image.verify()
    assert image.format == "PNG"
    return image.size


async def test_discord_stats_come_with_the_picture_attached(discord_env: DiscordEnv) -> None:
    bot = discord_env.driver
    quiz = await bot.slash("quiz", ALICE)
    reveal = await bot.click(quiz.message, button(quiz.message, "reveal:"), ALICE)
    await bot.click(reveal.message, button(reveal.message, "Good"), ALICE)
    stats = await bot.slash("stats", ALICE)
    reply = stats.latest
    assert reply.ephemeral and "Streak" in reply.text()
    [(name, data)] = reply.files
    assert name == "stats.png" and png_size(data) == SIZE


async def test_slack_stats_upload_the_picture_into_the_dm(
    mock_slack: MockSlack, service: StudyService
) -> None:
    async with running(mock_slack, service) as slack:
        question = await slack.ask(ANN, "quiz")
        answer = await slack.press(ANN, question, "reveal:")
        await slack.press(ANN, answer, "grade:", label="Good")
        reply = await slack.ask(ANN, "stats")
        assert "Streak" in texts(reply["blocks"])
        [asked] = mock_slack.calls_to("files.getUploadURLExternal")
        assert asked.args["filename"] == "stats.png"
        [completed] = mock_slack.calls_to("files.completeUploadExternal")
        [sent] = json.loads(completed.args["files"])
        assert png_size(mock_slack.uploads[sent["id"]]) == SIZE


async def test_terminal_stats_save_the_picture_and_print_its_path(
    service: StudyService, tmp_path: Path
) -> None:
    from bot.adapters.console_files import save_files
    from tests.support.callers import member

    reply = await service.stats(member("ann"))
    lines = save_files(list(reply.files), tmp_path / "files")
    assert lines[0].startswith(f"  Saved {tmp_path / 'files' / 'stats.png'}")
    assert png_size((tmp_path / "files" / "stats.png").read_bytes()) == SIZE

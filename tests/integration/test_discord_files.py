"""Files in and out on Discord, for any command of the table: a FILE argument is an attachment option
fetched from Discord's CDN (a fake one here), a reply's files are attachments, and the message action
"Make a study card" opens the core's form. A test-only command stands in for the table's own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import discord
import pytest

from bot.adapters.discord.app import DiscordAdapter
from bot.adapters.discord.commands import MAKE_CARD
from bot.core import commands
from bot.core.commands import COMMANDS, Arg, Command, Kind, upload
from bot.core.messages import Attachment, Message, Reply, error
from bot.core.model.models import Caller
from bot.core.service import StudyService
from tests.fakes.discord.driver import DiscordDriver, button
from tests.fakes.discord.fixtures import settings_for
from tests.fakes.discord.server import ADMIN_PERMISSIONS, MESSAGE, MODAL, FakeDiscord, User, walk

pytest_plugins = ("tests.fakes.discord.fixtures",)

ALICE = User(1001, "Alice")
ADA = User(1003, "Ada", permissions=ADMIN_PERMISSIONS)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """These tests are about the adapters, not the database: SQLite only, even when PostgreSQL is set."""
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


async def _echo(service: StudyService, caller: Caller, args: commands.Args) -> Reply:
    if not caller.is_admin:
        return error("Only admins can send files.")
    sent = upload(args, "file")
    if sent is None:
        return error("No file.")
    return Message(
        title=f"Got {sent.name}: {len(sent.data)} bytes",
        files=(Attachment("echo-" + sent.name, sent.data, "text/plain", "what you sent"),),
    )


ECHO = Command(
    "echo", "Send a file back", _echo, args=(Arg("file", Kind.FILE, "A file", required=True),), admin=True
)


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(commands, "COMMANDS", (*COMMANDS, ECHO))
    yield


@pytest.fixture
async def driver(
    table: None, fake_discord: FakeDiscord, service: StudyService, tmp_path: Path
) -> AsyncIterator[DiscordDriver]:
    settings = settings_for(fake_discord.base, tmp_path)
    adapter = DiscordAdapter(replace(settings, discord_cdn_url=fake_discord.cdn_base), service)
    await adapter.login()
    yield DiscordDriver(fake_discord, adapter.client)
    await adapter.client.close()


def test_a_file_argument_is_an_attachment_option(table: None) -> None:
    from bot.adapters.discord.client import build_client

    tree = build_client(None).tree
    echo = tree.get_command("echo")
    assert echo is not None
    [option] = echo.to_dict(tree)["options"]
    assert option["type"] == discord.AppCommandOptionType.attachment.value and option["required"] is True
    menu = tree.get_command(MAKE_CARD, type=discord.AppCommandType.message)
    assert menu is not None and menu.to_dict(tree)["type"] == 3
    assert menu.to_dict(tree)["contexts"] == [0]  # servers only: a DM's card has no admin to review it


async def test_an_attachment_is_fetched_from_the_cdn_and_a_file_comes_back(
    driver: DiscordDriver, fake_discord: FakeDiscord
) -> None:
    sent = fake_discord.attach("deck.md", b"# My deck\n")
    reply = await driver.slash("echo", ADA, attachments={"file": sent})
    assert reply.callback.type == MESSAGE and reply.callback.ephemeral
    assert reply.callback.title == "Got deck.md: 10 bytes"
    assert reply.callback.files == [("echo-deck.md", b"# My deck\n")]
    [attached] = reply.message["attachments"]
    assert attached["filename"] == "echo-deck.md" and attached["description"] == "what you sent"


async def test_a_member_file_is_not_fetched_and_the_core_refuses(
    driver: DiscordDriver, fake_discord: FakeDiscord
) -> None:
    reply = await driver.slash("echo", ALICE, attachments={"file": fake_discord.attach("deck.md", b"x")})
    assert reply.callback.title == "Only admins can send files."
    assert fake_discord.cdn_requests == []


async def test_files_elsewhere_or_too_big_are_refused_with_the_reason(
    driver: DiscordDriver, fake_discord: FakeDiscord
) -> None:
    foreign = fake_discord.attach("deck.md", b"x") | {"url": "https://example.com/deck.md"}
    reply = await driver.slash("echo", ADA, attachments={"file": foreign})
    assert reply.callback.ephemeral and "only fetch files from Discord" in reply.callback.title
    huge = fake_discord.attach("huge.md", b"x") | {"size": 6_000_000}
    reply = await driver.slash("echo", ADA, attachments={"file": huge})
    assert "too big: the limit is 5 MB" in reply.callback.title
    assert fake_discord.cdn_requests == []


async def test_make_a_study_card_opens_the_form_with_the_message_text(driver: DiscordDriver) -> None:
    opened = await driver.message_action(MAKE_CARD, ALICE, "Backprop is the chain rule, applied.")
    assert opened.callback.type == MODAL
    inputs = {c["custom_id"]: c for c in walk(opened.callback.data["components"]) if c.get("type") == 4}
    assert inputs["answer"]["value"] == "Backprop is the chain rule, applied."
    assert "value" not in inputs["question"] and "deck" in inputs


async def test_a_members_card_goes_through_review_buttons_and_forms_to_the_quiz(
    driver: DiscordDriver,
) -> None:
    ben = User(1004, "Ben")
    opened = await driver.message_action(MAKE_CARD, ben, "They swallow prey whole.")
    question = {"question": "How do owls eat?"}
    suggested = await driver.submit(opened.callback, question, ben)
    assert "waits for an admin's review" in suggested.latest.title
    # The admin's review: the core's Approve, Edit and Reject, as buttons.
    review = await driver.slash("deck", ADA, sub="review")
    labels = [c["label"] for c in walk(review.latest.data["components"]) if c.get("type") == 2]
    assert labels[:3] == ["Approve", "Edit", "Reject"], labels
    approve = await driver.click(review.message, button(review.message, "Approve"), ADA)
    assert approve.callback.type == MODAL  # Approve asks for the deck in a form
    approved = await driver.submit(approve.callback, {"deck": "owls"}, ADA, message=review.message)
    assert "owls" in approved.latest.text()
    quiz = await driver.slash("quiz", ben, options={"deck": "owls"})
    assert "How do owls eat?" in quiz.latest.text()

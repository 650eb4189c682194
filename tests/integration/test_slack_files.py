"""Files in and out on Slack, for any command of the table: a FILE argument is asked for in a modal with a
file_input and fetched with the bot token (files.info, then the private URL); a reply's files are
uploaded (files.getUploadURLExternal, the upload URL, files.completeUploadExternal) into the member's DM;
message shortcuts import a posted file and make a card. A test-only command stands in for the table's."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.slack.files import (
    CARD_SHORTCUT,
    FILE_INPUT,
    IMPORT_SHORTCUT,
    UPLOAD_CALLBACK,
    shared_file,
    submitted_files,
)
from bot.adapters.slack.requests import problem
from bot.core import commands
from bot.core.commands import COMMANDS, Arg, Command, Kind, upload
from bot.core.messages import Attachment, Message, Reply, error
from bot.core.model.models import Caller
from bot.core.service import StudyService
from tests.fakes.slack.driver import Member, SlackHarness, shortcut_payload, upload_payload
from tests.fakes.slack.fixtures import mock_slack, running
from tests.fakes.slack.server import BOT_TOKEN, MockSlack, buttons, texts

__all__ = ["mock_slack"]

ADA = Member("U_ADA", name="ada")  # in SLACK_ADMIN_IDS
ANN = Member("U_ANN", name="ann")


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """These tests are about the adapters, not the database: SQLite only, even when PostgreSQL is set."""
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


async def _import(service: StudyService, caller: Caller, args: commands.Args) -> Reply:
    if not caller.is_admin:
        return error("Only admins can import decks.")
    sent = upload(args, "file")
    if sent is None:
        return error("No file.")
    return Message(title=f"Imported {sent.name}: {sent.data.decode()}")


async def _export(service: StudyService, caller: Caller, args: commands.Args) -> Reply:
    name = commands.word(args, "deck") or "deck"
    return Message(title=f"Exported {name}", files=(Attachment(f"{name}.md", b"# Deck\n", "text/markdown"),))


TEST_ROWS = (
    Command(
        "echo",
        "Import a deck",
        _import,
        sub="import",
        args=(Arg("file", Kind.FILE, "The deck file", required=True),),
        admin=True,
    ),
    Command("echo", "Export a deck", _export, sub="export", args=(Arg("deck", Kind.DECK, "Deck", True),)),
)


@pytest.fixture
async def slack(
    mock_slack: MockSlack, service: StudyService, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[SlackHarness]:
    monkeypatch.setattr(commands, "COMMANDS", (*COMMANDS, *TEST_ROWS))
    monkeypatch.setitem(commands.GROUPS, "echo", "Files")
    async with running(
        mock_slack, service, slack_files_url=mock_slack.files_url, slack_admin_ids=(ADA.user,)
    ) as harness:
        yield harness


async def opened_view(mock: MockSlack, count: int = 1) -> dict[str, Any]:
    return dict((await mock.wait_for("views.open", count))[-1].args["view"])


async def test_a_file_argument_opens_a_file_input_and_the_file_reaches_the_command(
    slack: SlackHarness, mock_slack: MockSlack
) -> None:
    url = await slack.command(ADA, "echo import")
    view = await opened_view(mock_slack)
    assert view["callback_id"] == UPLOAD_CALLBACK
    [block] = view["blocks"]
    assert block["element"] == {"type": "file_input", "action_id": FILE_INPUT, "max_files": 1}
    shared = mock_slack.share_file("deck.md", b"# Mine", user=ADA.user)
    status, _ = await slack.upload(ADA, view, {"file": shared})
    assert status == 200
    reply = await mock_slack.reply(url)
    assert "Imported deck.md: # Mine" in texts(reply["blocks"]) and reply["response_type"] == "ephemeral"
    # files.info, then the private URL with the bot token.
    assert mock_slack.calls_to("files.info")[0].args["file"] == shared["id"]
    assert mock_slack.downloads == [(shared["id"], f"Bearer {BOT_TOKEN}")]


async def test_a_member_is_refused_without_a_modal(slack: SlackHarness, mock_slack: MockSlack) -> None:
    reply = await slack.ask(ANN, "echo import")
    assert "Only admins can import decks." in texts(reply["blocks"])
    assert mock_slack.calls_to("views.open") == []


async def test_files_elsewhere_or_too_big_are_refused(slack: SlackHarness, mock_slack: MockSlack) -> None:
    url = await slack.command(ADA, "echo import")
    view = await opened_view(mock_slack)
    foreign = mock_slack.share_file("deck.md", b"x", url="https://example.com/files-pri/T1-F1/deck.md")
    await slack.upload(ADA, view, {"file": foreign})
    assert "only fetch files from Slack" in texts((await mock_slack.reply(url))["blocks"])
    url = await slack.command(ADA, "echo import")
    view = await opened_view(mock_slack, 2)
    await slack.upload(ADA, view, {"file": mock_slack.share_file("big.md", b"x", size=6_000_000)})
    assert "too big: the limit is 5 MB" in texts((await mock_slack.reply(url))["blocks"])
    assert mock_slack.downloads == []
    # Without files:read, Slack answers a private URL with its sign-in page: said so, not imported.
    mock_slack.files_scope_missing = True
    url = await slack.command(ADA, "echo import")
    view = await opened_view(mock_slack, 3)
    await slack.upload(ADA, view, {"file": mock_slack.share_file("deck.md", b"# Deck")})
    assert "sign-in page instead of the file" in texts((await mock_slack.reply(url))["blocks"])


async def test_a_reply_file_is_uploaded_into_the_members_dm(
    slack: SlackHarness, mock_slack: MockSlack
) -> None:
    reply = await slack.ask(ANN, "echo export biology")
    assert "Exported biology" in texts(reply["blocks"])
    assert "The file is in your direct messages with me." in texts(reply["blocks"])
    [opened] = mock_slack.calls_to("conversations.open")
    assert opened.args["users"] == ANN.user
    [asked] = mock_slack.calls_to("files.getUploadURLExternal")
    assert asked.args["filename"] == "biology.md" and int(asked.args["length"]) == len(b"# Deck\n")
    [completed] = mock_slack.calls_to("files.completeUploadExternal")
    assert completed.args["channel_id"] == "DU_ANN"
    [sent] = json.loads(completed.args["files"])
    assert mock_slack.uploads[sent["id"]] == b"# Deck\n" and sent["title"] == "biology.md"


async def test_import_as_deck_takes_the_file_of_the_message(
    slack: SlackHarness, mock_slack: MockSlack
) -> None:
    # The table's own /deck import: a CSV posted in a channel becomes the workspace's deck "team".
    shared = mock_slack.share_file("team.csv", b"question,answer\nWhat do owls eat?,Voles\n", user="U_CAROL")
    url = await slack.shortcut(ANN, IMPORT_SHORTCUT, "our deck", [shared])
    assert "Only" in texts((await mock_slack.reply(url))["blocks"]) and mock_slack.downloads == []
    url = await slack.shortcut(ADA, IMPORT_SHORTCUT, "gone", [{"id": "F_GONE"}])
    assert "/invite @studybot" in texts((await mock_slack.reply(url))["blocks"])
    url = await slack.shortcut(ADA, IMPORT_SHORTCUT, "no file here")
    assert "has no file to import" in texts((await mock_slack.reply(url))["blocks"])
    url = await slack.shortcut(ADA, IMPORT_SHORTCUT, "our deck", [shared])
    assert "Deck “team” imported" in texts((await mock_slack.reply(url))["blocks"])
    assert len(mock_slack.downloads) == 1


async def test_make_a_study_card_opens_the_form_with_the_message_text(
    slack: SlackHarness, mock_slack: MockSlack
) -> None:
    await slack.shortcut(ANN, CARD_SHORTCUT, "Dropout &amp; weight decay both regularise.")
    view = await opened_view(mock_slack)
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs["answer"]["initial_value"] == "Dropout & weight decay both regularise."
    assert "initial_value" not in inputs["question"] and "deck" in inputs


# -- what Slack sends, read without ever raising -----------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)


@given(json_values)
def test_any_view_state_gives_file_ids_or_nothing(view: object) -> None:
    found = submitted_files({"state": {"values": view}})
    assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in found.items())
    assert shared_file(view) is None or isinstance(shared_file(view), str)


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=4))
def test_a_file_input_state_like_slacks_gives_the_chosen_file(extra: dict[str, Any]) -> None:
    chosen = {"id": "F123", "name": "deck.md", **{k: v for k, v in extra.items() if k != "id"}}
    view = {"state": {"values": {"file": {FILE_INPUT: {"type": "file_input", "files": [chosen]}}}}}
    assert submitted_files(view) == {"file": "F123"}


@given(json_values)
def test_any_message_action_is_refused_or_readable(message: object) -> None:
    payload, _ = shortcut_payload(MockSlack(), ANN, CARD_SHORTCUT, "text")
    payload["message"] = message
    found = problem(payload)
    if found is None:
        assert isinstance(message, dict)


def test_the_shapes_the_mock_sends_are_accepted() -> None:
    payload, _ = shortcut_payload(MockSlack(), ANN, CARD_SHORTCUT, "text", [{"id": "F1"}])
    assert problem(payload) is None
    view = {"callback_id": UPLOAD_CALLBACK, "blocks": [], "private_metadata": "{}"}
    assert problem(upload_payload(ANN, view, {})) is None


def test_the_manifest_has_the_shortcuts_and_file_scopes() -> None:
    import yaml

    from tests.conftest import REPO

    manifest = yaml.safe_load((REPO / "slack-manifest.yml").read_text(encoding="utf-8"))
    shortcuts = {s["callback_id"]: s["type"] for s in manifest["features"]["shortcuts"]}
    assert shortcuts == {IMPORT_SHORTCUT: "message", CARD_SHORTCUT: "message"}
    assert {"files:read", "files:write", "im:write"} <= set(manifest["oauth_config"]["scopes"]["bot"])


async def test_a_members_card_goes_through_review_to_the_quiz(
    slack: SlackHarness, mock_slack: MockSlack
) -> None:
    url = await slack.shortcut(ANN, CARD_SHORTCUT, "They swallow prey whole.")
    card = await opened_view(mock_slack)
    await slack.fill(ANN, card, {"question": "How do owls eat?"})
    assert "waits for an admin's review" in texts((await mock_slack.reply(url))["blocks"])
    # A workspace admin (users.info says so; not in SLACK_ADMIN_IDS) reviews: the role is looked up for
    # the command, the Approve button and the approval form alike.
    wanda = Member("U_WANDA", name="wanda")
    mock_slack.admins.add(wanda.user)
    review = await slack.ask(wanda, "deck review")
    labels = [b["text"]["text"] for b in buttons(review["blocks"])]
    assert labels[:3] == ["Approve", "Edit", "Reject"], labels
    url = await slack.click(wanda, review, "sugg:", label="Approve")
    approve = await opened_view(mock_slack, 2)
    await slack.fill(wanda, approve, {"deck": "owls"})
    assert "owls" in texts((await mock_slack.reply(url))["blocks"])
    assert "How do owls eat?" in texts((await slack.ask(ANN, "quiz owls"))["blocks"])

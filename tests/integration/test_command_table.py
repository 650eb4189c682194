"""Every platform offers exactly the commands of the core's table (bot/core/commands.py), and a row added
to it appears on all of them: Discord's tree, Slack's /study (its help, its command links, its parser),
the terminal and /help."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import cast

import discord
import pytest

from bot.adapters.console import ConsoleBot
from bot.adapters.discord.client import build_client
from bot.adapters.slack.render import fallback_text, message_blocks
from bot.core import commands
from bot.core.commands import COMMANDS, Command, help_message, run_text_command
from bot.core.commandspec import Args
from bot.core.messages import Message, Reply
from bot.core.model.models import Caller
from bot.core.service import StudyService
from bot.core.texts.daily import USAGE_SET
from tests.conftest import member
from tests.fakes.slack.driver import Member, SlackHarness
from tests.fakes.slack.fixtures import mock_slack, slack
from tests.fakes.slack.server import texts

__all__ = ["mock_slack", "slack"]  # fixtures

REPO = Path(__file__).resolve().parents[2]


async def _pong(service: StudyService, caller: Caller, args: Args) -> Reply:
    return Message(title=f"Pong, {caller.display_name}: {args['words'] or 'nothing'}")


PING = Command(
    "ping",
    "Check that studybot answers",
    _pong,
    args=(commands.Arg("words", commands.Kind.TEXT, "Anything to echo", rest=True),),
)


def discord_paths() -> set[str]:
    """The commands of the Discord tree as typed: `quiz`, `team join`, `decks reload` (a choice)."""
    tree = build_client(None).tree
    paths = set()
    for command in tree.get_commands(type=discord.AppCommandType.chat_input):
        if isinstance(command, discord.app_commands.Group):
            paths |= {f"{command.name} {sub.name}" for sub in command.commands}
            continue
        paths.add(command.name)
        action = next((p for p in command.parameters if p.name == "action"), None)
        if action is not None:
            paths |= {f"{command.name} {choice.value}" for choice in action.choices}
    return paths


def console_help() -> list[str]:
    return [line.strip() for line in help_message().plain_text().splitlines() if line.strip().startswith("/")]


async def console_lines(service: StudyService | None, line: str) -> str:
    out = io.StringIO()
    bot = ConsoleBot(cast(StudyService, service), "ann", out=out)

    async def no_more() -> str | None:
        return None

    await bot.handle(line, no_more)
    return out.getvalue()


def test_the_discord_tree_is_the_table() -> None:
    assert discord_paths() == {row.path for row in COMMANDS}


def test_discord_hides_groups_with_admin_rows_and_checks_servers() -> None:
    tree = build_client(None).tree
    hidden = {c.name for c in tree.get_commands() if c.default_permissions is not None}
    assert hidden == {"daily"}
    assert tree.get_commands()[0].to_dict(tree)["options"][0]["autocomplete"] is True  # /quiz deck


async def test_the_terminal_and_help_list_the_table(service: StudyService) -> None:
    shown = await console_lines(service, "/help")
    lines = [line.strip() for line in shown.splitlines() if line.strip().startswith("/")]
    assert lines == console_help()
    assert [line.split(" — ")[0] for line in lines] == [row.usage for row in COMMANDS]
    assert next(row.usage for row in COMMANDS if row.path == "daily set") == USAGE_SET


async def test_slack_help_lists_the_table_as_study_subcommands(slack: SlackHarness) -> None:
    shown = texts((await slack.ask(Member("U_ANN", name="ann"), "help"))["blocks"])
    listed = re.findall(r"^/study (.+?) —", shown, flags=re.MULTILINE)
    assert listed == [row.usage.removeprefix("/") for row in COMMANDS]


def test_the_slack_manifest_hint_names_every_command() -> None:
    manifest = (REPO / "slack-manifest.yml").read_text()
    hint = re.search(r'usage_hint: "(.*)"', manifest)
    assert hint is not None
    named = {part.split()[0] for part in hint[1].split(" | ")}
    assert named == set(commands.names())


async def test_a_new_row_appears_on_every_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(commands, "COMMANDS", (*COMMANDS, PING))
    # Discord: a new slash command, with its option.
    assert "ping" in discord_paths()
    tree = build_client(None).tree
    ping = tree.get_command("ping")
    assert ping is not None and ping.to_dict(tree)["options"][0]["name"] == "words"
    # /help, in the terminal and on Slack (where the command link becomes a /study subcommand).
    assert "/ping [words] — check that studybot answers" in console_help()
    assert "/study ping [words]" in fallback_text(help_message(), "/study")
    blocks = str(message_blocks(Message(title="Try /ping"), "/study"))
    assert "Try /study ping" in blocks
    # Typed: the terminal, and Slack's /study text.
    assert "Pong, ann: hello there" in await console_lines(None, "/ping hello there")
    slack_reply = await run_text_command(cast(StudyService, None), member("ann"), "ping")
    assert isinstance(slack_reply, Message) and slack_reply.title == "Pong, ann: nothing"

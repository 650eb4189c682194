"""Every command, one row each: its name, arguments, who may run it, its help, and the service it calls.

The platforms are generated from this table: Discord's app-command tree (adapters/discord/commands.py),
Slack's `/study` subcommands and the terminal (both typed text, read by core/command_line.py), and /help.
Adding a command is one row here plus the service method it calls.
"""

from __future__ import annotations

import dataclasses

from bot.core import command_line
from bot.core.commandspec import Arg, Args, Call, Choice, Command, Kind, upload, word
from bot.core.messages import Message, Reply, Upload
from bot.core.model.models import Caller
from bot.core.service import StudyService
from bot.core.texts.help import help_message as help_text

__all__ = [
    "COMMANDS",
    "GROUPS",
    "Arg",
    "Choice",
    "Command",
    "Kind",
    "Upload",
    "help_message",
    "run_text_command",
    "upload",
    "word",
]

# Descriptions of the commands that group subcommands (Discord shows them).
GROUPS = {
    "team": "Study as a squad",
    "daily": "The question of the day in a channel",
    "settings": "Your time zone and reminders",
    "deck": "This workspace's own decks: import, export, add cards, review, remove",
}


def text(args: Args, name: str) -> str:
    return word(args, name) or ""


def _here(caller: Caller, args: Args) -> str:
    """A left-out channel: the one the command was typed in (none in the terminal: the service picks)."""
    return word(args, "channel") or caller.channel_ref or ""


async def _help(service: StudyService, caller: Caller, args: Args) -> Message:
    return help_message()


DECK = Arg("deck", Kind.DECK, "Only questions from this deck", rest=True)
CHANNEL = Arg("channel", Kind.CHANNEL, "Which channel (default: this channel)")

_ROWS: tuple[Command, ...] = (
    Command(
        "quiz",
        "Your next question: cards due for review first, then new ones",
        lambda s, c, a: s.quiz(c, word(a, "deck")),
        args=(DECK,),
    ),
    Command("stats", "Your streak, cards learned and due, recall and points", lambda s, c, a: s.stats(c)),
    Command(
        "leaderboard",
        "Top members and teams",
        lambda s, c, a: s.leaderboard(c, word(a, "period")),
        args=(
            Arg(
                "period",
                Kind.PERIOD,
                "Which points count (default: this week)",
                choices=(
                    Choice("This week", "week"),
                    Choice("This month", "month"),
                    Choice("All time", "all"),
                ),
                rest=True,
            ),
        ),
        in_server=True,
    ),
    Command(
        "team",
        "Join a team, or start one",
        lambda s, c, a: s.team_join(c, text(a, "name")),
        sub="join",
        args=(Arg("name", Kind.TEXT, "The team's name", required=True, max_length=40, rest=True),),
        in_server=True,
        example="/team join Owls",
    ),
    Command("team", "Leave your team", lambda s, c, a: s.team_leave(c), sub="leave", in_server=True),
    Command(
        "team",
        "The teams here and their members",
        lambda s, c, a: s.team_list(c),
        sub="list",
        in_server=True,
        bare=True,
    ),
    Command(
        "settings",
        "Your time zone and reminders",
        lambda s, c, a: s.settings_show(c),
        sub="show",
        bare=True,
    ),
    Command(
        "settings",
        "Set your own time zone (days and reminders count in it)",
        lambda s, c, a: s.settings_timezone(c, text(a, "timezone")),
        sub="timezone",
        args=(
            Arg(
                "timezone",
                Kind.TIMEZONE,
                "IANA timezone, e.g. Asia/Tokyo",
                required=True,
                max_length=64,
                usage="AREA/CITY",
            ),
        ),
        example="/settings timezone Asia/Tokyo",
    ),
    Command(
        "settings",
        "A reminder when cards are due or your streak is at stake, at a local time, or off",
        lambda s, c, a: s.settings_reminders(c, text(a, "time")),
        sub="reminders",
        args=(
            Arg("time", Kind.TEXT, "24-hour HH:MM, or off", required=True, max_length=10, usage="HH:MM|off"),
        ),
        example="/settings reminders 19:30",
    ),
    Command("decks", "The decks and your progress in each", lambda s, c, a: s.decks(c)),
    Command(
        "decks",
        "Read the deck files again, without a restart",
        lambda s, c, a: s.decks_reload(c),
        sub="reload",
        admin=True,
    ),
    Command(
        "deck",
        "Import a deck file (Markdown, CSV/TSV, Quizlet, Anki .apkg) as this workspace's deck",
        lambda s, c, a: s.deck_import(c, upload(a, "file")),
        sub="import",
        args=(Arg("file", Kind.FILE, "The deck file (at most 5 MB)", required=True, usage="FILE"),),
        admin=True,
        in_server=True,
        example="/deck import team-notes.csv",
    ),
    Command(
        "deck",
        "A deck as a Markdown file, to edit or import elsewhere",
        lambda s, c, a: s.deck_export(c, word(a, "deck")),
        sub="export",
        args=(Arg("deck", Kind.DECK, "Which deck", required=True, rest=True),),
        in_server=True,
    ),
    Command(
        "deck",
        "Add a card to a workspace deck (members' cards wait for an admin's review)",
        lambda s, c, a: s.deck_add(c, word(a, "deck")),
        sub="add",
        args=(
            Arg("deck", Kind.DECK, "Which deck (an admin's new name starts one)", required=True, rest=True),
        ),
        in_server=True,
        example="/deck add team-notes",
    ),
    Command(
        "deck",
        "Review the cards members suggested",
        lambda s, c, a: s.deck_review(c),
        sub="review",
        admin=True,
        in_server=True,
    ),
    Command(
        "deck",
        "Remove a workspace deck (progress is kept if it comes back)",
        lambda s, c, a: s.deck_remove(c, word(a, "deck")),
        sub="remove",
        args=(Arg("deck", Kind.DECK, "Which deck", required=True, rest=True),),
        admin=True,
        in_server=True,
    ),
    Command("help", "What studybot does and how to use it", _help),
    Command(
        "daily",
        "Post a question of the day in a channel",
        lambda s, c, a: s.daily.configure(
            c, _here(c, a), text(a, "time"), text(a, "timezone"), word(a, "deck"), word(a, "weekdays")
        ),
        sub="set",
        args=(
            # Shown as if required: left out only in a chat, where it is the current channel.
            Arg("channel", Kind.CHANNEL, "Where to post (default: this channel)", usage="CHANNEL"),
            Arg("time", Kind.TIME, "Time of day, 24-hour HH:MM", required=True, max_length=10, usage="HH:MM"),
            Arg(
                "timezone",
                Kind.TIMEZONE,
                "IANA timezone, e.g. Europe/Berlin",
                required=True,
                max_length=64,
                usage="AREA/CITY",
            ),
            Arg("deck", Kind.DECK, "Draw from this deck only (default: all decks)"),
            Arg("weekdays", Kind.WEEKDAYS, "Days to post, e.g. mon-fri (default: every day)", rest=True),
        ),
        admin=True,
        in_server=True,
        example="/daily set general 09:00 Europe/Berlin mon-fri",
    ),
    Command(
        "daily",
        "Stop the question of the day in a channel",
        lambda s, c, a: s.daily.off(c, _here(c, a)),
        sub="off",
        args=(CHANNEL,),
        admin=True,
        in_server=True,
    ),
    Command(
        "daily",
        "When and where the question of the day is posted",
        lambda s, c, a: s.daily.status(c, word(a, "channel")),
        sub="status",
        args=(Arg("channel", Kind.CHANNEL, "Which channel (default: every channel of this server)"),),
        in_server=True,
        bare=True,
    ),
    Command(
        "daily",
        "Turn the weekly digest (Mondays: last week's best, hardest cards, streaks) on or off",
        lambda s, c, a: s.daily.digest(c, _here(c, a), text(a, "switch")),
        sub="digest",
        args=(
            Arg(
                "switch",
                Kind.TEXT,
                "on or off",
                required=True,
                choices=(Choice("On", "on"), Choice("Off", "off")),
                max_length=3,
            ),
            CHANNEL,
        ),
        admin=True,
        in_server=True,
        example="/daily digest off",
    ),
    Command(
        "daily",
        "Post today's question now",
        lambda s, c, a: s.daily.post_now(c, _here(c, a)),
        sub="now",
        args=(CHANNEL,),
        admin=True,
        in_server=True,
    ),
)


def _with_news(call: Call) -> Call:
    """Every command's reply also tells the caller what admins decided on their suggested cards."""

    async def told(service: StudyService, caller: Caller, args: Args) -> Reply:
        return await service.with_news(caller, await call(service, caller, args))

    return told


COMMANDS: tuple[Command, ...] = tuple(dataclasses.replace(c, call=_with_news(c.call)) for c in _ROWS)


# Read at call time, not bound at import, so every platform always shows the table as it is.


def names() -> list[str]:
    """The top-level commands, in the table's order."""
    return list(dict.fromkeys(c.name for c in COMMANDS))


def help_message() -> Message:
    return help_text(
        [f"{c.usage} — {c.help[0].lower()}{c.help[1:]}" + (" (admins)" if c.admin else "") for c in COMMANDS]
    )


async def run_text_command(
    service: StudyService, caller: Caller, line: str, open_file: command_line.OpenFile | None = None
) -> Reply:
    """A command typed as text: the terminal's, or the text after Slack's `/study`. `open_file` reads a
    FILE argument typed as text (the terminal's path)."""
    if not line.strip().lstrip("/").strip():
        return help_message()
    return await command_line.run(COMMANDS, service, caller, line, open_file)


def needs_admin(line: str) -> bool:
    """Whether the command typed is for admins, so an adapter knows to look up the caller's role."""
    found = command_line.find(COMMANDS, line.strip().lstrip("/").split())
    return isinstance(found, tuple) and found[0].admin

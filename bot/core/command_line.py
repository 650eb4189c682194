"""Commands typed as text (`/leaderboard week`, `team join Owls`): the terminal and Slack's `/study`.

Words are matched to the command table (core/commands.py): the name, then a subcommand, then the
arguments in order. An optional argument is left out when the words fit the next one instead: in
`/daily set 09:00 Europe/Berlin mon-fri` the first word is a time, so the channel was left out (a chat
then uses its own), and `mon-fri` reads as weekdays, so no deck was given.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.core.commandspec import Arg, Command, Kind
from bot.core.messages import Message, Reply, Upload, error
from bot.core.model.calendar import looks_like_misspelt_weekdays, looks_like_time, looks_like_weekdays
from bot.core.model.models import Caller
from bot.core.service import StudyService


def find(commands: tuple[Command, ...], words: list[str]) -> tuple[Command, list[str]] | str:
    """The row the words name and the words after it; or, when there is none, the name as typed."""
    if not words:
        return ""
    name = words[0].casefold()
    rows = [c for c in commands if c.name == name]
    if not rows:
        return words[0]
    sub = words[1].casefold() if len(words) > 1 else ""
    for row in rows:
        if row.sub and row.sub == sub:
            return row, words[2:]
    plain = next((row for row in rows if not row.sub), None)
    if plain is not None:  # `/decks` with words it does not use
        return plain, words[1:]
    default = next((row for row in rows if row.bare), None)
    if not sub and default is not None:
        return default, []
    return f"{name} {sub}"


# How a front-end that takes a file argument as typed text (the terminal's path) reads it: the file, or
# the error to show. Without one, a FILE argument typed as text is left out (the service says how to send it).
OpenFile = Callable[[str], Upload | Message]


async def run(
    commands: tuple[Command, ...],
    service: StudyService,
    caller: Caller,
    line: str,
    open_file: OpenFile | None = None,
) -> Reply:
    found = find(commands, line.strip().lstrip("/").split())
    if isinstance(found, str):
        return service.unknown_command(found)
    row, rest = found
    args = await _bind(service, caller, row, rest, open_file)
    if isinstance(args, Message):
        return args
    return await row.call(service, caller, args)


async def _bind(
    service: StudyService, caller: Caller, row: Command, words: list[str], open_file: OpenFile | None = None
) -> dict[str, str | Upload | None] | Message:
    values: dict[str, str | Upload | None] = {}
    for i, arg in enumerate(row.args):
        if arg.kind is Kind.FILE:
            typed, words = " ".join(words), []
            opened = open_file(typed) if open_file is not None and typed else None
            if isinstance(opened, Message):
                return opened
            values[arg.name] = opened
            continue
        if arg.rest:
            values[arg.name] = " ".join(words) or ("" if arg.kind is Kind.TEXT else None)
            words = []
            continue
        following = row.args[i + 1] if i + 1 < len(row.args) else None
        if not words or (
            not arg.required and following is not None and await _fits(service, caller, following, words)
        ):
            if arg.required:
                hint = f"For example: {row.example}" if row.example else ""
                return error(f"Usage: {row.usage}", hint)
            values[arg.name] = None
            continue
        values[arg.name], words = words[0], words[1:]
    return values


async def _fits(service: StudyService, caller: Caller, arg: Arg, words: list[str]) -> bool:
    """Whether the words are meant as `arg` (so the optional argument before it was left out)."""
    if arg.kind is Kind.TIME:
        # Even a wrong time, like 25:00, is a time and not a channel name.
        return looks_like_time(words[0])
    if arg.kind is Kind.WEEKDAYS:
        joined = " ".join(words)
        if looks_like_weekdays(joined):
            return True
        # `mon-fir`: no deck of that name, and a typo of weekdays (the service says what is wrong).
        if not looks_like_misspelt_weekdays(joined):
            return False
        return isinstance(await service.resolve_deck(words[0], caller), Message)
    return False

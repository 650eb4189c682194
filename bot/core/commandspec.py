"""How a command is described: its arguments and their kinds, who may run it, and the service it calls.
The rows themselves are in core/commands.py."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from bot.core.messages import Reply, Upload
from bot.core.model.models import Caller
from bot.core.service import StudyService


class Kind(enum.Enum):
    """What an argument holds: how the platforms ask for it and how typed text is told apart."""

    TEXT = "text"
    DECK = "deck"  # a deck's id or a prefix of it; offered as you type
    PERIOD = "period"
    TIME = "time"  # HH:MM
    TIMEZONE = "timezone"  # an IANA name; offered as you type
    WEEKDAYS = "weekdays"
    CHANNEL = "channel"  # a text channel; left out, the caller's own (Caller.channel_ref) or all
    FILE = "file"  # a file the member sends: an attachment, a Slack file_input, a path in the terminal


@dataclass(frozen=True)
class Choice:
    label: str
    value: str


@dataclass(frozen=True)
class Arg:
    name: str
    kind: Kind
    help: str
    required: bool = False
    choices: tuple[Choice, ...] = ()
    max_length: int | None = None
    rest: bool = False  # typed as text, it takes the rest of the line (`/team join Night Owls`)
    usage: str = ""  # how usage lines show it; default NAME when required, [name] when not

    @property
    def shown(self) -> str:
        if self.usage:
            return self.usage
        if self.choices:
            return "[" + "|".join(c.value for c in self.choices) + "]"
        return self.name.upper() if self.required else f"[{self.name}]"


# An argument left out is None; a left-out TEXT argument typed as text is "" (the service words why
# an empty one is no good). A FILE argument is an Upload; every other kind is text.
Args = Mapping[str, str | Upload | None]


def word(args: Args, name: str) -> str | None:
    """A text argument, or None when left out."""
    value = args.get(name)
    if isinstance(value, Upload):
        raise TypeError(f"argument {name} is a file, not text")
    return value


def upload(args: Args, name: str) -> Upload | None:
    """A FILE argument, or None when no file came with the command."""
    value = args.get(name)
    if value is not None and not isinstance(value, Upload):
        raise TypeError(f"argument {name} is text, not a file")
    return value


Call = Callable[[StudyService, Caller, Args], Awaitable[Reply]]


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    call: Call
    sub: str = ""  # a subcommand: `team join`
    args: tuple[Arg, ...] = ()
    admin: bool = False  # for admins only: the service refuses others (from Caller.is_admin)
    in_server: bool = False  # needs a server or workspace: not in a Discord DM
    bare: bool = False  # typed as text, the group's name alone runs this one (`/team` is `/team list`)
    example: str = ""

    @property
    def path(self) -> str:
        return f"{self.name} {self.sub}".strip()

    @property
    def usage(self) -> str:
        return " ".join([f"/{self.path}", *(a.shown for a in self.args)])

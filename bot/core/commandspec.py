"""How a command is described: its arguments and their kinds, who may run it, and the service it calls.
The rows themselves are in core/commands.py."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from bot.core.messages import Reply
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
# an empty one is no good).
Args = Mapping[str, str | None]
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

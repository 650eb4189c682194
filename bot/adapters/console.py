"""The terminal adapter: slash commands as typed, actions shown numbered. Translation only."""

from __future__ import annotations

import contextlib
import getpass
import logging
import os
import re
import shutil
import sys
import textwrap
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Protocol, TextIO

from bot.adapters.console_files import open_upload, save_files
from bot.adapters.console_input import LineReader
from bot.config import Settings
from bot.core import cardtext
from bot.core.commands import run_text_command
from bot.core.messages import Action, Form, Message, Reply
from bot.core.model.models import Caller
from bot.core.service import StudyService
from bot.ops.logs import describe_error

log = logging.getLogger(__name__)

WORKSPACE = "local"
PROMPT = "> "
GOODBYE = "Bye! Your progress is saved."


class Lifecycle(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def default_user() -> str:
    """The terminal's member: the operating system's user name, so a leaderboard shows who studied."""
    try:
        name = getpass.getuser().strip()
    except Exception:  # no login name and no passwd entry (a container with an arbitrary uid)
        name = ""
    return name or "guest"


def render(message: Message) -> str:
    lines = [("⚠ " if message.is_error else "") + message.title]
    for section in message.sections:
        if section.heading:
            lines.append(f"  {section.heading}:")
        lines.extend(f"    {line}" for line in section.plain_text().splitlines())
    if message.footer:
        lines.append(f"  ({message.footer})")
    for number, action in enumerate(message.actions, start=1):
        lines.append(f"  [{number}] {action.label}")
    return "\n".join(lines)


def wrap(text: str, width: int | None) -> str:
    """Each line wrapped at words to `width`, continuing at its own indent; unchanged when width is None."""
    if not width:
        return text
    out: list[str] = []
    for line in text.splitlines():
        body = line.lstrip(" ")
        indent = line[: len(line) - len(body)]
        if len(line) <= width or not body:
            out.append(line)
            continue
        if len(indent) > width // 2:
            indent = indent[: width // 2]
        out.extend(
            textwrap.wrap(
                body,
                width=width,
                initial_indent=indent,
                subsequent_indent=indent,
                break_long_words=False,
                break_on_hyphens=False,
            )
            or [line]
        )
    return "\n".join(out)


_NUMBER = re.compile(r"[0-9]{1,6}")


def choose(actions: tuple[Action, ...], text: str) -> Action | None:
    """An action by its number or its label (the part before ' · ' is enough: 'good' for 'Good · 4d')."""
    wanted = text.strip().casefold()
    # ASCII digits only: `²` and other Unicode digits pass str.isdigit() but int() refuses them.
    if _NUMBER.fullmatch(wanted) and 1 <= int(wanted) <= len(actions):
        return actions[int(wanted) - 1]
    for action in actions:
        label = action.label.casefold()
        if wanted in (label, label.split(" · ")[0]):
            return action
    return None


class ConsoleBot:
    def __init__(
        self,
        service: StudyService,
        user: str,
        out: TextIO = sys.stdout,
        width: int | None = None,
        files_dir: Path | None = None,
    ) -> None:
        self.service = service
        self.files_dir = files_dir or Path("data") / "files"  # where files sent with replies are saved
        self.caller = Caller(
            platform="console", workspace_ref=WORKSPACE, user_ref=user, display_name=user, is_admin=True
        )
        self.out = out
        self.width = width  # None: the terminal's width when `out` is a terminal, else no wrapping
        self.actions: tuple[Action, ...] = ()
        self.reader: LineReader | None = None  # set while a terminal session reads lines
        self._lock = threading.Lock()

    def _width(self) -> int | None:
        if self.width is not None:
            return self.width
        isatty = getattr(self.out, "isatty", None)
        return shutil.get_terminal_size().columns if isatty is not None and isatty() else None

    def write(self, text: str) -> None:
        """Print text; if the person is at the prompt (a daily post arriving), redraw it below the text."""
        text = wrap(text, self._width())
        with self._lock:
            waiting = self.reader.waiting_prompt() if self.reader is not None else None
            if waiting is None:
                self.out.write(text + "\n")
            else:
                prompt, typed = waiting
                self.out.write("\r\x1b[K" + text + "\n" + prompt + typed)
            self.out.flush()

    def show(self, message: Message) -> None:
        self.actions = message.actions or self.actions
        text = render(message)
        if message.files:
            text += "\n" + "\n".join(save_files(message.files, self.files_dir))
        self.write(text)

    def show_post(self, channel_ref: str, message: Message) -> None:
        """A public post in a channel (the question of the day); its buttons become the current choices."""
        self.actions = message.actions or self.actions
        self.write(f"── #{channel_ref} ──\n" + render(message))  # one block: the prompt is redrawn once

    def _failed(self, exc: Exception) -> None:
        """A database or other error in one command: say so and keep the session going."""
        log.debug("command failed", exc_info=True)
        self.show(
            Message(
                title="That did not go through: " + describe_error(exc, limit=160),
                is_error=True,
                footer="Nothing was half-saved. Try again, or /quit.",
            )
        )

    async def handle(self, line: str, read_line: Callable[[], Awaitable[str | None]]) -> None:
        text = line.strip()
        if not text:
            return
        try:
            await self._handle(text, read_line)
        except BrokenPipeError:
            raise  # nobody reads the output any more: the session ends (see run_console)
        except Exception as exc:
            self._failed(exc)

    async def _handle(self, text: str, read_line: Callable[[], Awaitable[str | None]]) -> None:
        if text.startswith("/"):
            # A file argument is typed as a path (`/deck import notes.csv`), read here into an Upload.
            reply: Reply = await run_text_command(self.service, self.caller, text, open_upload)
        else:
            action = choose(self.actions, text)
            if action is None:
                self.show(
                    Message(
                        title=f"“{text}” is not a command or one of the choices above.",
                        sections=(),
                        is_error=True,
                        footer="Type a number from the list, or /help.",
                    )
                )
                return
            reply = await self.service.act(self.caller, action.id)
        if isinstance(reply, Form):
            self.write(f"{reply.title} — {cardtext.plain(reply.context)}" if reply.context else reply.title)
            values: dict[str, str] = {}
            for field in reply.fields:
                shown = f" [{field.value}]" if field.value else ""
                optional = ", Enter to leave out" if not field.required and not field.value else ""
                self.write(
                    f"{field.label}{shown} (one line, at most {field.max_length} characters{optional}):"
                )
                typed = await read_line()
                if typed is None:
                    return
                values[field.name] = typed.rstrip("\n") or field.value
            reply = await self.service.submit(self.caller, reply.id, values)
        self.show(reply)


async def run_console(
    bot: ConsoleBot,
    runner: Lifecycle,
    settings: Settings,
    stdin: TextIO = sys.stdin,
    out: TextIO = sys.stdout,
) -> None:
    """The session, with the bot and the daily runner bot/bootstrap.py built: lines from stdin until
    /quit, Ctrl-D (end of input), Ctrl-C or SIGTERM."""
    reader = LineReader(stdin, out, history=settings.data_dir / "console_history")
    interactive = reader.interactive
    bot.reader = reader
    with reader, _quiet_if_output_closes(out):
        await runner.start()
        try:
            bot.write("studybot in your terminal. Type /quiz to start, /help for commands, Ctrl-D to leave.")
            while True:
                line = await reader.read(PROMPT)
                if line is None or line.strip() in {"/quit", "/exit"}:
                    break
                await bot.handle(line, lambda: reader.read(PROMPT))
        finally:
            await runner.stop()
        bot.reader = None
        if reader.interrupted or (interactive and line is None):
            out.write("\n")  # the cursor is still on the prompt line (after ^C or ^D)
        bot.write(GOODBYE)


@contextlib.contextmanager
def _quiet_if_output_closes(out: TextIO) -> Iterator[None]:
    """`studybot console | head`: when the reader of the output goes away, end quietly, as `cat` would."""
    try:
        yield
    except BrokenPipeError:
        with contextlib.suppress(OSError, ValueError):
            # Later flushes (at exit) must not fail again on the closed pipe.
            os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())

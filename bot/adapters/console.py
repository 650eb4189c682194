"""The terminal adapter: slash commands as typed, actions shown numbered. Translation only."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TextIO

from bot.adapters.console_poster import ConsolePoster
from bot.config import Settings
from bot.core import cardtext
from bot.core.commands import run_text_command
from bot.core.messages import Action, Form, Message, Reply
from bot.core.models import Caller
from bot.core.service import StudyService
from bot.schedule.runner import DailyRunner

WORKSPACE = "local"


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


def choose(actions: tuple[Action, ...], text: str) -> Action | None:
    """An action by its number or its label (the part before ' · ' is enough: 'good' for 'Good · 4d')."""
    wanted = text.strip().casefold()
    if wanted.isdigit() and 1 <= int(wanted) <= len(actions):
        return actions[int(wanted) - 1]
    for action in actions:
        label = action.label.casefold()
        if wanted in (label, label.split(" · ")[0]):
            return action
    return None


class ConsoleBot:
    def __init__(self, service: StudyService, user: str, out: TextIO = sys.stdout) -> None:
        self.service = service
        self.caller = Caller(
            platform="console", workspace_ref=WORKSPACE, user_ref=user, display_name=user, is_admin=True
        )
        self.out = out
        self.actions: tuple[Action, ...] = ()

    def show(self, message: Message) -> None:
        self.actions = message.actions or self.actions
        print(render(message), file=self.out, flush=True)

    def show_post(self, channel_ref: str, message: Message) -> None:
        """A public post in a channel (the question of the day); its buttons become the current choices."""
        print(f"── #{channel_ref} ──", file=self.out, flush=True)
        self.show(message)

    async def handle(self, line: str, read_line: Callable[[], Awaitable[str | None]]) -> None:
        text = line.strip()
        if not text:
            return
        if text.startswith("/"):
            reply: Reply = await run_text_command(self.service, self.caller, text)
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
            print(
                f"{reply.title} — {cardtext.plain(reply.context)}\n"
                f"{reply.label} (one line, at most {reply.max_length} characters):",
                file=self.out,
                flush=True,
            )
            answer = await read_line()
            if answer is None:
                return
            reply = await self.service.submit(self.caller, reply.id, answer.rstrip("\n"))
        self.show(reply)


async def run_console(
    service: StudyService, user: str, stdin: TextIO = sys.stdin, settings: Settings | None = None
) -> None:
    bot = ConsoleBot(service, user)
    # The daily question runs here too: /daily set general 09:00 Europe/Berlin, then /daily now general.
    runner = DailyRunner(service, {"console": ConsolePoster(bot.show_post)}, settings or Settings())
    await runner.start()
    try:
        await _read_loop(bot, stdin)
    finally:
        await runner.stop()


async def _read_loop(bot: ConsoleBot, stdin: TextIO) -> None:
    interactive = stdin.isatty()
    print("studybot in your terminal. Type /quiz to start, /help for commands, Ctrl-D to leave.", flush=True)

    def read_blocking() -> str | None:
        if interactive:
            print("> ", end="", flush=True)
        line = stdin.readline()
        return line if line else None

    async def read_line() -> str | None:
        return await asyncio.to_thread(read_blocking)

    while True:
        line = await read_line()
        if line is None or line.strip() in {"/quit", "/exit"}:
            break
        await bot.handle(line, read_line)

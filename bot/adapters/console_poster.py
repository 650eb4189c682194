"""The terminal's Poster: a daily question "posted" to a channel is printed; the whole path runs tokenless."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable
from typing import TextIO

from bot.core.messages import Message
from bot.schedule.poster import PostRef


class ConsolePoster:
    platform = "console"

    def __init__(self, show: Callable[[str, Message], None] | None = None, out: TextIO = sys.stdout) -> None:
        """`show(channel, message)` displays a post (the console bot makes its buttons choosable)."""
        self._show = show
        self._out = out
        self._ids = itertools.count(1)
        self.posts: list[tuple[str, Message]] = []

    async def post(self, workspace_ref: str, channel_ref: str, message: Message, thread_name: str) -> PostRef:
        number = next(self._ids)
        self.posts.append((channel_ref, message))
        if self._show is not None:
            self._show(channel_ref, message)
        else:
            print(f"#{channel_ref}\n{message.plain_text()}", file=self._out, flush=True)
        print(f"  (thread opened: {thread_name})", file=self._out, flush=True)
        ref = f"{workspace_ref}/{channel_ref}/{number}"
        return PostRef(message_ref=ref, thread_ref=f"{ref}/thread")

    async def dm(self, workspace_ref: str, user_ref: str, message: Message) -> PostRef:
        """A reminder to the terminal's one member: shown like a post, before the next prompt."""
        number = next(self._ids)
        self.posts.append((f"@{user_ref}", message))
        if self._show is not None:
            self._show(f"@{user_ref}", message)
        else:
            print(f"(to you)\n{message.plain_text()}", file=self._out, flush=True)
        return PostRef(message_ref=f"{workspace_ref}/@{user_ref}/{number}")

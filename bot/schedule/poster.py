"""The Poster port: how the daily runner puts a public message in a channel. Adapters implement it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.core.messages import Message


@dataclass(frozen=True)
class PostRef:
    """Where a post landed, kept so tomorrow's post and the thread can refer to it."""

    message_ref: str
    thread_ref: str | None = None


class PostError(Exception):
    """A failed post. Subclasses say whether trying again can help."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RetryablePostError(PostError):
    """Rate limit, server error or timeout: retry with backoff (after `retry_after` seconds if given)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentPostError(PostError):
    """Channel gone, no permission, archived: pause the channel with this reason until reconfigured."""


class Poster(Protocol):
    platform: str

    async def post(self, workspace_ref: str, channel_ref: str, message: Message, thread_name: str) -> PostRef:
        """Post `message` publicly in the channel and open a discussion thread named `thread_name`
        where the platform has threads. Raises RetryablePostError or PermanentPostError."""
        ...


class DirectPoster(Protocol):
    """Direct messages to one member (reminders). The posters of the chat platforms implement it too."""

    platform: str

    async def dm(self, workspace_ref: str, user_ref: str, message: Message) -> PostRef:
        """Send `message` privately to the member. PermanentPostError: the member can't be reached (DMs
        closed, left, deactivated), so their reminders pause; RetryablePostError: try again later."""
        ...

"""The Poster port over Discord: a public daily post with its buttons, then a thread for discussion."""

from __future__ import annotations

import logging
from typing import Literal

import aiohttp
import discord

from bot.adapters.discord.render import NO_PINGS, clip, render
from bot.core.messages import Message
from bot.schedule.poster import PermanentPostError, PostRef, RetryablePostError

log = logging.getLogger(__name__)

THREAD_NAME_LIMIT = 100
THREAD_ARCHIVE_MINUTES: Literal[1440] = 1440  # a day: until the next question of the day


class DiscordPoster:
    platform = "discord"

    def __init__(self, client: discord.Client) -> None:
        self.client = client
        # user id -> their DM channel id: Discord answers the same channel every time, so a reminder
        # after the first costs one request, not two.
        self._dm_channels: dict[int, int] = {}

    def _where(self, channel_id: int) -> str:
        channel = self.client.get_channel(channel_id)
        name = getattr(channel, "name", None)
        return f"#{name}" if name else f"channel {channel_id}"

    async def post(self, workspace_ref: str, channel_ref: str, message: Message, thread_name: str) -> PostRef:
        try:
            channel_id = int(channel_ref)
        except ValueError:
            raise PermanentPostError(f"{channel_ref!r} is not a Discord channel id") from None
        guild_id = int(workspace_ref) if workspace_ref.isdigit() else None
        channel = self.client.get_partial_messageable(channel_id, guild_id=guild_id)
        shown = render(message)
        try:
            sent = await channel.send(
                embed=shown.embed, view=shown.view or discord.utils.MISSING, allowed_mentions=NO_PINGS
            )
        except (
            discord.HTTPException,
            discord.RateLimited,
            aiohttp.ClientError,
            OSError,
            TimeoutError,
        ) as exc:
            raise post_error(exc, self._where(channel_id)) from exc
        return PostRef(
            message_ref=str(sent.id), thread_ref=await self._open_thread(channel_id, sent.id, thread_name)
        )

    async def dm(self, workspace_ref: str, user_ref: str, message: Message) -> PostRef:
        """A direct message: POST /users/@me/channels {"recipient_id"} opens (or finds) the DM channel, once
        per user and process, then POST /channels/{id}/messages. A member who closed DMs from the server
        answers 403 (code 50007)."""
        del workspace_ref  # a DM channel belongs to the user, not to a server
        try:
            user_id = int(user_ref)
        except ValueError:
            raise PermanentPostError(f"{user_ref!r} is not a Discord user id") from None
        shown = render(message)
        try:
            channel_id = self._dm_channels.get(user_id)
            if channel_id is None:
                opened = await self.client.http.start_private_message(user_id)
                channel_id = self._dm_channels[user_id] = int(opened["id"])
            channel = self.client.get_partial_messageable(channel_id)
            sent = await channel.send(
                embed=shown.embed, view=shown.view or discord.utils.MISSING, allowed_mentions=NO_PINGS
            )
        except (
            discord.HTTPException,
            discord.RateLimited,
            aiohttp.ClientError,
            OSError,
            TimeoutError,
        ) as exc:
            if isinstance(exc, discord.NotFound):
                self._dm_channels.pop(user_id, None)
            raise dm_error(exc) from exc
        return PostRef(message_ref=str(sent.id))

    async def _open_thread(self, channel_id: int, message_id: int, name: str) -> str | None:
        """A discussion thread on the post. The post counts even if this fails (e.g. no thread permission)."""
        try:
            thread = await self.client.http.start_thread_with_message(
                channel_id,
                message_id,
                name=clip(name.strip() or "Discussion", THREAD_NAME_LIMIT),
                auto_archive_duration=THREAD_ARCHIVE_MINUTES,
            )
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("daily post without a thread channel=%s message=%s: %s", channel_id, message_id, exc)
            return None
        return str(thread["id"])


def post_error(exc: Exception, where: str) -> PermanentPostError | RetryablePostError:
    """Whether trying again can help: no permission and unknown channels need an admin; the rest can wait."""
    if isinstance(exc, discord.Forbidden):
        return PermanentPostError(f"missing permission to post in {where} ({exc.text or 'forbidden'})")
    if isinstance(exc, discord.NotFound):
        return PermanentPostError(f"{where} not found (deleted, or the bot was removed from the server)")
    if isinstance(exc, discord.RateLimited):
        return RetryablePostError("rate limited by Discord", retry_after=exc.retry_after)
    if isinstance(exc, discord.HTTPException):
        if exc.status == 429:
            return RetryablePostError("rate limited by Discord", retry_after=_retry_after(exc))
        if exc.status >= 500:
            return RetryablePostError(f"Discord server error {exc.status}")
        if (
            exc.status == 401
        ):  # the token, not the channel: fixing it must not need every channel reconfigured
            return RetryablePostError("Discord refused the bot token")
        return PermanentPostError(f"Discord refused the post in {where}: {exc.status} {exc.text}")
    return RetryablePostError(f"could not reach Discord: {exc!r}")  # timeouts, connection errors


def dm_error(exc: Exception) -> PermanentPostError | RetryablePostError:
    if isinstance(exc, discord.Forbidden):
        return PermanentPostError(
            "Discord would not deliver a direct message: your DMs from this server are closed."
        )
    if isinstance(exc, discord.NotFound):
        return PermanentPostError("Discord could not find you: you may have left the server.")
    return post_error(exc, "a direct message")


def _retry_after(exc: discord.HTTPException) -> float | None:
    raw = exc.response.headers.get("Retry-After") if exc.response is not None else None
    try:
        return float(raw) if raw else None
    except ValueError:
        return None

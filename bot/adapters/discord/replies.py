"""Who is asking, and how a core reply becomes the one first response Discord needs within 3 seconds.

One rule for every interaction: run the core call; if it has not answered after `defer_after` seconds
(2 s by default, well inside Discord's 3 s), defer, then deliver the reply as a follow-up or an edit.
Core calls on SQLite take milliseconds, so users normally get a direct response without a "thinking"
state, and a slow database never makes an interaction fail.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable

import discord

from bot.adapters.discord.render import NO_PINGS, modal_for, render
from bot.core.messages import Attachment, Form, Message, Reply, error
from bot.core.model.models import DM_PREFIX, Caller

log = logging.getLogger(__name__)

PLATFORM = "discord"
DEFER_AFTER = 2.0

Work = Callable[[], Awaitable[Reply]]

OOPS = error("Something went wrong on my side.", "Try again in a moment.")
FORM_TOO_SLOW = error("That took too long to open the form.", "Press the button again.")
NEEDS_SERVER = error("This command needs a server.", "In a DM you can use /quiz, /stats, /decks and /help.")


def caller_for(interaction: discord.Interaction) -> Caller:
    """The core's view of who clicked or typed: a server member, or a member of their own DM 'workspace'."""
    user = interaction.user
    guild_id = interaction.guild_id
    perms = interaction.permissions
    return Caller(
        platform=PLATFORM,
        workspace_ref=str(guild_id) if guild_id else f"{DM_PREFIX}{user.id}",
        user_ref=str(user.id),
        display_name=user.display_name,
        # Checked on every call: Manage Server can be taken away after the commands were synced.
        is_admin=guild_id is not None and (perms.manage_guild or perms.administrator),
        channel_ref=str(interaction.channel_id) if interaction.channel_id else None,
    )


def files(message: Message) -> list[discord.File]:
    """The reply's files as attachments (on an ephemeral reply, only its reader sees them)."""
    return [_file(attachment) for attachment in message.files]


def _file(attachment: Attachment) -> discord.File:
    return discord.File(
        io.BytesIO(attachment.data), filename=attachment.filename, description=attachment.description or None
    )


async def send_modal(interaction: discord.Interaction, form: Form) -> None:
    modal = modal_for(form)
    # Not kept in discord.py's modal store: submissions are routed by their custom id instead
    # (see StudyBot.on_modal_submit), so a modal opened before a restart can still be submitted.
    modal.stop()
    await interaction.response.send_modal(modal)


class Replies:
    def __init__(self, defer_after: float = DEFER_AFTER) -> None:
        self.defer_after = defer_after

    async def _run(self, work: Work, on_slow: Callable[[], Awaitable[None]]) -> Reply:
        task = asyncio.ensure_future(work())
        done, _pending = await asyncio.wait({task}, timeout=self.defer_after)
        if not done:
            await on_slow()
        try:
            return await task
        except Exception:
            log.exception("core call failed")
            return OOPS

    async def command(self, interaction: discord.Interaction, work: Work) -> None:
        """A slash command: a new message, ephemeral when the core says the reply is private."""

        async def on_slow() -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)

        try:
            reply = await self._run(work, on_slow)
            if interaction.response.is_done():
                message = FORM_TOO_SLOW if isinstance(reply, Form) else reply
                await self._follow_up(interaction, message)
            elif isinstance(reply, Form):
                await send_modal(interaction, reply)
            else:
                await self._send(interaction, reply)
        except discord.HTTPException:
            log.exception("could not answer interaction id=%s", interaction.id)

    async def component(self, interaction: discord.Interaction, work: Work) -> None:
        """A button click or a form submit.

        On a private (ephemeral) card the card is edited in place, so a quiz reads as one card that turns
        over: question → answer → grade → next. Errors ("you already graded this") come as a new private
        message so the card stays as it was. On a public message (the daily post) the clicker always gets
        a new private message; the public post is never edited.
        """
        clicked = interaction.message
        in_place = clicked is not None and clicked.flags.ephemeral

        async def on_slow() -> None:
            if in_place:
                await interaction.response.defer()
            else:
                await interaction.response.defer(ephemeral=True, thinking=True)

        try:
            reply = await self._run(work, on_slow)
            deferred = interaction.response.is_done()
            if isinstance(reply, Form):
                if not deferred:
                    await send_modal(interaction, reply)
                    return
                reply = FORM_TOO_SLOW
            edit = in_place and reply.private and not reply.is_error
            if not deferred:
                if edit:
                    shown = render(reply)
                    await interaction.response.edit_message(
                        embed=shown.embed,
                        view=shown.view,
                        allowed_mentions=NO_PINGS,
                        attachments=files(reply),
                    )
                else:
                    await self._send(interaction, reply)
            elif edit:
                shown = render(reply)
                await interaction.edit_original_response(
                    embed=shown.embed, view=shown.view, allowed_mentions=NO_PINGS, attachments=files(reply)
                )
            else:
                await self._follow_up(interaction, reply)
        except discord.HTTPException:
            log.exception("could not answer interaction id=%s", interaction.id)

    async def _send(self, interaction: discord.Interaction, message: Message) -> None:
        shown = render(message)
        await interaction.response.send_message(
            embed=shown.embed,
            view=shown.view or discord.utils.MISSING,
            ephemeral=message.private,
            allowed_mentions=NO_PINGS,
            files=files(message),
        )

    async def _follow_up(self, interaction: discord.Interaction, message: Message) -> None:
        shown = render(message)
        await interaction.followup.send(
            embed=shown.embed,
            view=shown.view or discord.utils.MISSING,
            ephemeral=message.private,
            allowed_mentions=NO_PINGS,
            files=files(message),
        )

"""What every interaction needs: the core service and the replies. Clicks and form submissions go to the
core as they are; the core reads the ids (core/actions.py)."""

from __future__ import annotations

from typing import Any

import discord

from bot.adapters.discord.components import submitted_values
from bot.adapters.discord.render import FORM_PREFIX
from bot.adapters.discord.replies import DEFER_AFTER, Replies, caller_for
from bot.adapters.downloads import DISCORD_CDN, Downloader
from bot.core.messages import Upload
from bot.core.service import StudyService


class StudyBot:
    """One per client: the client hands it to the command tree and routes clicks and modals to it."""

    def __init__(
        self,
        service: StudyService | None,
        defer_after: float = DEFER_AFTER,
        downloads: Downloader | None = None,
    ) -> None:
        self._service = service
        self.replies = Replies(defer_after)
        self.downloads = downloads or Downloader(DISCORD_CDN, "Discord")

    @property
    def service(self) -> StudyService:
        if self._service is None:  # `studybot discord sync` builds the tree without a service
            raise RuntimeError("this client has no StudyService")
        return self._service

    async def upload(self, attachment: discord.Attachment) -> Upload:
        """An attachment option's file, from Discord's CDN only (DownloadError says why not)."""
        self.downloads.check_size(attachment.size)  # Discord tells the size: a big file is not fetched
        return Upload(attachment.filename, await self.downloads.fetch(attachment.url))

    async def on_action(self, interaction: discord.Interaction, action_id: str) -> None:
        caller = caller_for(interaction)
        await self.replies.component(interaction, lambda: self.service.act(caller, action_id))

    async def on_modal_submit(self, interaction: discord.Interaction) -> None:
        data: dict[str, Any] = dict(interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        if not custom_id.startswith(FORM_PREFIX):
            return
        form_id = custom_id.removeprefix(FORM_PREFIX)
        values = submitted_values(data.get("components", []))
        caller = caller_for(interaction)
        await self.replies.component(interaction, lambda: self.service.submit(caller, form_id, values))

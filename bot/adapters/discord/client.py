"""The discord.py client: no privileged intents, nobody pinged, the command tree and the dynamic buttons."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from bot.adapters.discord.commands import build_tree
from bot.adapters.discord.components import ActionButton
from bot.adapters.discord.handlers import StudyBot
from bot.adapters.discord.render import NO_PINGS
from bot.adapters.discord.replies import DEFER_AFTER
from bot.adapters.downloads import Downloader
from bot.core.service import StudyService

log = logging.getLogger(__name__)

# discord.py waits out short rate limits itself; longer ones raise RateLimited, so a daily post is
# retried later by the runner instead of blocking it.
MAX_RATELIMIT_WAIT = 30.0


class _StudyClientMixin:
    studybot: StudyBot

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.type is discord.InteractionType.modal_submit:
            await self.studybot.on_modal_submit(interaction)

    async def clicked(self, interaction: discord.Interaction[Any], action_id: str) -> None:
        """A button's click (see components.ActionButton)."""
        await self.studybot.on_action(interaction, action_id)


class StudyClient(_StudyClientMixin, discord.Client):
    tree: app_commands.CommandTree[discord.Client]


class ShardedStudyClient(_StudyClientMixin, discord.AutoShardedClient):
    tree: app_commands.CommandTree[discord.Client]


def intents() -> discord.Intents:
    """Guilds only: interactions carry everything else. Nothing privileged (members, message content)."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    return wanted


def build_client(
    service: StudyService | None,
    *,
    sharded: bool = False,
    shard_count: int | None = None,
    shard_ids: tuple[int, ...] | None = None,
    defer_after: float = DEFER_AFTER,
    downloads: Downloader | None = None,
) -> StudyClient | ShardedStudyClient:
    """A plain client (one gateway connection) unless sharded. A sharded client without a count gets it,
    and its shard ids, from the adapter after login (discord.py refuses ids without a count)."""
    discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = (
        False  # no voice here: no warnings about it
    )
    options: dict[str, Any] = {
        "intents": intents(),
        "allowed_mentions": NO_PINGS,
        "max_ratelimit_timeout": MAX_RATELIMIT_WAIT,
    }
    client: StudyClient | ShardedStudyClient
    if sharded or shard_count or shard_ids is not None:
        if shard_ids is not None and shard_count:
            options["shard_ids"] = list(shard_ids)
        client = ShardedStudyClient(shard_count=shard_count or None, **options)
    else:
        client = StudyClient(**options)
    client.studybot = StudyBot(service, defer_after, downloads)
    client.tree = build_tree(client, client.studybot)
    client.add_dynamic_items(ActionButton)
    return client

"""`studybot discord sync [--guild ID]` and `studybot discord invite`."""

from __future__ import annotations

import argparse
import asyncio
import sys

import discord

from bot.adapters.discord.app import login, use_api_base
from bot.adapters.discord.client import build_client
from bot.config import ConfigError, Settings
from bot.core.texts.words import plural

# The least the bot needs: see channels, post the daily question with its embed, open and talk in its
# thread. Interaction replies need no permission at all.
BOT_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    embed_links=True,
    read_message_history=True,
)


def invite_url(application_id: int) -> str:
    return (
        f"https://discord.com/oauth2/authorize?client_id={application_id}"
        f"&scope=bot+applications.commands&permissions={BOT_PERMISSIONS.value}"
    )


async def sync_commands(settings: Settings, guild_id: int | None) -> list[str]:
    """Upload the command tree: to one server (shows at once) or globally (may take a while to appear)."""
    use_api_base(settings)
    client = build_client(None)
    await login(client, settings.discord_token)
    try:
        if guild_id is None:
            synced = await client.tree.sync()
        else:
            guild = discord.Object(id=guild_id)
            client.tree.copy_global_to(guild=guild)
            synced = await client.tree.sync(guild=guild)
    finally:
        await client.close()
    return [command.name for command in synced]


async def application_id(settings: Settings) -> int:
    if settings.discord_application_id is not None:
        return settings.discord_application_id
    if not settings.discord_token:
        raise ConfigError("set DISCORD_APPLICATION_ID, or DISCORD_TOKEN to look the application up")
    use_api_base(settings)
    client = build_client(None)
    await login(client, settings.discord_token)
    try:
        assert client.application_id is not None  # set by login
        return client.application_id
    finally:
        await client.close()


def _shown(name: str) -> str:
    """A slash command as typed; a message action (its name has capitals or spaces, which slash
    command names may not) as members see it in the Apps menu."""
    return f"/{name}" if name == name.lower() and " " not in name else f"“{name}” (message action)"


def run_discord_command(args: argparse.Namespace, settings: Settings) -> int:
    try:
        if args.discord_command == "invite":
            print(invite_url(asyncio.run(application_id(settings))))
            return 0
        if args.discord_command == "sync":
            names = asyncio.run(sync_commands(settings, args.guild))
            where = (
                f"server {args.guild}"
                if args.guild
                else "all servers (global commands can take a few minutes to appear)"
            )
            shown = ", ".join(_shown(n) for n in names)
            print(f"synced {plural(len(names), 'command')} to {where}: {shown}")
            return 0
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    return 2

"""`studybot discord sync [--guild ID]` and `studybot discord invite`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

import discord

from bot.adapters.discord.app import login, use_api_base
from bot.adapters.discord.client import build_client
from bot.config import ConfigError, Settings

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


def add_discord_parser(sub: Any) -> None:
    """Add `discord sync` and `discord invite` to the `studybot` command's subparsers."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "discord", help="Discord tools: sync commands, invite link"
    )
    discord_sub = parser.add_subparsers(dest="discord_command", required=True)
    sync = discord_sub.add_parser("sync", help="register the slash commands with Discord")
    sync.add_argument("--guild", type=int, metavar="ID", help="a server for instant sync while developing")
    discord_sub.add_parser("invite", help="print the link that adds the bot to a server")


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
    raw = os.environ.get("DISCORD_APPLICATION_ID", "").strip()
    if raw:
        if not raw.isdigit():
            raise ConfigError(f"DISCORD_APPLICATION_ID must be a number, not {raw!r}")
        return int(raw)
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
            print(f"synced {len(names)} commands to {where}: {', '.join('/' + n for n in names)}")
            return 0
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    return 2

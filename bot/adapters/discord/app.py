"""The Discord adapter as the runner sees it: a component with a poster for daily questions."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiohttp
import discord
import yarl
from discord.gateway import DiscordWebSocket

from bot.adapters.discord.client import ShardedStudyClient, StudyClient, build_client
from bot.adapters.discord.poster import DiscordPoster
from bot.adapters.discord.replies import DEFER_AFTER
from bot.adapters.downloads import DISCORD_CDN, Downloader, parse_hosts
from bot.config import ConfigError, Settings, check_shard_ids, format_shard_ids
from bot.core.service import StudyService

log = logging.getLogger(__name__)

GATEWAY_RETRY_FIRST = 2.0
GATEWAY_RETRY_MAX = 60.0
DISCORD_GATEWAY = DiscordWebSocket.DEFAULT_GATEWAY  # discord.py's own, for when no other is set


def use_api_base(settings: Settings) -> None:
    """Point discord.py at another REST API (a local fake in tests). Process-wide, like discord.py's own."""
    if settings.discord_api_base:
        discord.http.Route.BASE = settings.discord_api_base.rstrip("/")


def use_gateway(settings: Settings) -> None:
    """Point discord.py at another gateway (a local fake in tests), or back at Discord's.

    discord.py has no option for it: both clients open each new session at `DEFAULT_GATEWAY` (the plain one
    always, the sharded one when given a shard count, as here) and resume at READY's resume_gateway_url. So
    that class attribute is the one place, process-wide like the REST base; set by every adapter, so that
    one built later without the setting does not inherit it."""
    url = settings.discord_gateway_url
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url) if url else DISCORD_GATEWAY
    if url:
        log.info("discord gateway at %s", url)


async def login(client: discord.Client, token: str) -> None:
    """Log in over REST, failing fast with a message that says what to fix."""
    if not token:
        raise ConfigError(
            "DISCORD_TOKEN is not set: copy the token from the Bot page of your Discord application"
        )
    try:
        await client.login(token)
    except discord.LoginFailure as exc:
        await client.close()
        raise ConfigError(f"DISCORD_TOKEN was refused by Discord: {exc} Copy the bot token again.") from None
    except (discord.HTTPException, aiohttp.ClientError, OSError) as exc:
        await client.close()
        raise ConfigError(f"could not log in to Discord at {discord.http.Route.BASE}: {exc}") from None


class DiscordAdapter:
    name = "discord"

    def __init__(
        self, settings: Settings, service: StudyService, *, defer_after: float = DEFER_AFTER
    ) -> None:
        use_api_base(settings)
        use_gateway(settings)
        self.settings = settings
        self.client: StudyClient | ShardedStudyClient = build_client(
            service,
            sharded=settings.discord_sharded,
            shard_count=settings.discord_shard_count,
            shard_ids=settings.discord_shard_ids,
            defer_after=defer_after,
            downloads=Downloader(parse_hosts(settings.discord_cdn_url, DISCORD_CDN), "Discord"),
        )
        self.tree = self.client.tree
        self.poster = DiscordPoster(self.client)
        self._gateway: asyncio.Task[None] | None = None
        self._failure = ""

    async def login(self) -> None:
        await login(self.client, self.settings.discord_token)
        log.info("discord logged in as user=%s application=%s", self.client.user, self.client.application_id)

    async def start(self) -> None:
        await self.login()
        try:
            await self.plan_shards()
        except BaseException:
            await self.client.close()
            raise
        self._gateway = asyncio.create_task(self._keep_connected(), name="discord-gateway")

    async def plan_shards(self) -> None:
        """Settle the shard count and this instance's shards before connecting, and log them.

        A count left to Discord is fetched here rather than by discord.py, so that the ids can be checked
        against it and every shard still connects at DISCORD_GATEWAY_URL (see use_gateway)."""
        client = self.client
        if not isinstance(client, ShardedStudyClient):
            log.info("discord shards: none, one gateway connection")
            return
        count = self.settings.discord_shard_count
        source = f"DISCORD_SHARD_COUNT={count}"
        if not count:
            count, _url, _limits = await client.http.get_bot_gateway()
            source = f"Discord's recommended count of {count} (GET /gateway/bot)"
            client.shard_count = count
        ids = self.settings.discord_shard_ids
        if ids is not None:
            check_shard_ids(ids, count, source)
            client.shard_ids = list(ids)
        log.info(
            "discord shards: this instance runs shard(s) %s of %d, count from %s",
            format_shard_ids(ids if ids is not None else range(count)),
            count,
            "Discord" if self.settings.discord_shard_count is None else "DISCORD_SHARD_COUNT",
        )

    async def _keep_connected(self) -> None:
        """Run the gateway until stopped. discord.py reconnects by itself once connected, but its retry loop
        dies when the very first connection fails (Rapptz/discord.py#10520), so that case is retried here."""
        delay = GATEWAY_RETRY_FIRST
        while not self.client.is_closed():
            try:
                await self.client.connect(reconnect=True)
                return
            except (discord.PrivilegedIntentsRequired, discord.LoginFailure) as exc:
                self._failure = str(exc)
                log.error("discord gateway refused the bot: %s", exc)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.client.is_closed():  # discord.py closes itself on fatal close codes
                    self._failure = f"gateway closed: {exc!r}"
                    log.error("discord gateway closed: %r", exc)
                    return
                log.warning("discord gateway connection failed, retrying in %.0fs: %r", delay, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, GATEWAY_RETRY_MAX)

    @property
    def status(self) -> str:
        """For the health endpoint."""
        if self._failure:
            return f"failed: {self._failure}"
        if self.client.is_closed():
            return "stopped"
        return "connected" if self.client.is_ready() else "connecting"

    async def stop(self) -> None:
        await self.client.close()
        if self._gateway is not None:
            self._gateway.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._gateway

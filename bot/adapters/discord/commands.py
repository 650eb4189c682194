"""The slash commands. Each one maps its options to one core call; the core decides and words the reply."""

from __future__ import annotations

import functools
import logging
import zoneinfo
from collections.abc import Awaitable, Callable

import discord
from discord import app_commands

from bot.adapters.discord.render import NO_PINGS, render
from bot.adapters.discord.replies import NEEDS_SERVER, OOPS, caller_for
from bot.core.messages import Reply
from bot.core.model.models import Caller
from bot.core.service import StudyService

log = logging.getLogger(__name__)

CHOICE_LIMIT = 25  # Discord shows at most 25 autocomplete choices
MANAGE_SERVER = discord.Permissions(manage_guild=True)


class PostChannel(app_commands.Transformer):
    """A text or announcement channel option, taken as sent: no channel cache needed (guilds intent only)."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return [discord.ChannelType.text, discord.ChannelType.news]

    async def transform(self, interaction: discord.Interaction, value: object, /) -> object:
        return value


ChannelOption = app_commands.Transform[app_commands.AppCommandChannel, PostChannel]


@functools.cache
def _timezones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def best_matches(options: list[str] | tuple[str, ...], typed: str) -> list[app_commands.Choice[str]]:
    """Prefix matches first, then matches anywhere; case-insensitive."""
    wanted = typed.strip().casefold().replace(" ", "_")
    prefix = [o for o in options if o.casefold().startswith(wanted)]
    inside = [o for o in options if wanted in o.casefold() and o not in prefix]
    return [app_commands.Choice(name=o[:100], value=o[:100]) for o in (prefix + inside)[:CHOICE_LIMIT]]


def build_tree(client: discord.Client) -> app_commands.CommandTree[discord.Client]:
    from bot.adapters.discord.client import studybot_of

    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(
        client,
        # Usable in servers and in the bot's DMs (where /quiz is private study); installed to servers only.
        allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=True),
        allowed_installs=app_commands.AppInstallationType(guild=True),
    )

    @tree.error
    async def on_error(interaction: discord.Interaction, exc: app_commands.AppCommandError) -> None:
        if isinstance(exc, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
            await unknown_command(interaction, exc)
            return
        # Option conversion failures and bugs outside the core call: still answer, privately.
        log.error("command failed: %r", exc, exc_info=exc)
        if not interaction.response.is_done():
            await interaction.response.send_message(
                embed=render(OOPS).embed, ephemeral=True, allowed_mentions=NO_PINGS
            )

    async def unknown_command(
        interaction: discord.Interaction,
        exc: app_commands.CommandNotFound | app_commands.CommandSignatureMismatch,
    ) -> None:
        """A command Discord still shows but this bot no longer has, or has with other options: the
        commands were changed without `studybot discord sync`, or the member's Discord has not reloaded."""
        if isinstance(exc, app_commands.CommandNotFound):
            name, stale = " ".join([*exc.parents, exc.name]), False
        else:
            name, stale = exc.command.qualified_name, True
        log.warning("unknown or outdated command /%s; run `studybot discord sync` if this repeats", name)
        if interaction.type is discord.InteractionType.autocomplete:
            await interaction.response.autocomplete([])
            return

        async def work() -> Reply:
            return service_of(interaction).unknown_command(name, stale=stale)

        await studybot_of(interaction).replies.command(interaction, work)

    def service_of(interaction: discord.Interaction) -> StudyService:
        return studybot_of(interaction).service

    async def answer(
        interaction: discord.Interaction,
        call: Callable[[StudyService, Caller], Awaitable[Reply]],
        *,
        server_only: bool = False,
    ) -> None:
        bot = studybot_of(interaction)
        caller = caller_for(interaction)

        async def work() -> Reply:
            if server_only and interaction.guild_id is None:
                return NEEDS_SERVER
            return await call(bot.service, caller)

        await bot.replies.command(interaction, work)

    async def deck_choices(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return best_matches(await service_of(interaction).store.deck_ids(), current)

    async def timezone_choices(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return best_matches(_timezones(), current)

    # -- studying ---------------------------------------------------------------------------------

    @tree.command(name="quiz", description="Your next question: cards due for review first, then new ones")
    @app_commands.describe(deck="Only questions from this deck")
    @app_commands.autocomplete(deck=deck_choices)
    async def quiz(interaction: discord.Interaction, deck: str | None = None) -> None:
        await answer(interaction, lambda s, c: s.quiz(c, deck))

    @tree.command(name="stats", description="Your streak, cards learned and due, recall and points")
    async def stats(interaction: discord.Interaction) -> None:
        await answer(interaction, lambda s, c: s.stats(c))

    @tree.command(name="leaderboard", description="Top members and teams of this server")
    @app_commands.describe(period="Which points count (default: this week)")
    @app_commands.choices(
        period=[
            app_commands.Choice(name="This week", value="week"),
            app_commands.Choice(name="This month", value="month"),
            app_commands.Choice(name="All time", value="all"),
        ]
    )
    async def leaderboard(interaction: discord.Interaction, period: str | None = None) -> None:
        await answer(interaction, lambda s, c: s.leaderboard(c, period), server_only=True)

    team = app_commands.Group(name="team", description="Study as a squad")

    @team.command(name="join", description="Join a team (or start one) in this server")
    @app_commands.describe(name="The team's name")
    async def team_join(interaction: discord.Interaction, name: app_commands.Range[str, 1, 40]) -> None:
        await answer(interaction, lambda s, c: s.team_join(c, name), server_only=True)

    @team.command(name="leave", description="Leave your team")
    async def team_leave(interaction: discord.Interaction) -> None:
        await answer(interaction, lambda s, c: s.team_leave(c), server_only=True)

    @team.command(name="list", description="The teams of this server and their members")
    async def team_list(interaction: discord.Interaction) -> None:
        await answer(interaction, lambda s, c: s.team_list(c), server_only=True)

    tree.add_command(team)

    @tree.command(name="decks", description="The decks and your progress in each")
    @app_commands.describe(action="Admins: read the deck files again, without a restart")
    @app_commands.choices(action=[app_commands.Choice(name="Reload the deck files (admins)", value="reload")])
    async def decks(interaction: discord.Interaction, action: str | None = None) -> None:
        await answer(interaction, lambda s, c: s.decks_reload(c) if action == "reload" else s.decks(c))

    @tree.command(name="help", description="What studybot does and how to use it")
    async def help_(interaction: discord.Interaction) -> None:
        async def call(s: StudyService, c: Caller) -> Reply:
            return s.help()

        await answer(interaction, call)

    # -- the daily question (admins) --------------------------------------------------------------

    # Hidden from members without Manage Server by default; a server can change that in its
    # Integrations settings, so the permission is checked again on every call (Caller.is_admin).
    daily = app_commands.Group(
        name="daily", description="The question of the day in a channel", default_permissions=MANAGE_SERVER
    )

    def channel_ref(interaction: discord.Interaction, channel: app_commands.AppCommandChannel | None) -> str:
        return str(channel.id if channel is not None else interaction.channel_id)

    @daily.command(name="set", description="Post a question of the day in a channel")
    @app_commands.describe(
        time="Time of day, 24-hour HH:MM",
        timezone="IANA timezone, e.g. Europe/Berlin",
        channel="Where to post (default: this channel)",
        deck="Draw from this deck only (default: all decks)",
        weekdays="Days to post, e.g. mon-fri (default: every day)",
    )
    @app_commands.autocomplete(timezone=timezone_choices, deck=deck_choices)
    async def daily_set(
        interaction: discord.Interaction,
        time: app_commands.Range[str, 1, 10],
        timezone: app_commands.Range[str, 1, 64],
        channel: ChannelOption | None = None,
        deck: str | None = None,
        weekdays: str | None = None,
    ) -> None:
        where = channel_ref(interaction, channel)
        await answer(
            interaction,
            lambda s, c: s.daily.configure(c, where, time, timezone, deck=deck, weekdays=weekdays),
            server_only=True,
        )

    @daily.command(name="off", description="Stop the question of the day in a channel")
    @app_commands.describe(channel="Which channel (default: this channel)")
    async def daily_off(interaction: discord.Interaction, channel: ChannelOption | None = None) -> None:
        where = channel_ref(interaction, channel)
        await answer(interaction, lambda s, c: s.daily.off(c, where), server_only=True)

    @daily.command(name="status", description="When and where the question of the day is posted")
    @app_commands.describe(channel="Which channel (default: every channel of this server)")
    async def daily_status(interaction: discord.Interaction, channel: ChannelOption | None = None) -> None:
        where = str(channel.id) if channel is not None else None
        await answer(interaction, lambda s, c: s.daily.status(c, where), server_only=True)

    @daily.command(name="now", description="Post today's question now")
    @app_commands.describe(channel="Which channel (default: this channel)")
    async def daily_now(interaction: discord.Interaction, channel: ChannelOption | None = None) -> None:
        where = channel_ref(interaction, channel)
        await answer(interaction, lambda s, c: s.daily.post_now(c, where), server_only=True)

    tree.add_command(daily)
    return tree

"""The slash commands, generated from the core's command table (core/commands.py): a group for each name
with subcommands, a choice for each argument that has them, autocomplete for decks and time zones, and
groups with admin rows hidden from members without Manage Server. Each command makes one core call."""

from __future__ import annotations

import functools
import inspect
import logging
import zoneinfo
from collections.abc import Callable, Coroutine
from typing import Any, Optional

import discord
from discord import app_commands

from bot.adapters.discord.handlers import StudyBot
from bot.adapters.discord.render import NO_PINGS, render
from bot.adapters.discord.replies import NEEDS_SERVER, OOPS, caller_for
from bot.adapters.downloads import DownloadError
from bot.core import commands as core_commands
from bot.core.commands import GROUPS, Arg, Command, Kind
from bot.core.messages import Reply, Upload

log = logging.getLogger(__name__)

CHOICE_LIMIT = 25  # Discord shows at most 25 autocomplete choices
DESCRIPTION_LIMIT = 100
MANAGE_SERVER = discord.Permissions(manage_guild=True)
ACTION = "action"  # the option choosing a subcommand of a command that also runs plain (`/decks reload`)

MAKE_CARD = "Make a study card"  # the message action's name, as members see it

Complete = Callable[[discord.Interaction, str], Coroutine[Any, Any, list[app_commands.Choice[str]]]]


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


def build_tree(client: discord.Client, bot: StudyBot) -> app_commands.CommandTree[discord.Client]:
    table = core_commands.COMMANDS
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
            return bot.service.unknown_command(name, stale=stale)

        await bot.replies.command(interaction, work)

    async def deck_choices(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return best_matches(await bot.service.deck_names(caller_for(interaction)), current)

    async def timezone_choices(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return best_matches(_timezones(), current)

    complete: dict[Kind, Complete] = {Kind.DECK: deck_choices, Kind.TIMEZONE: timezone_choices}
    for name in dict.fromkeys(row.name for row in table):
        rows = [row for row in table if row.name == name]
        plain = next((row for row in rows if not row.sub), None)
        if plain is not None:
            tree.add_command(_command(bot, plain, [r for r in rows if r.sub], complete))
            continue
        # Hidden from members without Manage Server by default when members have nothing in it but a
        # read-only view (`/daily status`); `/deck add` keeps its group shown. A server can change that in
        # its Integrations settings, so the core checks the permission again on every call (Caller.is_admin).
        admins_only = any(row.admin for row in rows) and all(row.admin or row.bare for row in rows)
        group = app_commands.Group(
            name=name,
            description=GROUPS[name],
            default_permissions=MANAGE_SERVER if admins_only else None,
        )
        for row in rows:
            group.add_command(_command(bot, row, [], complete))
        tree.add_command(group)
    tree.add_command(_make_card(bot))
    return tree


def _make_card(bot: StudyBot) -> app_commands.ContextMenu:
    """The message action "Make a study card": the core's form, the message's text in it, as a modal.
    (Interactions carry the message's content without the message-content intent.)"""

    async def make_card(interaction: discord.Interaction, message: discord.Message) -> None:
        caller = caller_for(interaction)

        async def work() -> Reply:
            return await bot.service.card_from_message(caller, message.content)

        await bot.replies.command(interaction, work)

    # Servers only: a card made in a DM would wait for a review no admin can give (no server, no admins).
    return app_commands.ContextMenu(
        name=MAKE_CARD,
        callback=make_card,
        allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=False),
    )


def _command(
    bot: StudyBot, row: Command, subs: list[Command], complete: dict[Kind, Complete]
) -> app_commands.Command[Any, ..., None]:
    """One slash command for a row; `subs` are rows its `action` option can choose instead."""

    async def callback(interaction: discord.Interaction, **options: Any) -> None:
        chosen = next((sub for sub in subs if sub.sub == options.get(ACTION)), row)
        caller = caller_for(interaction)

        async def work() -> Reply:
            if chosen.in_server and interaction.guild_id is None:
                return NEEDS_SERVER
            args: dict[str, str | Upload | None] = {}
            for arg in chosen.args:
                value = options.get(arg.name)
                if not isinstance(value, discord.Attachment):
                    args[arg.name] = _value(value)
                elif chosen.admin and not caller.is_admin:
                    args[arg.name] = None  # the core refuses a member; their file is not fetched
                else:
                    try:  # inside the work: a slow download defers like a slow database
                        args[arg.name] = await bot.upload(value)
                    except DownloadError as exc:
                        return exc.reply
            return await chosen.call(bot.service, caller, args)

        await bot.replies.command(interaction, work)

    params = [inspect.Parameter("interaction", _POSITIONAL, annotation=discord.Interaction)]
    params += [_parameter(arg) for arg in row.args]
    described = {arg.name: arg.help for arg in row.args}
    choices = {arg.name: [_choice(c.label, c.value) for c in arg.choices] for arg in row.args if arg.choices}
    if subs:
        params.append(_optional(ACTION, str))
        described[ACTION] = _clip("; ".join(_for_whom(sub) for sub in subs))
        choices[ACTION] = [_choice(_for_whom(sub), sub.sub) for sub in subs]
    callback.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    app_commands.describe(**described)(callback)
    if choices:
        app_commands.choices(**choices)(callback)
    completed = {arg.name: complete[arg.kind] for arg in row.args if arg.kind in complete}
    if completed:
        app_commands.autocomplete(**completed)(callback)
    return app_commands.Command(name=row.sub or row.name, description=_clip(row.help), callback=callback)


_POSITIONAL = inspect.Parameter.POSITIONAL_ONLY


def _for_whom(row: Command) -> str:
    return row.help + (" (admins)" if row.admin else "")


def _parameter(arg: Arg) -> inspect.Parameter:
    kind: Any = str
    if arg.kind is Kind.CHANNEL:
        kind = ChannelOption
    elif arg.kind is Kind.FILE:
        kind = discord.Attachment
    elif arg.max_length is not None:
        kind = app_commands.Range[str, 1, arg.max_length]
    if not arg.required:
        return _optional(arg.name, kind)
    return inspect.Parameter(arg.name, inspect.Parameter.KEYWORD_ONLY, annotation=kind)


def _optional(name: str, kind: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=Optional[kind], default=None)  # noqa: UP045


def _choice(label: str, value: str) -> app_commands.Choice[str]:
    return app_commands.Choice(name=_clip(label), value=value)


def _clip(text: str) -> str:
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "…"


def _value(value: object) -> str | None:
    """An option as the core takes it: text, or a channel as its id."""
    if value is None:
        return None
    if isinstance(value, app_commands.AppCommandChannel):
        return str(value.id)
    return str(value)

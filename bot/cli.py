"""The `studybot` command: run, console, decks check, db upgrade.

Everything past argument parsing is imported when its command runs: `studybot --help` stays quick and
loads no database, migration or chat library."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="studybot", description="A Discord and Slack study bot.")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("run", help="start the configured chat adapters and the daily scheduler")

    console = sub.add_parser("console", help="the bot in this terminal, no tokens needed")
    console.add_argument("--user", help="who you are in the terminal (default: your login name)")
    console.add_argument("--db", type=Path, help="SQLite file to use instead of the configured database")

    decks = sub.add_parser("decks", help="deck tools")
    decks_sub = decks.add_subparsers(dest="decks_command", required=True)
    check = decks_sub.add_parser("check", help="validate deck files; print file:line: problem")
    check.add_argument(
        "paths", nargs="*", type=Path, help="deck files or folders (default: the content folders)"
    )

    db = sub.add_parser("db", help="database tools")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply migrations up to the newest")
    discord = sub.add_parser("discord", help="Discord tools: sync commands, invite link")
    discord_sub = discord.add_subparsers(dest="discord_command", required=True)
    sync = discord_sub.add_parser("sync", help="register the slash commands with Discord")
    sync.add_argument("--guild", type=int, metavar="ID", help="a server for instant sync while developing")
    discord_sub.add_parser("invite", help="print the link that adds the bot to a server")
    return parser


def decks_check(paths: list[Path]) -> int:
    from bot.core.decks.loader import load_decks
    from bot.core.texts.words import plural

    decks, problems = load_decks(paths)
    for deck in decks:
        print(
            f"ok   {deck.source}: “{deck.title}” — {plural(len(deck.main_cards), 'question')}, "
            f"{plural(len(deck.followup_cards), 'follow-up')}"
        )
    for problem in problems:
        print(problem)
    if not decks and not problems:
        print("no deck files found in: " + ", ".join(str(p) for p in paths))
        return 1
    return 1 if problems else 0


async def _console(settings: Settings, user: str | None) -> int:
    from bot import bootstrap
    from bot.adapters.console import default_user, run_console
    from bot.ops.logs import log_start_failure
    from bot.ops.reload import ignore_sighup_until_ready, reload_decks_on_sighup

    ignore_sighup_until_ready()
    try:
        core = await bootstrap.open_core(settings)
    except Exception as exc:
        log_start_failure(log, settings.db_url, exc)
        return 1
    reload_decks_on_sighup(core.service, say=lambda line: print(line, flush=True))
    try:
        bot, runner = bootstrap.console(core, settings, user or default_user())
        await run_console(bot, runner, settings)
    finally:
        await core.close()
    return 0


async def _upgrade(url: str) -> int:
    from bot.bootstrap import migrate
    from bot.ops.logs import log_start_failure

    try:
        await migrate(url)
    except Exception as exc:
        log_start_failure(log, url, exc)
        return 1
    print("database is up to date")
    return 0


def _run(step: Coroutine[Any, Any, int]) -> int:
    import asyncio

    try:
        return asyncio.run(step)
    except KeyboardInterrupt:  # Ctrl-C before the command could take over the signal: no traceback
        return 130


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from bot.config import ConfigError, Settings
    from bot.ops.logs import configure_logging

    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    # Structured, secret-redacting logs on stderr; the terminal bot stays quiet unless something is wrong.
    configure_logging(settings, level="WARNING" if args.command == "console" else None)
    if args.command == "decks":
        return decks_check(args.paths or list(settings.content_dirs))
    if args.command == "db":
        return _run(_upgrade(settings.db_url))
    if args.command == "console":
        from bot.bootstrap import on_database_file

        return _run(_console(on_database_file(settings, args.db), args.user))
    if args.command == "discord":
        from bot.adapters.discord.cli import run_discord_command

        return run_discord_command(args, settings)
    if args.command == "run":
        import asyncio

        from bot.runner import run

        return asyncio.run(run(settings))
    return 2


if __name__ == "__main__":
    sys.exit(main())

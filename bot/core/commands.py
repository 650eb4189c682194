"""Slash commands typed as text (`/leaderboard week`, `team join Owls`): the terminal and Slack's `/study`."""

from __future__ import annotations

from bot.core.messages import Message, Reply, error
from bot.core.model.calendar import looks_like_misspelt_weekdays, looks_like_time, looks_like_weekdays
from bot.core.model.models import Caller
from bot.core.service import StudyService
from bot.core.texts.daily import USAGE_SET


async def run_text_command(service: StudyService, caller: Caller, line: str) -> Reply:
    words = line.strip().lstrip("/").split()
    if not words:
        return service.help()
    name, args = words[0].casefold(), words[1:]
    if name == "quiz":
        return await service.quiz(caller, " ".join(args) or None)
    if name == "stats":
        return await service.stats(caller)
    if name == "leaderboard":
        return await service.leaderboard(caller, " ".join(args) or None)
    if name == "team":
        return await _team(service, caller, args)
    if name == "daily":
        return await _daily(service, caller, args)
    if name == "decks":
        if args and args[0].casefold() == "reload":
            return await service.decks_reload(caller)
        return await service.decks(caller)
    if name == "help":
        return service.help()
    return service.unknown_command(words[0])


async def _team(service: StudyService, caller: Caller, args: list[str]) -> Message:
    sub = args[0].casefold() if args else ""
    if sub == "join":
        return await service.team_join(caller, " ".join(args[1:]))
    if sub == "leave":
        return await service.team_leave(caller)
    if sub in ("", "list"):
        return await service.team_list(caller)
    return service.unknown_command(f"team {sub}".strip())


async def _daily(service: StudyService, caller: Caller, args: list[str]) -> Message:
    """`daily set|off|status|now`. The channel may be left out: in a chat it is then the current one; in
    the terminal, which has none, the service picks the only one there is (see DailyAdmin)."""
    sub = args[0].casefold() if args else "status"
    rest = args[1:]
    here = caller.channel_ref or ""
    if sub == "set":
        # A left-out channel shows as the first word being the time (even a wrong one, like 25:00).
        if rest and looks_like_time(rest[0]):
            channel = here
        elif rest:
            channel, rest = rest[0], rest[1:]
        else:
            channel = ""
        if len(rest) < 2:
            return error(f"Usage: {USAGE_SET}", "For example: /daily set general 09:00 Europe/Berlin mon-fri")
        time_text, tz_text, *extra = rest
        deck, weekdays = None, None
        joined = " ".join(extra)
        if extra and looks_like_weekdays(joined):
            weekdays = joined
        elif extra and await _misspelt_weekdays(service, extra[0], joined):
            weekdays = joined  # configure says it is not a list of weekdays, and what is
        elif extra:
            deck, weekdays = extra[0], " ".join(extra[1:]) or None
        return await service.daily.configure(caller, channel, time_text, tz_text, deck, weekdays)
    if sub == "off":
        return await service.daily.off(caller, rest[0] if rest else here)
    if sub == "status":
        return await service.daily.status(caller, rest[0] if rest else None)
    if sub == "now":
        return await service.daily.post_now(caller, rest[0] if rest else here)
    return service.unknown_command(f"daily {sub}")


async def _misspelt_weekdays(service: StudyService, first: str, words: str) -> bool:
    """`mon-fir` after the time zone: no deck of that name, and it reads like weekdays with a typo."""
    return looks_like_misspelt_weekdays(words) and isinstance(await service.resolve_deck(first), Message)

"""Slash commands typed as text (`/leaderboard week`, `team join Owls`): the terminal and Slack's `/study`."""

from __future__ import annotations

from bot.core.messages import Message, Reply
from bot.core.models import Caller
from bot.core.service import StudyService


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
    if name == "decks":
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
    return service.unknown_command(f"team {sub}".strip())

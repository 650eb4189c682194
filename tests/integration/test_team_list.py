"""`/team` alone and `/team list`: the teams of the workspace with how many members each has."""

from __future__ import annotations

from bot.core.commands import run_text_command
from bot.core.messages import Message
from bot.core.service import StudyService
from tests.conftest import member


async def test_team_alone_and_team_list_show_the_teams_with_member_counts(service: StudyService) -> None:
    for name, team in (("ann", "Owls"), ("bob", "owls"), ("cy", "Foxes"), ("dee", "Bats")):
        await service.team_join(member(name), team)
    await service.team_leave(member("dee"))  # Bats has nobody left: not listed
    await service.team_join(member("eve", workspace="guild-2"), "Elsewhere")

    for line in ("/team", "/team list", "/team LIST"):
        reply = await run_text_command(service, member("ann"), line)
        assert isinstance(reply, Message) and not reply.is_error, (line, reply.title)
        assert reply.title == "Teams"
        assert reply.sections[0].text.splitlines() == ["Owls — 2 members (yours)", "Foxes — 1 member"]
        assert "Elsewhere" not in reply.plain_text() and "Bats" not in reply.plain_text()


async def test_with_no_teams_the_list_says_how_to_start_one(service: StudyService) -> None:
    reply = await run_text_command(service, member("ann"), "/team list")
    assert isinstance(reply, Message) and not reply.is_error
    assert reply.title == "There are no teams here yet."
    assert "/team join NAME" in reply.plain_text()


async def test_an_unknown_team_subcommand_is_still_unknown(service: StudyService) -> None:
    reply = await run_text_command(service, member("ann"), "/team fly")
    assert isinstance(reply, Message) and reply.is_error
    assert reply.title == "I don't know the command “team fly”."

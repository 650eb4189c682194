"""Teams: join one by name (creating it), leave it, list the workspace's teams."""

from __future__ import annotations

from bot.core.messages import Message, Section
from bot.core.model.models import Caller
from bot.core.ports import Clock, TeamsStore
from bot.core.refusal import refusal, refuse
from bot.core.services.members import who
from bot.core.texts import teams as texts

TEAM_NAME_LIMIT = 40  # the size of teams.name and teams.name_key


class TeamService:
    def __init__(self, store: TeamsStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def join(self, caller: Caller, name: str) -> Message:
        refuse(caller, team_name=name)
        name = _checked_name(name)
        member = (await who(self.store, caller)).member
        stored = await self.store.join_team(member.id, caller.workspace_id, name, self.clock.now())
        return Message(
            title=f"You joined team {stored}.",
            sections=(Section("Your points count for the team on the leaderboard from now on."),),
        )

    async def leave(self, caller: Caller) -> Message:
        refuse(caller)
        member = (await who(self.store, caller)).member
        left = await self.store.leave_team(member.id)
        if left is None:
            raise refusal("You are not in a team.", "Join one with /team join NAME.")
        return Message(title=f"You left team {left}.")

    async def list(self, caller: Caller) -> Message:
        refuse(caller)
        member = (await who(self.store, caller)).member
        return texts.teams(await self.store.team_sizes(caller.workspace_id), member.team_id)


def _checked_name(name: str) -> str:
    """The team name with its spaces tidied; refused when empty, too long or holding markup."""
    name = " ".join(name.split())
    if not name:
        raise refusal("Give the team a name.", "For example: /team join Owls")
    if len(name) > TEAM_NAME_LIMIT:
        raise refusal(f"Team names can be at most {TEAM_NAME_LIMIT} characters; that one has {len(name)}.")
    if len(name.casefold()) > TEAM_NAME_LIMIT:  # teams are told apart by it: ß counts as ss
        raise refusal(
            f"Team names can be at most {TEAM_NAME_LIMIT} characters when compared "
            f"(ß counts as ss); that one has {len(name.casefold())}."
        )
    if any(ch in name for ch in "<>@#`*_~|"):
        raise refusal("Team names may not contain < > @ # ` * _ ~ or |.", "Letters, digits and spaces work.")
    return name

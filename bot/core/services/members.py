"""Who is calling: a caller resolved to a member row, and the zones their days and boards are counted in.

Every service that acts for a member starts here; it is a function over the store, not a service."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from bot.core import actions
from bot.core.model.member_zone import member_tz
from bot.core.model.models import AskRow, Caller, MemberRow


@dataclass(frozen=True)
class Who:
    """A caller resolved to a member, with the zones their days and boards are counted in."""

    member: MemberRow
    member_tz: str | None
    workspace_tz: str | None


class MemberStore(Protocol):
    async def ensure_caller(
        self,
        workspace_id: str,
        platform: str,
        user_ref: str,
        display_name: str,
        timezone: str | None = None,
    ) -> tuple[str | None, MemberRow]: ...


async def who(store: MemberStore, caller: Caller, now: datetime | None = None) -> Who:
    """The caller as a member; their zone as it counts at `now` (left out: the zone they chose, if any)."""
    workspace_tz, member = await store.ensure_caller(
        caller.workspace_id, caller.platform, caller.user_ref, caller.display_name, caller.timezone
    )
    at = now if now is not None else datetime.max.replace(tzinfo=UTC)
    return Who(member, member_tz(member, caller.timezone, workspace_tz, at), workspace_tz)


class HomeStore(Protocol):
    async def get_ask(self, ask_id: int) -> AskRow | None: ...

    async def get_member(self, member_id: int) -> MemberRow | None: ...


async def home(store: HomeStore, caller: Caller, action: actions.ButtonId | actions.FormId) -> Caller:
    """A click or a form in a direct message (no workspace: Discord's `dm-<user>`) on a reminder or on
    anything it led to (a card, its answer form, Next) acts in the workspace of the member it names,
    when the clicker is that member; so the whole review goes on there, as in the server."""
    member_id: int | None = None
    if isinstance(action, actions.StartReview | actions.StopReminders | actions.Next):
        member_id = action.member_id
    elif isinstance(
        action,
        actions.Reveal
        | actions.Write
        | actions.Skip
        | actions.FollowUp
        | actions.GradeAsk
        | actions.AnswerForm,
    ):
        ask = await store.get_ask(action.ask_id)
        member_id = ask.member_id if ask is not None else None
    member = await store.get_member(member_id) if member_id is not None else None
    platform, _, workspace_ref = (member.workspace_id if member else "").partition(":")
    if member is None or member.user_ref != caller.user_ref or platform != caller.platform:
        return caller
    return dataclasses.replace(caller, workspace_ref=workspace_ref, channel_ref=None)

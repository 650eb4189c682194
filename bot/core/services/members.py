"""Who is calling: a caller resolved to a member row, and the zones their days and boards are counted in.

Every service that acts for a member starts here; it is a function over the store, not a service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from bot.core.model.member_zone import member_tz
from bot.core.model.models import Caller, MemberRow


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

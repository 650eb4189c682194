"""What users.info says about a member (cached): whether they may change the daily question (the configured
user ids, or workspace admins and owners), and their time zone."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackClientError

from bot.core.model.streaks import is_valid_timezone

log = logging.getLogger(__name__)

CACHE_SECONDS = 60.0  # roles: re-read after a minute
TIMEZONE_SECONDS = 6 * 3600.0  # time zones change rarely; users.info is rate limited (Tier 4)


@dataclass(frozen=True)
class Profile:
    is_admin: bool
    timezone: str | None


def timezone_of(user: dict[str, Any]) -> str | None:
    """users.info's `tz` when it is an IANA zone we know, else a fixed zone from `tz_offset` (whole hours)."""
    tz = user.get("tz")
    if isinstance(tz, str) and tz and is_valid_timezone(tz):
        return tz
    offset = user.get("tz_offset")
    if isinstance(offset, int) and offset % 3600 == 0 and -14 <= offset // 3600 <= 12:
        hours = offset // 3600
        return "Etc/UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"  # Etc/ signs are inverted
    return None


class Profiles:
    """users.info per member, cached; after a failure (a rate limit above all) the last answer is used."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[float, Profile]] = {}
        self._quiet_until = 0.0

    async def get(self, client: Any, team_id: str, user_id: str, max_age: float) -> Profile | None:
        key = (team_id, user_id)
        now = self._clock()
        cached = self._cache.get(key)
        if cached is not None and now - cached[0] < max_age:
            return cached[1]
        if now < self._quiet_until:
            return cached[1] if cached else None
        try:
            response = await client.users_info(user=user_id)
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("users.info failed team=%s user=%s error=%r", team_id, user_id, exc)
            answer = getattr(exc, "response", None)
            if getattr(answer, "status_code", None) == 429:  # rate limited: ask nothing for a while
                retry = str((getattr(answer, "headers", None) or {}).get("Retry-After") or "")
                self._quiet_until = now + (float(retry) if retry.isdigit() else 30.0)
            return cached[1] if cached else None
        user = response.get("user") or {}
        profile = Profile(
            is_admin=bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner")),
            timezone=timezone_of(user),
        )
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (now, profile)
        return profile

    async def timezone(self, client: Any, team_id: str, user_id: str) -> str | None:
        profile = await self.get(client, team_id, user_id, TIMEZONE_SECONDS)
        return profile.timezone if profile else None


class AdminCheck:
    def __init__(
        self,
        admin_ids: Iterable[str],
        ttl: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        profiles: Profiles | None = None,
    ) -> None:
        self.admin_ids = frozenset(admin_ids)
        self._ttl = ttl
        self.profiles = profiles or Profiles(clock)

    def configured(self, user_id: str) -> bool:
        return user_id in self.admin_ids

    async def is_admin(self, client: Any, team_id: str, user_id: str) -> bool:
        """users.info's is_admin / is_owner / is_primary_owner, cached briefly (roles rarely change).
        Refusing is the safe side when Slack does not answer; the log says why."""
        if self.configured(user_id):
            return True
        profile = await self.profiles.get(client, team_id, user_id, self._ttl)
        return profile.is_admin if profile else False

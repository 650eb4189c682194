"""Who may change the daily question on Slack: the configured user ids, or workspace admins and owners."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackClientError

log = logging.getLogger(__name__)

CACHE_SECONDS = 60.0


class AdminCheck:
    def __init__(
        self,
        admin_ids: Iterable[str],
        ttl: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.admin_ids = frozenset(admin_ids)
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[float, bool]] = {}

    def configured(self, user_id: str) -> bool:
        return user_id in self.admin_ids

    async def is_admin(self, client: Any, team_id: str, user_id: str) -> bool:
        """users.info's is_admin / is_owner / is_primary_owner, cached briefly (roles rarely change)."""
        if self.configured(user_id):
            return True
        key = (team_id, user_id)
        now = self._clock()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            response = await client.users_info(user=user_id)
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            # Refusing is the safe side; the log says why an admin was refused.
            log.warning("users.info failed team=%s user=%s error=%r", team_id, user_id, exc)
            return False
        user = response.get("user") or {}
        flag = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (now + self._ttl, flag)
        return flag

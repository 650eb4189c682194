"""The running daily runner's hooks, shared by the daily services: post now, and hear about changes."""

from __future__ import annotations

from collections.abc import Callable

from bot.core.model.daily import PostTrigger


class DailyHooks:
    def __init__(self) -> None:
        # Set by a running DailyRunner: post one channel's question now.
        self.trigger: PostTrigger | None = None
        # Told when a channel's schedule changes (set, off, paused), so the runner re-plans.
        self.listeners: list[Callable[[], None]] = []

    def changed(self) -> None:
        for listener in list(self.listeners):
            listener()

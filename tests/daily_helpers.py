"""Test doubles for the daily question: a Poster that records (and fails on cue), a sleep that does not."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from bot.config import Settings
from bot.core.messages import Message
from bot.core.service import StudyService
from bot.schedule.poster import PostError, PostRef
from bot.schedule.runner import DailyRunner


@dataclass(frozen=True)
class Posted:
    workspace_ref: str
    channel_ref: str
    message: Message
    thread_name: str


class RecordingPoster:
    """Records every post. `fail[channel]` lists errors to raise, one per attempt, before posting works."""

    def __init__(self, platform: str = "test", delay: float = 0.0) -> None:
        self.platform = platform
        self.delay = delay
        self.posts: list[Posted] = []
        self.attempts: dict[str, int] = defaultdict(int)
        self.fail: dict[str, list[PostError]] = {}

    async def post(self, workspace_ref: str, channel_ref: str, message: Message, thread_name: str) -> PostRef:
        self.attempts[channel_ref] += 1
        await asyncio.sleep(self.delay)  # lets concurrent runners interleave
        errors = self.fail.get(channel_ref)
        if errors:
            raise errors.pop(0)
        self.posts.append(Posted(workspace_ref, channel_ref, message, thread_name))
        return PostRef(f"{channel_ref}/{len(self.posts)}", f"{channel_ref}/{len(self.posts)}/thread")

    def count(self, channel_ref: str) -> int:
        return sum(1 for p in self.posts if p.channel_ref == channel_ref)


class Sleeps:
    """An injected sleep that only records how long the runner wanted to wait."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


def make_runner(
    service: StudyService, poster: RecordingPoster, instance: str = "test-runner", **kwargs: Any
) -> DailyRunner:
    kwargs.setdefault("sleep", Sleeps())
    return DailyRunner(service, {poster.platform: poster}, Settings(), instance=instance, **kwargs)

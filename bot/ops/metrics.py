"""Prometheus metrics, counted at the composition root by wrapping the store and the posters.

The core stays free of metrics: a MeteredStore counts asks and grades as they are written, a MeteredPoster
counts daily posts and platform errors. Each Metrics has its own registry, so tests can make many."""

from __future__ import annotations

import asyncio
import functools
import inspect
from typing import Any

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.core.messages import Message
from bot.core.model.models import GradeOutcome, GradeRecord
from bot.schedule.poster import PermanentPostError, Poster, PostRef, RetryablePostError

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.asks = Counter(
            "studybot_asks",
            "Questions asked, by source (quiz, daily, followup).",
            ["source"],
            registry=self.registry,
        )
        self.grades = Counter(
            "studybot_grades",
            "Self-grades recorded; a double click or a retry is not counted twice.",
            ["grade"],
            registry=self.registry,
        )
        self.daily_posts = Counter(
            "studybot_daily_posts",
            "Daily questions posted, by platform.",
            ["platform"],
            registry=self.registry,
        )
        self.platform_errors = Counter(
            "studybot_platform_errors",
            "Failed calls to a chat platform, by platform and kind (retryable, permanent, other).",
            ["platform", "kind"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def value(self, name: str, **labels: str) -> float:
        """One sample's current value (0 if never counted); for tests and debugging."""
        found = self.registry.get_sample_value(name, labels)
        return float(found) if found is not None else 0.0


class MeteredStore:
    """Wraps a store: counts asks and grades, and tracks in-flight calls so shutdown can wait for them.

    Every other attribute (engine, close, methods added later) passes through unchanged."""

    def __init__(self, inner: Any, metrics: Metrics) -> None:
        self.inner = inner
        self.metrics = metrics
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def _enter(self) -> None:
        self._in_flight += 1
        self._idle.clear()

    def _leave(self) -> None:
        self._in_flight -= 1
        if self._in_flight == 0:
            self._idle.set()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def drained(self) -> None:
        """Return once no store call is running (for a bounded wait before the database is closed)."""
        await self._idle.wait()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name == "close" or not inspect.iscoroutinefunction(attr):
            return attr

        @functools.wraps(attr)
        async def tracked(*args: Any, **kwargs: Any) -> Any:
            self._enter()
            try:
                return await attr(*args, **kwargs)
            finally:
                self._leave()

        setattr(self, name, tracked)  # cached: __getattr__ only runs for missing attributes
        return tracked

    async def create_ask(self, member_id: int, card_id: int, source: str, *args: Any, **kwargs: Any) -> int:
        self._enter()
        try:
            ask_id: int = await self.inner.create_ask(member_id, card_id, source, *args, **kwargs)
        finally:
            self._leave()
        self.metrics.asks.labels(source=source).inc()
        return ask_id

    async def record_grade(self, record: GradeRecord) -> GradeOutcome | None:
        self._enter()
        try:
            outcome: GradeOutcome | None = await self.inner.record_grade(record)
        finally:
            self._leave()
        if outcome is not None:
            self.metrics.grades.labels(grade=record.grade.name.lower()).inc()
        return outcome


class MeteredPoster:
    """Wraps a Poster: counts successful daily posts and failures by kind, then re-raises unchanged."""

    def __init__(self, inner: Poster, metrics: Metrics) -> None:
        self.inner = inner
        self.metrics = metrics
        self.platform = inner.platform

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def post(self, workspace_ref: str, channel_ref: str, message: Message, thread_name: str) -> PostRef:
        try:
            ref = await self.inner.post(workspace_ref, channel_ref, message, thread_name)
        except RetryablePostError:
            self._error("retryable")
            raise
        except PermanentPostError:
            self._error("permanent")
            raise
        except Exception:
            self._error("other")
            raise
        self.metrics.daily_posts.labels(platform=self.platform).inc()
        return ref

    def _error(self, kind: str) -> None:
        self.metrics.platform_errors.labels(platform=self.platform, kind=kind).inc()

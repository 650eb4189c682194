"""The optional HTTP health endpoint: GET /healthz (database and adapter status) and GET /metrics."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ops.logs import Redactor, describe_error
from bot.ops.metrics import CONTENT_TYPE, Metrics

log = logging.getLogger(__name__)

DB_CHECK_TIMEOUT = 2.0


def database_check(engine: AsyncEngine, timeout: float = DB_CHECK_TIMEOUT) -> Callable[[], Awaitable[None]]:
    """A probe that runs SELECT 1, failing if the database does not answer within `timeout` seconds."""

    async def check() -> None:
        async with asyncio.timeout(timeout):
            async with engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))

    return check


def component_status(component: Any) -> str:
    """What an adapter says about itself (`status` text or `healthy` flag); "running" if it says nothing."""
    status = getattr(component, "status", None)
    if isinstance(status, str) and status:
        return status
    healthy = getattr(component, "healthy", None)
    if isinstance(healthy, bool):
        return "connected" if healthy else "disconnected"
    return "running"


class HealthServer:
    """A Component serving /healthz and /metrics on `port` (0 picks a free port, see `.port`)."""

    name = "health"

    def __init__(
        self,
        port: int,
        check_database: Callable[[], Awaitable[None]],
        adapters: Sequence[Any],
        metrics: Metrics,
        redact: Redactor | None = None,
        host: str = "0.0.0.0",
    ) -> None:
        self.port = port
        self.host = host
        self.check_database = check_database
        self.adapters = list(adapters)
        self.metrics = metrics
        self.redact = redact or Redactor()
        self.stopping = False
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics_page)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self._runner.addresses:
            self.port = int(self._runner.addresses[0][1])
        log.info("health endpoint listening on port %s (/healthz, /metrics)", self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def database_status(self) -> str:
        try:
            await self.check_database()
        except TimeoutError:
            return f"unreachable: no answer within {DB_CHECK_TIMEOUT:g}s"
        except Exception as exc:
            return "unreachable: " + self.redact(describe_error(exc))
        return "ok"

    async def healthz(self, _request: web.Request) -> web.Response:
        database = await self.database_status()
        adapters = {getattr(a, "name", type(a).__name__): component_status(a) for a in self.adapters}
        if self.stopping:
            status = "stopping"
        else:
            status = "ok" if database == "ok" else "unavailable"
        body = {"status": status, "database": database, "adapters": adapters}
        # 503 while stopping too, so a load balancer stops sending work to an instance on its way out.
        code = 200 if status == "ok" else 503
        return web.Response(status=code, text=json.dumps(body), content_type="application/json")

    async def metrics_page(self, _request: web.Request) -> web.Response:
        response = web.Response(body=self.metrics.render())
        response.headers["Content-Type"] = CONTENT_TYPE
        return response

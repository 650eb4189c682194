"""A fake Discord for tests: a local REST API that records what the bot sends, and interaction payloads.

The real discord.py client talks to it over HTTP (`discord.http.Route.BASE` points here) and receives
INTERACTION_CREATE payloads shaped like Discord's documented ones through the same entry point the gateway
uses (`ConnectionState.parse_interaction_create`). Tests assert on what the fake received: interaction
callbacks, follow-ups, channel messages, threads, command syncs.

Use the `discord_env` fixture (`pytest_plugins = ("tests.fakes.discord.fixtures",)` in a test module),
or `FakeDiscord` and `DiscordDriver` (driver.py) directly. For a whole `studybot run` process, the driver
delivers the same payloads through the fake gateway instead (tests/fakes/discord/gateway.py).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import discord
from aiohttp import web

API_PREFIX = "/api/v10"
TOKEN = "fake-bot-token"
APP_ID = 900000000000000001
GUILD_ID = 910000000000000001
CHANNEL_ID = 920000000000000001
EPHEMERAL = 64
LOADING = 128
ADMIN_PERMISSIONS = discord.Permissions(manage_guild=True, send_messages=True, view_channel=True).value
MEMBER_PERMISSIONS = discord.Permissions(send_messages=True, view_channel=True).value

# Interaction callback types (Discord's InteractionCallbackType).
MESSAGE = 4
DEFERRED_MESSAGE = 5
DEFERRED_UPDATE = 6
UPDATE_MESSAGE = 7
AUTOCOMPLETE_RESULT = 8
MODAL = 9

_ids = itertools.count(1)


def snowflake() -> int:
    """A fresh, time-ordered id like Discord's."""
    return (int(time.time() * 1000) - 1420070400000) << 22 | (next(_ids) % 4096)


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class Recorded:
    method: str
    path: str  # without the /api/v10 prefix
    query: dict[str, str]
    body: Any  # JSON (or multipart payload_json) as sent; None when empty
    status: int = 200
    files: list[tuple[str, bytes]] = field(default_factory=list)  # multipart files[n]: (filename, data)

    @property
    def type(self) -> int | None:
        return self.body.get("type") if isinstance(self.body, dict) else None

    @property
    def data(self) -> dict[str, Any]:
        """The message or modal inside an interaction callback, or the body of a plain message request."""
        if not isinstance(self.body, dict):
            return {}
        if "/callback" in self.path:
            return dict(self.body.get("data") or {})
        return self.body

    @property
    def flags(self) -> int:
        return int(self.data.get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in walk(self.data.get("components", [])) if "custom_id" in c]

    @property
    def title(self) -> str:
        embeds = self.data.get("embeds") or []
        return str(embeds[0].get("title", "")) if embeds else str(self.data.get("title", ""))

    def text(self) -> str:
        """Everything a person would read in it, as one string."""
        return json.dumps(self.data, ensure_ascii=False)


@dataclass
class Failure:
    method: str
    path: re.Pattern[str]
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    times: int


@dataclass
class User:
    id: int
    name: str
    permissions: int = MEMBER_PERMISSIONS

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.name.lower(),
            "discriminator": "0",
            "global_name": self.name,
            "avatar": None,
            "public_flags": 0,
        }

    def member_payload(self) -> dict[str, Any]:
        return {
            "user": self.payload(),
            "nick": None,
            "avatar": None,
            "roles": [],
            "joined_at": "2025-01-01T00:00:00+00:00",
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "permissions": str(self.permissions),
            "communication_disabled_until": None,
        }


def walk(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """All components, nested rows and labels included."""
    out: list[dict[str, Any]] = []
    for c in components:
        out.append(c)
        out.extend(walk(c.get("components", [])))
        if "component" in c:
            out.extend(walk([c["component"]]))
    return out


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py parses JSON only for a content type of exactly `application/json` (no charset).
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


class FakeDiscord:
    """The REST API on 127.0.0.1: records every request and answers like Discord would."""

    def __init__(self) -> None:
        self.bot = User(APP_ID, "studybot")
        self.requests: list[Recorded] = []
        self.messages: dict[int, dict[str, Any]] = {}
        self.threads: dict[int, dict[str, Any]] = {}
        self.dm_channels: dict[int, int] = {}  # user id → their DM channel's id
        self.originals: dict[str, int] = {}  # interaction token → its response message id
        self.interactions: dict[str, dict[str, Any]] = {}  # token → payload dispatched
        self.failures: list[Failure] = []
        self.commands: dict[str, list[dict[str, Any]]] = {}  # "global" or guild id → synced commands
        self.changed = asyncio.Event()
        self.refuse_token = False  # answer GET /users/@me with 401, as for a wrong token
        self.gateway_url = "ws://127.0.0.1:9"  # what GET /gateway/bot names; a FakeGateway sets its own
        self.cdn: dict[str, bytes] = {}  # attachment path → bytes, served under /cdn/ (the fake CDN)
        self.cdn_requests: list[str] = []
        self._runner: web.AppRunner | None = None
        self.base = ""
        self.cdn_base = ""

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}{API_PREFIX}"
        self.cdn_base = f"http://127.0.0.1:{port}/cdn"
        return self.base

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- error injection ------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` requests matching `method` and the `path` regex with an error."""
        default = {"message": f"fake error {status}", "code": 0}
        self.failures.append(Failure(method, re.compile(path), status, body or default, headers or {}, times))

    def _failure(self, method: str, path: str) -> Failure | None:
        for f in self.failures:
            if f.times > 0 and f.method == method and f.path.search(path):
                f.times -= 1
                return f
        return None

    # -- queries --------------------------------------------------------------------------------

    def received(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and (path is None or re.search(path, r.path))
        ]

    def callbacks(self, interaction_id: int | None = None) -> list[Recorded]:
        which = str(interaction_id) if interaction_id else r"\d+"
        pattern = rf"^/interactions/{which}/[^/]+/callback$"
        return self.received("POST", pattern)

    def followups(self, token: str) -> list[Recorded]:
        return [r for r in self.requests if r.path.startswith(f"/webhooks/{APP_ID}/{token}")]

    async def wait_for(self, predicate: Callable[[], Any], within: float = 5.0) -> Any:
        """Poll until `predicate()` is truthy (handlers run as tasks), or fail the test."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(
                    f"timed out waiting; received: {[(r.method, r.path) for r in self.requests]}"
                )
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), min(remaining, 0.05))
            except TimeoutError:
                pass

    # -- the API --------------------------------------------------------------------------------

    def attach(self, filename: str, data: bytes) -> dict[str, Any]:
        """Put a file on the fake CDN; returns its attachment object as Discord resolves it."""
        attachment_id = snowflake()
        path = f"attachments/{CHANNEL_ID}/{attachment_id}/{filename}"
        self.cdn[path] = data
        return {
            "id": str(attachment_id),
            "filename": filename,
            "size": len(data),
            "url": f"{self.cdn_base}/{path}?ex=1&is=2&hm=3",
            "proxy_url": f"{self.cdn_base}/{path}",
            "content_type": "text/plain; charset=utf-8",
            "ephemeral": True,
        }

    async def _body(self, request: web.Request) -> tuple[Any, list[tuple[str, bytes]]]:
        if request.content_type == "application/json":
            return await request.json(), []
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            body: Any = None
            files: list[tuple[str, bytes]] = []
            while (part := await reader.next()) is not None:
                name = getattr(part, "name", None)
                if name == "payload_json":
                    body = json.loads(await part.text())  # type: ignore[union-attr]
                elif name and name.startswith("files["):
                    files.append((part.filename or "", bytes(await part.read())))  # type: ignore[union-attr]
            return body, files
        raw = await request.read()
        return (json.loads(raw) if raw else None), []

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.path.startswith("/cdn/"):
            return self._cdn(request)
        path = request.path.removeprefix(API_PREFIX)
        body, files = await self._body(request)
        if files:
            self._uploaded(body, path, files)
        record = Recorded(request.method, path, dict(request.query), body, files=files)
        self.requests.append(record)
        try:
            failure = self._failure(request.method, path)
            if failure is not None:
                record.status = failure.status
                return _json(failure.body, failure.status, failure.headers)
            response = self._route(request.method, path, record.body)
            record.status = response.status
            return response
        finally:
            self.changed.set()

    def _uploaded(self, body: Any, path: str, files: list[tuple[str, bytes]]) -> None:
        """Files sent with a message become its attachments, as Discord stores them on its CDN."""
        message = body.get("data") if "/callback" in path and isinstance(body, dict) else body
        if not isinstance(message, dict):
            return
        described = {int(a["id"]): a for a in message.get("attachments") or [] if "id" in a}
        stored = []
        for n, (filename, data) in enumerate(files):
            full = self.attach(filename, data)
            full["description"] = described.get(n, {}).get("description")
            stored.append(full)
        message["attachments"] = stored

    def _cdn(self, request: web.Request) -> web.Response:
        path = request.path.removeprefix("/cdn/")
        self.cdn_requests.append(path)
        self.changed.set()
        if request.method != "GET" or path not in self.cdn:
            return web.Response(status=404)
        return web.Response(body=self.cdn[path], content_type="text/plain")

    def _route(self, method: str, path: str, body: Any) -> web.Response:
        if (method, path) == ("GET", "/users/@me"):
            if self.refuse_token:
                return _json({"message": "401: Unauthorized", "code": 0}, 401)
            return _json(
                self.bot.payload() | {"bot": True, "verified": True, "mfa_enabled": False, "flags": 0}
            )
        if (method, path) == ("GET", "/oauth2/applications/@me"):
            return _json(self._application())
        if (method, path) == ("GET", "/gateway/bot"):
            limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
            return _json({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})
        if (method, path) == ("POST", "/users/@me/channels"):
            return _json(self._open_dm(body))
        if m := re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", path):
            return self._callback(int(m[1]), m[2], body)
        if m := re.fullmatch(rf"/webhooks/{APP_ID}/([^/]+)", path):
            return self._follow_up(m[1], body) if method == "POST" else _json({}, 405)
        if m := re.fullmatch(rf"/webhooks/{APP_ID}/([^/]+)/messages/(@original|\d+)", path):
            return self._webhook_message(method, m[1], m[2], body)
        if m := re.fullmatch(r"/channels/(\d+)/messages", path):
            if method == "POST":
                return _json(self._message(int(m[1]), body))
        if m := re.fullmatch(r"/channels/(\d+)/messages/(\d+)/threads", path):
            if method == "POST":
                return _json(self._thread(int(m[1]), int(m[2]), body))
        if m := re.fullmatch(r"/applications/(\d+)(?:/guilds/(\d+))?/commands", path):
            if method == "PUT":
                return _json(self._sync(m[2], body))
        return _json({"message": f"404: Not Found ({method} {path})", "code": 0}, 404)

    def _open_dm(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create DM: POST /users/@me/channels {"recipient_id"} answers the DM channel object (type 1),
        the same channel for the same user every time, as Discord does."""
        user_id = int(body["recipient_id"])
        channel_id = self.dm_channels.setdefault(user_id, snowflake())
        recipient = User(user_id, f"user{user_id}").payload()
        return {
            "id": str(channel_id),
            "type": 1,
            "last_message_id": None,
            "flags": 0,
            "recipients": [recipient],
        }

    def _application(self) -> dict[str, Any]:
        return {
            "id": str(APP_ID),
            "name": "studybot",
            "icon": None,
            "description": "",
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": self.bot.payload(),
            "verify_key": "0" * 64,
            "flags": 0,
            "team": None,
            "summary": "",
        }

    def _message(self, channel_id: int, body: dict[str, Any], **extra: Any) -> dict[str, Any]:
        message = {
            "id": str(snowflake()),
            "channel_id": str(channel_id),
            "author": self.bot.payload() | {"bot": True},
            "content": body.get("content") or "",
            "timestamp": now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": body.get("attachments") or [],
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "pinned": False,
            "type": 0,
            "flags": int(body.get("flags") or 0),
            "application_id": str(APP_ID),
            **extra,
        }
        self.messages[int(message["id"])] = message
        return message

    def _update(self, message_id: int, body: dict[str, Any]) -> dict[str, Any]:
        message = self.messages[message_id]
        for key in ("content", "embeds", "components", "attachments"):
            if key in body:
                message[key] = body[key] or ([] if key != "content" else "")
        message["flags"] = int(message.get("flags") or 0) & ~LOADING
        message["edited_timestamp"] = now_iso()
        return message

    def _callback(self, interaction_id: int, token: str, body: dict[str, Any]) -> web.Response:
        kind = body["type"]
        data = body.get("data") or {}
        payload = self.interactions.get(token, {})
        channel_id = int(payload.get("channel_id") or CHANNEL_ID)
        message: dict[str, Any] | None = None
        if kind == MESSAGE:
            message = self._message(channel_id, data, type=20, webhook_id=str(APP_ID))
            self.originals[token] = int(message["id"])
        elif kind == DEFERRED_MESSAGE:
            flags = int(data.get("flags") or 0) | LOADING
            message = self._message(channel_id, {"flags": flags}, type=20, webhook_id=str(APP_ID))
            self.originals[token] = int(message["id"])
        elif kind in (DEFERRED_UPDATE, UPDATE_MESSAGE) and "message" in payload:
            self.originals[token] = int(payload["message"]["id"])
            if kind == UPDATE_MESSAGE:
                message = self._update(int(payload["message"]["id"]), data)
        answer: dict[str, Any] = {
            "interaction": {
                "id": str(interaction_id),
                "type": payload.get("type", 2),
                "response_message_loading": kind == DEFERRED_MESSAGE,
                "response_message_ephemeral": bool(int(data.get("flags") or 0) & EPHEMERAL),
            },
            "resource": {"type": kind},
        }
        if message is not None:
            answer["interaction"]["response_message_id"] = message["id"]
            answer["resource"]["message"] = message
        return _json(answer)

    def _follow_up(self, token: str, body: dict[str, Any]) -> web.Response:
        payload = self.interactions.get(token, {})
        original = self.messages.get(self.originals.get(token, 0))
        if original is not None and original["flags"] & LOADING:  # the first follow-up replaces "thinking…"
            return _json(self._update(int(original["id"]), body))
        channel_id = int(payload.get("channel_id") or CHANNEL_ID)
        return _json(self._message(channel_id, body, webhook_id=str(APP_ID)))

    def _webhook_message(self, method: str, token: str, which: str, body: Any) -> web.Response:
        message_id = self.originals.get(token) if which == "@original" else int(which)
        if message_id is None or message_id not in self.messages:
            return _json({"message": "Unknown Message", "code": 10008}, 404)
        if method == "PATCH":
            return _json(self._update(message_id, body or {}))
        if method == "GET":
            return _json(self.messages[message_id])
        if method == "DELETE":
            del self.messages[message_id]
            return web.Response(status=204)
        return _json({}, 405)

    def _thread(self, channel_id: int, message_id: int, body: dict[str, Any]) -> dict[str, Any]:
        thread = {
            "id": str(message_id),  # Discord gives a thread started from a message the message's id
            "type": 11,
            "guild_id": str(GUILD_ID),
            "parent_id": str(channel_id),
            "name": body.get("name", ""),
            "owner_id": str(APP_ID),
            "message_count": 0,
            "member_count": 1,
            "rate_limit_per_user": 0,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": body.get("auto_archive_duration", 1440),
                "archive_timestamp": now_iso(),
                "locked": False,
            },
        }
        self.threads[message_id] = thread
        return thread

    def _sync(self, guild_id: str | None, body: list[dict[str, Any]]) -> list[dict[str, Any]]:
        synced = [
            {
                "description": "",  # message and user commands have none; Discord sends it empty
                **c,
                "id": str(snowflake()),
                "application_id": str(APP_ID),
                "version": str(snowflake()),
                **({"guild_id": guild_id} if guild_id else {}),
            }
            for c in body
        ]
        self.commands[guild_id or "global"] = synced
        return synced

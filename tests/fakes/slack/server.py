"""A mock Slack for tests: the Web API, response_urls and a Socket Mode websocket on 127.0.0.1.

It records every call (method, arguments, headers) so tests assert on what Slack would have received,
and sends what a member would send: slash commands, button clicks and modal submissions, signed with
the signing secret like Slack signs them. Modelled on bolt-python's tests/mock_web_api_server."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web

SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-T1"
APP_TOKEN = "xapp-test"
TEAM = "T1"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    headers: dict[str, str]

    @property
    def token(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        return auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else self.args.get("token")


@dataclass
class Failure:
    error: str = "channel_not_found"
    status: int = 200
    retry_after: int | None = None
    html: bool = False  # an HTML error page, as a proxy in front of Slack would send


@dataclass
class SharedFile:
    """A file a member put on Slack (through a file_input or in a message)."""

    id: str
    name: str
    data: bytes
    user: str
    size: int  # as files.info reports it (a test may claim more than there is)
    url_private: str


@dataclass
class Install:
    team_id: str
    token: str
    installer: str = "U_INSTALLER"


def signature(secret: str, timestamp: str, body: str) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(body: str, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature(secret, ts, body)}


def texts(blocks: list[dict[str, Any]] | None) -> str:
    """All the text a member would read in some blocks, one line per text object."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks or [])
    return "\n".join(found)


def buttons(blocks: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [e for b in blocks or [] if b.get("type") == "actions" for e in b["elements"]]


class MockSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.responses: dict[str, list[dict[str, Any]]] = {}
        self.admins: set[str] = set()
        self.zones: dict[str, str] = {}  # user -> IANA time zone in users.info (default: Los Angeles)
        self.bad_tokens: set[str] = set()
        self.teams: dict[str, str] = {BOT_TOKEN: TEAM}  # bot token -> team it belongs to
        self.installs: dict[str, Install] = {}  # OAuth code -> what oauth.v2.access hands out
        self.failures: dict[str, list[Failure | None]] = {}  # None: answer that call normally
        self.socket_acks: list[dict[str, Any]] = []
        self.files: dict[str, SharedFile] = {}
        self.downloads: list[tuple[str, str | None]] = []  # (file id, Authorization header) per download
        self.uploads: dict[str, bytes] = {}  # file id → bytes posted to its upload URL
        self.files_scope_missing = False  # private URLs answer with Slack's sign-in page
        self.base = ""
        self._ts = itertools.count(1)
        self._keys = itertools.count(1)
        self._changed = asyncio.Condition()
        self._sockets: list[web.WebSocketResponse] = []
        self._runner: web.AppRunner | None = None

    # -- set-up ---------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/response/{key}", self._response)
        app.router.add_get("/socket", self._socket)
        app.router.add_get("/files-pri/{team_file}/{name}", self._download)
        app.router.add_get("/files-pri/{team_file}/download/{name}", self._download)
        app.router.add_post("/upload/v1/{file_id}", self._upload)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        for ws in self._sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    @property
    def files_url(self) -> str:
        """Where members' files are (SLACK_FILES_URL): files.slack.com/files-pri on Slack."""
        return f"{self.base}/files-pri"

    def share_file(
        self, name: str, data: bytes, user: str = "U_ADA", size: int | None = None, url: str | None = None
    ) -> dict[str, Any]:
        """Put a member's file on Slack; returns the file object as a file_input's state or a message's
        `files` carry it."""
        file_id = f"F{next(self._ts):08d}"
        shared = SharedFile(
            file_id,
            name,
            data,
            user,
            len(data) if size is None else size,
            url or f"{self.files_url}/{TEAM}-{file_id}/{name}",
        )
        self.files[file_id] = shared
        return self._file_object(shared)

    def _file_object(self, shared: SharedFile) -> dict[str, Any]:
        """A file object in the shape of Slack's files.info."""
        return {
            "id": shared.id,
            "created": 1700000000,
            "timestamp": 1700000000,
            "name": shared.name,
            "title": shared.name,
            "mimetype": "text/plain",
            "filetype": "text",
            "pretty_type": "Plain Text",
            "user": shared.user,
            "user_team": TEAM,
            "editable": True,
            "size": shared.size,
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": False,
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": shared.url_private,
            "url_private_download": shared.url_private.replace(
                f"/{TEAM}-{shared.id}/", f"/{TEAM}-{shared.id}/download/"
            ),
            "permalink": f"https://t1.slack.com/files/{shared.user}/{shared.id}/{shared.name}",
            "permalink_public": f"https://slack-files.com/{TEAM}-{shared.id}-0000",
            "is_starred": False,
            "has_rich_preview": False,
            "file_access": "visible",
        }

    def response_url(self) -> str:
        return f"{self.base}/response/{next(self._keys)}"

    def fail(self, method: str, failure: Failure, times: int = 1, after: int = 0) -> None:
        """The next `times` calls to `method` fail (after `after` calls that succeed)."""
        self.failures.setdefault(method, []).extend([None] * after + [failure] * times)

    # -- what was received ----------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, within: float = 5) -> list[Call]:
        async def enough() -> list[Call]:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.calls_to(method)) >= count)
            return self.calls_to(method)

        return await asyncio.wait_for(enough(), within)

    async def replies(self, url: str, count: int = 1, within: float = 5) -> list[dict[str, Any]]:
        """What the app posted to a response_url, once `count` posts have arrived."""
        key = url.rsplit("/", 1)[1]

        async def enough() -> list[dict[str, Any]]:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.responses.get(key, [])) >= count)
            return self.responses[key]

        return await asyncio.wait_for(enough(), within)

    async def reply(self, url: str, within: float = 5) -> dict[str, Any]:
        return (await self.replies(url, 1, within))[0]

    async def settle(self, quiet: float = 0.3) -> None:
        """Wait until nothing new has arrived for `quiet` seconds (to check that something did NOT happen)."""
        while True:
            before = (len(self.calls), sum(len(v) for v in self.responses.values()))
            await asyncio.sleep(quiet)
            if before == (len(self.calls), sum(len(v) for v in self.responses.values())):
                return

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- the Web API ----------------------------------------------------------------------------

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            args.update(await request.json())
        elif request.can_read_body:
            args.update(dict(await request.post()))
        for key in ("blocks", "view"):
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        return args

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        call = Call(method, args, dict(request.headers))
        self.calls.append(call)
        await self._notify()
        queued = self.failures.get(method)
        failure = queued.pop(0) if queued else None
        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            if failure.html:
                return web.Response(status=failure.status, text="<html>oops</html>", content_type="text/html")
            body = {"ok": False, "error": failure.error}
            return web.json_response(body, status=failure.status, headers=headers)
        answer = getattr(self, "_" + method.replace(".", "_"), None)
        if answer is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        return web.json_response(answer(call))

    def _authed(self, call: Call) -> dict[str, Any] | None:
        token = call.token or ""
        if token in self.bad_tokens or not token:
            return {"ok": False, "error": "invalid_auth"}
        return None

    def _auth_test(self, call: Call) -> dict[str, Any]:
        refused = self._authed(call)
        if refused:
            return refused
        team = self.teams.get(call.token or "", TEAM)
        return {
            "ok": True,
            "url": f"https://{team.lower()}.slack.com/",
            "team": f"Team {team}",
            "user": "studybot",
            "team_id": team,
            "user_id": "U_BOT",
            "bot_id": "B_BOT",
            "is_enterprise_install": False,
        }

    def _users_info(self, call: Call) -> dict[str, Any]:
        """users.info's documented shape, with the member's time zone (tz, tz_label, tz_offset)."""
        user = call.args.get("user", "")
        tz = self.zones.get(user, "America/Los_Angeles")
        offset = datetime.now(ZoneInfo(tz)).utcoffset() or timedelta(0)
        return {
            "ok": True,
            "user": {
                "id": user,
                "team_id": TEAM,
                "name": user.lower(),
                "deleted": False,
                "real_name": user.title(),
                "tz": tz,
                "tz_label": datetime.now(ZoneInfo(tz)).tzname(),
                "tz_offset": int(offset.total_seconds()),
                "is_admin": user in self.admins,
                "is_owner": False,
                "is_primary_owner": False,
                "is_bot": False,
            },
        }

    def _chat_postMessage(self, call: Call) -> dict[str, Any]:
        ts = f"1700000000.{next(self._ts):06d}"
        return {"ok": True, "channel": call.args.get("channel"), "ts": ts, "message": {"ts": ts}}

    def _chat_postEphemeral(self, call: Call) -> dict[str, Any]:
        return {"ok": True, "message_ts": f"1700000000.{next(self._ts):06d}"}

    def _views_open(self, call: Call) -> dict[str, Any]:
        return {"ok": True, "view": {**call.args.get("view", {}), "id": f"V{next(self._ts)}"}}

    def _views_publish(self, call: Call) -> dict[str, Any]:
        return {"ok": True, "view": {**call.args.get("view", {}), "id": f"V{next(self._ts)}"}}

    def _files_info(self, call: Call) -> dict[str, Any]:
        refused = self._authed(call)
        if refused:
            return refused
        shared = self.files.get(str(call.args.get("file", "")))
        if shared is None:
            return {"ok": False, "error": "file_not_found"}
        return {
            "ok": True,
            "file": self._file_object(shared),
            "comments": [],
            "response_metadata": {"next_cursor": ""},
        }

    def _files_getUploadURLExternal(self, call: Call) -> dict[str, Any]:
        refused = self._authed(call)
        if refused:
            return refused
        if not call.args.get("filename") or not str(call.args.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._ts):08d}"
        return {"ok": True, "upload_url": f"{self.base}/upload/v1/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(self, call: Call) -> dict[str, Any]:
        refused = self._authed(call)
        if refused:
            return refused
        files = json.loads(call.args.get("files") or "[]")
        if not files or any(f.get("id") not in self.uploads for f in files):
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title", "")} for f in files]}

    def _conversations_open(self, call: Call) -> dict[str, Any]:
        refused = self._authed(call)
        if refused:
            return refused
        users = str(call.args.get("users", ""))
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        return {"ok": True, "no_op": True, "already_open": True, "channel": {"id": "D" + users.split(",")[0]}}

    def _oauth_v2_access(self, call: Call) -> dict[str, Any]:
        install = self.installs.get(call.args.get("code", ""))
        if install is None:
            return {"ok": False, "error": "invalid_code"}
        self.teams[install.token] = install.team_id
        return {
            "ok": True,
            "app_id": "A_STUDY",
            "authed_user": {"id": install.installer},
            "scope": "commands,chat:write,users:read",
            "token_type": "bot",
            "access_token": install.token,
            "bot_user_id": "U_BOT",
            "team": {"id": install.team_id, "name": f"Team {install.team_id}"},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, call: Call) -> dict[str, Any]:
        refused = self._authed(call)
        if refused:
            return refused
        return {"ok": True, "url": self.base.replace("http", "ws", 1) + "/socket"}

    # -- file downloads and uploads -------------------------------------------------------------

    async def _download(self, request: web.Request) -> web.Response:
        """A private file URL: only with a bot token; without one Slack sends you to its sign-in page."""
        file_id = request.match_info["team_file"].removeprefix(f"{TEAM}-")
        auth = request.headers.get("Authorization")
        self.downloads.append((file_id, auth))
        await self._notify()
        shared = self.files.get(file_id)
        if shared is None:
            return web.Response(status=404)
        if auth is None or auth.removeprefix("Bearer ") not in self.teams:
            raise web.HTTPFound("https://slack.com/signin?redir=%2Ffiles-pri")
        if self.files_scope_missing:  # what Slack does for a token without files:read
            return web.Response(text="<!DOCTYPE html><html>Sign in</html>", content_type="text/html")
        return web.Response(body=shared.data, content_type="text/plain")

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        self.uploads[file_id] = await request.read()
        await self._notify()
        return web.Response(text=f"OK - {len(self.uploads[file_id])}")

    # -- response_url and Socket Mode -----------------------------------------------------------

    async def _response(self, request: web.Request) -> web.Response:
        self.responses.setdefault(request.match_info["key"], []).append(await request.json())
        await self._notify()
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A_STUDY"}})
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                self.socket_acks.append(json.loads(message.data))
                await self._notify()
        return ws

    async def send_envelope(self, kind: str, payload: dict[str, Any]) -> str:
        """Deliver a request over Socket Mode; returns its envelope id (its ack arrives in socket_acks)."""
        for _ in range(100):
            if self._sockets:
                break
            await asyncio.sleep(0.05)
        envelope_id = f"env-{next(self._ts)}"
        await self._sockets[-1].send_json(
            {"envelope_id": envelope_id, "type": kind, "payload": payload, "accepts_response_payload": True}
        )
        return envelope_id

    async def socket_ack(self, envelope_id: str, within: float = 5) -> dict[str, Any]:
        async def arrived() -> dict[str, Any]:
            async with self._changed:
                await self._changed.wait_for(
                    lambda: any(a.get("envelope_id") == envelope_id for a in self.socket_acks)
                )
            return next(a for a in self.socket_acks if a.get("envelope_id") == envelope_id)

        return await asyncio.wait_for(arrived(), within)

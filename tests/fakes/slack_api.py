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
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web

from bot.adapters.slack.app import SlackAdapter
from bot.config import Settings
from bot.core.service import StudyService

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


# -- what members send ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    user: str
    team: str = TEAM
    name: str = ""
    channel: str = "C0GENERAL1"


def command_body(mock: MockSlack, member: Member, text: str, command: str = "/study") -> tuple[str, str]:
    """A form-encoded slash command as Slack posts it, and its response_url."""
    url = mock.response_url()
    fields = {
        "token": "legacy-verification-token",
        "team_id": member.team,
        "team_domain": member.team.lower(),
        "channel_id": member.channel,
        "channel_name": "general",
        "user_id": member.user,
        "user_name": member.name or member.user.lower(),
        "command": command,
        "text": text,
        "api_app_id": "A_STUDY",
        "is_enterprise_install": "false",
        "response_url": url,
        "trigger_id": f"trigger-{member.user}-{time.monotonic_ns()}",
    }
    return urlencode(fields), url


def click_payload(
    mock: MockSlack, member: Member, button: dict[str, Any], ephemeral: bool = True
) -> tuple[dict[str, Any], str]:
    """A block_actions payload for a click on `button`, shaped like Slack's, and its response_url."""
    url = mock.response_url()
    payload = {
        "type": "block_actions",
        "user": {"id": member.user, "username": member.name or member.user.lower(), "team_id": member.team},
        "api_app_id": "A_STUDY",
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": "1700000000.000001",
            "channel_id": member.channel,
            "is_ephemeral": ephemeral,
        },
        "trigger_id": f"trigger-{member.user}-{time.monotonic_ns()}",
        "team": {"id": member.team, "domain": member.team.lower()},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": member.channel, "name": "general"},
        "response_url": url,
        "actions": [
            {
                "type": "button",
                "action_id": button["action_id"],
                "block_id": "b1",
                "text": button["text"],
                "value": button.get("value"),
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return payload, url


def submission_payload(member: Member, view: dict[str, Any], text: str) -> dict[str, Any]:
    """A view_submission payload for the answer modal with `text` typed in."""
    block = next(b for b in view["blocks"] if b["type"] == "input")
    state = {
        "values": {
            block["block_id"]: {block["element"]["action_id"]: {"type": "plain_text_input", "value": text}}
        }
    }
    return {
        "type": "view_submission",
        "team": {"id": member.team, "domain": member.team.lower()},
        "user": {"id": member.user, "username": member.name or member.user.lower(), "team_id": member.team},
        "api_app_id": "A_STUDY",
        "token": "legacy-verification-token",
        "trigger_id": "trigger-submit",
        "view": {**view, "id": "V1", "team_id": member.team, "state": state, "hash": "h"},
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def home_event(member: Member) -> dict[str, Any]:
    return {
        "token": "legacy-verification-token",
        "team_id": member.team,
        "api_app_id": "A_STUDY",
        "type": "event_callback",
        "event_id": f"Ev{time.monotonic_ns()}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": member.team, "user_id": "U_BOT", "is_bot": True}],
        "event": {"type": "app_home_opened", "user": member.user, "channel": "D1", "tab": "home"},
    }


# -- the app under test ---------------------------------------------------------------------------


def http_settings(mock: MockSlack, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_signing_secret": SECRET,
        "slack_bot_token": BOT_TOKEN,
        "slack_api_url": mock.api_url,
        "slack_port": 0,
        "data_dir": Path("unused"),
    }
    values.update(overrides)
    return replace(Settings(), **values)


@dataclass
class SlackHarness:
    """A running SlackAdapter (HTTP mode on 127.0.0.1) and a member's side of Slack."""

    mock: MockSlack
    adapter: SlackAdapter
    http: aiohttp.ClientSession
    secret: str = SECRET
    statuses: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.adapter.port}"

    async def post(
        self,
        body: str,
        *,
        content_type: str = "application/x-www-form-urlencoded",
        headers: dict[str, str] | None = None,
        signed: bool = True,
        timestamp: int | None = None,
    ) -> tuple[int, str]:
        sent = {"Content-Type": content_type}
        if signed:
            sent.update(signed_headers(body, self.secret, timestamp))
        sent.update(headers or {})
        async with self.http.post(self.url + "/slack/events", data=body.encode(), headers=sent) as response:
            self.statuses.append(response.status)
            return response.status, await response.text()

    async def command(self, member: Member, text: str, **kwargs: Any) -> str:
        """Type `/study text`; returns the response_url the reply goes to."""
        body, url = command_body(self.mock, member, text, self.adapter.settings.slack_command)
        status, _ = await self.post(body, **kwargs)
        assert status == 200
        return url

    async def ask(self, member: Member, text: str) -> dict[str, Any]:
        return await self.mock.reply(await self.command(member, text))

    async def click(
        self,
        member: Member,
        message: dict[str, Any],
        prefix: str,
        ephemeral: bool = True,
        label: str = "",
        **kwargs: Any,
    ) -> str:
        """Click the button whose value starts with `prefix` (and label with `label`) in a message (a
        reply's JSON); returns the response_url the app answers on."""
        button = next(
            b
            for b in buttons(message["blocks"])
            if b["value"].startswith(prefix) and b["text"]["text"].startswith(label)
        )
        payload, url = click_payload(self.mock, member, button, ephemeral)
        status, _ = await self.post(urlencode({"payload": json.dumps(payload)}), **kwargs)
        assert status == 200
        return url

    async def press(
        self, member: Member, message: dict[str, Any], prefix: str, ephemeral: bool = True, label: str = ""
    ) -> dict[str, Any]:
        return await self.mock.reply(await self.click(member, message, prefix, ephemeral, label))

    async def submit(self, member: Member, view: dict[str, Any], text: str) -> tuple[int, str]:
        payload = submission_payload(member, view, text)
        return await self.post(urlencode({"payload": json.dumps(payload)}))

    async def open_home(self, member: Member) -> tuple[int, str]:
        return await self.post(json.dumps(home_event(member)), content_type="application/json")


@pytest.fixture
async def mock_slack() -> AsyncIterator[MockSlack]:
    mock = MockSlack()
    await mock.start()
    yield mock
    await mock.stop()


@pytest.fixture
async def slack(mock_slack: MockSlack, service: StudyService) -> AsyncIterator[SlackHarness]:
    """The real app in HTTP mode (one workspace), its Web API pointed at the mock."""
    async with running(mock_slack, service) as harness:
        yield harness


class running:
    """`async with running(mock, service, **settings) as harness`: start an adapter, stop it after."""

    def __init__(self, mock: MockSlack, service: StudyService, **overrides: Any) -> None:
        engine = service.store.engine  # type: ignore[attr-defined]  # the one bootstrap built
        self.adapter = SlackAdapter(http_settings(mock, **overrides), service, engine, host="127.0.0.1")
        self.mock = mock
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SlackHarness:
        await self.adapter.start()
        self._http = aiohttp.ClientSession()
        return SlackHarness(self.mock, self.adapter, self._http)

    async def __aexit__(self, *_exc: object) -> None:
        assert self._http is not None
        await self._http.close()
        await self.adapter.stop()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

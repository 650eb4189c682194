"""A fake Discord gateway on 127.0.0.1: the WebSocket a `studybot run` process (discord.py) connects to.

It speaks the documented gateway protocol in plain-text JSON frames. discord.py 2.7 connects with
`?v=10&encoding=json&compress=zlib-stream` (`zstd-stream` where zstandard is available) and sends
`"compress": true` in IDENTIFY, but it inflates only binary frames and parses text frames as JSON as they
are, so no compression is needed here. HELLO, heartbeat ACKs, IDENTIFY → READY (with
`resume_gateway_url`) and one GUILD_CREATE per guild of the shard, RESUME → the missed events and RESUMED,
INVALID_SESSION for a session it does not know, and the close codes Discord uses for a wrong token, a bad
shard or privileged intents. Several connections may identify with different shards; a guild's events go to
the session of shard `(guild_id >> 22) % shard_count`, as Discord routes them.

Tests inject events with `dispatch` (or `interaction`, which a `DiscordDriver` uses as its `deliver`), drop a
connection with `disconnect`, and assert on what it received (`connections`, `sessions`, `frames`).
Interaction replies go over REST, to the `FakeDiscord` beside it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import WSMsgType, web

from tests.fakes.discord.server import APP_ID, CHANNEL_ID, GUILD_ID, TOKEN, FakeDiscord, User, now_iso

# Gateway opcodes and the close codes used here (Discord's documented values).
DISPATCH = 0
HEARTBEAT = 1
IDENTIFY = 2
RESUME = 6
INVALID_SESSION = 9
HELLO = 10
HEARTBEAT_ACK = 11
UNKNOWN_ERROR = 4000  # resumable
AUTHENTICATION_FAILED = 4004
INVALID_SHARD = 4010
DISALLOWED_INTENTS = 4014
PRIVILEGED_INTENTS = 1 << 1 | 1 << 8 | 1 << 15  # guild members, presences, message content
OWNER_ID = 1000

RESUME_PATH = "/resume/"  # READY sends clients here to resume, so a test can tell a resume by its URL


def shard_of(guild_id: int, shard_count: int) -> int:
    return (guild_id >> 22) % shard_count


@dataclass
class Connection:
    """One WebSocket connection: where it came in and every frame the client sent on it."""

    number: int
    path: str
    query: dict[str, str]
    frames: list[dict[str, Any]] = field(default_factory=list)
    session: Session | None = None
    closed_by_client: int | None = None  # the close code, when the client hung up

    def ops(self, op: int) -> list[dict[str, Any]]:
        return [f for f in self.frames if f.get("op") == op]


@dataclass
class Session:
    """What IDENTIFY started: its shard, the events sent in order (to replay on RESUME) and its socket."""

    id: str
    shard: tuple[int, int]
    identify: dict[str, Any]
    seq: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    socket: web.WebSocketResponse | None = None
    resumes: int = 0
    ended: bool = False  # the client closed it normally (1000/1001): Discord forgets the session

    @property
    def connected(self) -> bool:
        return self.socket is not None and not self.socket.closed


class FakeGateway:
    """The gateway server. `guilds` are the guilds the bot is in; each gets a GUILD_CREATE on its shard."""

    def __init__(
        self,
        rest: FakeDiscord | None = None,
        *,
        guilds: tuple[int, ...] = (GUILD_ID,),
        heartbeat_interval_ms: int = 41250,
        token: str = TOKEN,
    ) -> None:
        self.rest = rest
        self.guilds = guilds
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.token = token
        self.allow_privileged = False
        self.connections: list[Connection] = []
        self.sessions: dict[str, Session] = {}
        self.changed = asyncio.Event()
        self.url = ""
        self.resume_url = ""
        self._numbers = itertools.count(1)
        self._session_numbers = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._sockets: set[web.WebSocketResponse] = set()

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self, port: int = 0) -> str:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"ws://127.0.0.1:{port}/"
        self.resume_url = f"ws://127.0.0.1:{port}{RESUME_PATH}"
        if self.rest is not None:
            self.rest.gateway_url = self.url  # what GET /gateway/bot answers
        return self.url

    async def close(self) -> None:
        for socket in list(self._sockets):
            await socket.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()

    # -- what the test does ---------------------------------------------------------------------

    def session_for(self, guild_id: int | None = None) -> Session:
        """The newest live session of the shard that gets this guild's events (shard 0 for DMs)."""
        for session in reversed(list(self.sessions.values())):
            shard_id, count = session.shard
            wanted = 0 if guild_id is None else shard_of(guild_id, count)
            if shard_id == wanted and not session.ended:
                return session
        raise AssertionError(f"no session for guild {guild_id}: {list(self.sessions.values())}")

    async def dispatch(self, event: str, data: dict[str, Any], guild_id: int | None = None) -> int:
        """Send an event to the guild's shard; kept to be replayed if that session is between connections."""
        return await self._send_event(self.session_for(guild_id), event, data)

    async def interaction(self, payload: dict[str, Any]) -> None:
        """INTERACTION_CREATE, routed by its guild: a `DiscordDriver(deliver=...)` for a whole process."""
        guild = payload.get("guild_id")
        await self.dispatch("INTERACTION_CREATE", payload, int(guild) if guild else None)

    async def disconnect(self, session: Session | None = None, code: int = UNKNOWN_ERROR) -> None:
        """Close a session's socket as Discord does when it drops one: 4000 is resumable. Events sent from
        now on wait for the client to resume."""
        session = session or self.session_for()
        socket, session.socket = session.socket, None
        assert socket is not None, "that session is not connected"
        await socket.close(code=code)
        self._changed()

    async def invalidate(self, session: Session | None = None) -> None:
        """Forget a session and say so (INVALID_SESSION, not resumable): the client must identify again."""
        session = session or self.session_for()
        session.ended = True
        assert session.socket is not None, "that session is not connected"
        await self._send(session.socket, {"op": INVALID_SESSION, "d": False})

    async def wait_for(self, predicate: Callable[[], Any], within: float = 10.0) -> Any:
        """Poll until `predicate()` is truthy, or fail the test saying what the gateway saw."""
        deadline = asyncio.get_running_loop().time() + within
        while not (result := predicate()):
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                seen = [(c.number, c.path, [f.get("op") for f in c.frames]) for c in self.connections]
                raise AssertionError(f"timed out waiting; gateway connections: {seen}")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), min(remaining, 0.1))
            except TimeoutError:
                pass
        return result

    def identified(self) -> list[Connection]:
        return [c for c in self.connections if c.ops(IDENTIFY)]

    # -- the protocol ---------------------------------------------------------------------------

    def _changed(self) -> None:
        self.changed.set()

    async def _handle(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoclose=True)
        await socket.prepare(request)
        self._sockets.add(socket)
        connection = Connection(next(self._numbers), request.path, dict(request.query))
        self.connections.append(connection)
        self._changed()
        try:
            await self._send(socket, {"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
            async for message in socket:
                if message.type is not WSMsgType.TEXT:
                    continue
                frame = json.loads(message.data)
                connection.frames.append(frame)
                await self._on_frame(socket, connection, frame)
                self._changed()
        finally:
            self._sockets.discard(socket)
            session = connection.session
            if session is not None and session.socket is socket:
                session.socket = None
                if socket.close_code in (1000, 1001):
                    connection.closed_by_client = socket.close_code
                    session.ended = True
            self._changed()
        return socket

    async def _on_frame(
        self, socket: web.WebSocketResponse, connection: Connection, frame: dict[str, Any]
    ) -> None:
        op, data = frame.get("op"), frame.get("d")
        if op == HEARTBEAT:
            await self._send(socket, {"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            await self._identify(socket, connection, data)
        elif op == RESUME:
            await self._resume(socket, connection, data)

    async def _identify(
        self, socket: web.WebSocketResponse, connection: Connection, data: dict[str, Any]
    ) -> None:
        if data.get("token") != self.token:
            await socket.close(code=AUTHENTICATION_FAILED, message=b"Authentication failed.")
            return
        if int(data.get("intents", 0)) & PRIVILEGED_INTENTS and not self.allow_privileged:
            await socket.close(code=DISALLOWED_INTENTS, message=b"Disallowed intent(s).")
            return
        shard_id, count = data.get("shard") or (0, 1)
        if not 0 <= shard_id < count:
            await socket.close(code=INVALID_SHARD, message=b"Invalid shard.")
            return
        session = Session(f"session{next(self._session_numbers)}", (shard_id, count), data, socket=socket)
        self.sessions[session.id] = session
        connection.session = session
        guilds = [g for g in self.guilds if shard_of(g, count) == shard_id]
        ready: dict[str, Any] = {
            "v": 10,
            "user": self._bot_user(),
            "guilds": [{"id": str(g), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.resume_url,
            "application": {"id": str(APP_ID), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "_trace": ["fake-gateway"],
        }
        if data.get("shard") is not None:
            ready["shard"] = [shard_id, count]
        await self._send_event(session, "READY", ready)
        for guild_id in guilds:
            await self._send_event(session, "GUILD_CREATE", self._guild(guild_id))

    async def _resume(
        self, socket: web.WebSocketResponse, connection: Connection, data: dict[str, Any]
    ) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or session.ended or data.get("token") != self.token:
            await self._send(socket, {"op": INVALID_SESSION, "d": False})
            return
        session.socket = socket
        session.resumes += 1
        connection.session = session
        seen = int(data.get("seq") or 0)
        for frame in session.sent:  # what the client missed while away, in order
            if frame["s"] > seen:
                await self._send(socket, frame)
        await self._send_event(session, "RESUMED", {"_trace": ["fake-gateway"]})

    async def _send_event(self, session: Session, event: str, data: dict[str, Any]) -> int:
        session.seq += 1
        frame = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
        session.sent.append(frame)
        if session.connected:
            assert session.socket is not None
            await self._send(session.socket, frame)
        return session.seq

    async def _send(self, socket: web.WebSocketResponse, frame: dict[str, Any]) -> None:
        if not socket.closed:
            await socket.send_str(json.dumps(frame))

    # -- payloads -------------------------------------------------------------------------------

    def _bot_user(self) -> dict[str, Any]:
        bot = self.rest.bot if self.rest is not None else User(APP_ID, "studybot")
        return bot.payload() | {"bot": True, "verified": True, "flags": 0}

    def _guild(self, guild_id: int) -> dict[str, Any]:
        """A GUILD_CREATE: the guild, its @everyone role, one text channel and the bot as its member."""
        everyone = {
            "id": str(guild_id),
            "name": "@everyone",
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": 0,
            "permissions": "1024",  # view channels
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }
        channel = {
            "id": str(CHANNEL_ID if guild_id == GUILD_ID else guild_id + 1),
            "type": 0,
            "guild_id": str(guild_id),
            "name": "study",
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "rate_limit_per_user": 0,
            "topic": None,
            "last_message_id": None,
            "flags": 0,
        }
        member = {
            "user": self._bot_user(),
            "nick": None,
            "avatar": None,
            "roles": [],
            "joined_at": now_iso(),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
        }
        return {
            "id": str(guild_id),
            "name": f"Study Hall {guild_id}",
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(OWNER_ID),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": "en-US",
            "features": [],
            "roles": [everyone],
            "emojis": [],
            "stickers": [],
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "joined_at": now_iso(),
            "large": False,
            "unavailable": False,
            "member_count": 2,
            "members": [member],
            "channels": [channel],
            "threads": [],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }


@pytest.fixture
async def fake_gateway() -> AsyncIterator[FakeGateway]:
    """A FakeGateway with its own FakeDiscord REST API (`gateway.rest`), both on 127.0.0.1."""
    rest = FakeDiscord()
    await rest.start()
    gateway = FakeGateway(rest)
    await gateway.start()
    yield gateway
    await gateway.close()
    await rest.close()

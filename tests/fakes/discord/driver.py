"""Drives a client as Discord would: interaction payloads in, the bot's answers (recorded by the fake) out."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import discord

from tests.fakes.discord.server import (
    APP_ID,
    AUTOCOMPLETE_RESULT,
    CHANNEL_ID,
    DEFERRED_MESSAGE,
    DEFERRED_UPDATE,
    GUILD_ID,
    MODAL,
    FakeDiscord,
    Recorded,
    User,
    snowflake,
    walk,
)

# -- interactions -------------------------------------------------------------------------------


@dataclass
class Response:
    """One dispatched interaction and what the bot answered."""

    fake: FakeDiscord
    payload: dict[str, Any]

    @property
    def id(self) -> int:
        return int(self.payload["id"])

    @property
    def token(self) -> str:
        return str(self.payload["token"])

    @property
    def callback(self) -> Recorded:
        found = self.fake.callbacks(self.id)
        assert len(found) == 1, f"expected one callback, got {len(found)}"
        return found[0]

    @property
    def followups(self) -> list[Recorded]:
        return self.fake.followups(self.token)

    @property
    def message(self) -> dict[str, Any]:
        """The message the user now sees as the result: the original response or the edited card."""
        message_id = self.fake.originals.get(self.token)
        assert message_id is not None, "the interaction has no message"
        return self.fake.messages[message_id]

    @property
    def latest(self) -> Recorded:
        """What the bot sent last for this interaction: a follow-up after a deferral, else the callback."""
        return (self.followups or [self.callback])[-1]


@dataclass
class DiscordDriver:
    """Sends interactions into a logged-in client the way the gateway would, and waits for its answers.

    Without a client, `deliver` sends them instead (through the fake gateway to a `studybot run` process)."""

    fake: FakeDiscord
    client: discord.Client | None = None
    guild_id: int = GUILD_ID
    channel_id: int = CHANNEL_ID
    extra: dict[str, Any] = field(default_factory=dict)
    deliver: Callable[[dict[str, Any]], Awaitable[None]] | None = None
    within: float = 5.0  # how long to wait for the bot's answer

    def _base(self, kind: int, user: User, *, dm: bool = False) -> dict[str, Any]:
        token = f"tok{snowflake()}"
        payload: dict[str, Any] = {
            "id": str(snowflake()),
            "application_id": str(APP_ID),
            "type": kind,
            "token": token,
            "version": 1,
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
            "app_permissions": str(discord.Permissions.all_channel().value),
        }
        if dm:
            # The DM channel the bot opened with them (POST /users/@me/channels), if it did.
            dm_channel = self.fake.dm_channels.get(user.id, 9_000_000 + user.id)
            payload |= {
                "channel_id": str(dm_channel),
                "channel": {
                    "id": str(dm_channel),
                    "type": 1,
                    "flags": 0,
                    "recipients": [user.payload()],
                },
                "user": user.payload(),
                "context": 1,
                "authorizing_integration_owners": {"0": str(GUILD_ID)},
            }
        else:
            payload |= {
                "guild_id": str(self.guild_id),
                "guild": {"id": str(self.guild_id), "locale": "en-US", "features": []},
                "guild_locale": "en-US",
                "channel_id": str(self.channel_id),
                "channel": {
                    "id": str(self.channel_id),
                    "type": 0,
                    "guild_id": str(self.guild_id),
                    "name": "study",
                    "position": 0,
                    "flags": 0,
                    "nsfw": False,
                    "parent_id": None,
                    "permissions": str(user.permissions),
                    "rate_limit_per_user": 0,
                    "topic": None,
                    "last_message_id": None,
                },
                "member": user.member_payload(),
                "context": 0,
                "authorizing_integration_owners": {"0": str(self.guild_id)},
            }
        return payload

    async def _dispatch(self, payload: dict[str, Any], wait: bool = True) -> Response:
        self.fake.interactions[payload["token"]] = payload
        if self.deliver is not None:
            await self.deliver(payload)
        else:
            assert self.client is not None, "a driver needs a client or a way to deliver"
            self.client._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
        response = Response(self.fake, payload)
        if wait:
            await self.fake.wait_for(lambda: self.fake.callbacks(response.id), self.within)
            if response.callback.type in (DEFERRED_MESSAGE, DEFERRED_UPDATE):
                await self.fake.wait_for(lambda: response.followups, self.within)
        return response

    async def slash(
        self,
        name: str,
        user: User,
        *,
        dm: bool = False,
        sub: str | None = None,
        group: str | None = None,
        options: dict[str, Any] | None = None,
        channels: dict[str, int] | None = None,
        attachments: dict[str, dict[str, Any]] | None = None,
        wait: bool = True,
    ) -> Response:
        """A chat-input command: `/name [group] [sub] option:value ...`; `channels` are channel options,
        `attachments` attachment options (objects from FakeDiscord.attach)."""
        payload = self._base(2, user, dm=dm)
        opts: list[dict[str, Any]] = [
            {"name": k, "type": 4 if isinstance(v, int) else 3, "value": v}
            for k, v in (options or {}).items()
        ]
        resolved: dict[str, Any] = {}
        for key, attachment in (attachments or {}).items():
            opts.append({"name": key, "type": 11, "value": attachment["id"]})
            resolved.setdefault("attachments", {})[attachment["id"]] = attachment
        for key, channel_id in (channels or {}).items():
            opts.append({"name": key, "type": 7, "value": str(channel_id)})
            resolved.setdefault("channels", {})[str(channel_id)] = {
                "id": str(channel_id),
                "type": 0,
                "name": f"channel-{channel_id}",
                "permissions": str(discord.Permissions.all_channel().value),
                "guild_id": str(self.guild_id),
                "parent_id": None,
                "position": 0,
                "nsfw": False,
                "flags": 0,
            }
        if sub is not None:
            opts = [{"name": sub, "type": 1, "options": opts}]
        if group is not None:
            opts = [{"name": group, "type": 2, "options": opts}]
        data: dict[str, Any] = {"id": str(snowflake()), "name": name, "type": 1, "options": opts}
        if resolved:
            data["resolved"] = resolved
        if not dm:
            data["guild_id"] = str(self.guild_id)
        payload["data"] = data
        return await self._dispatch(payload, wait)

    async def message_action(self, name: str, user: User, content: str, *, wait: bool = True) -> Response:
        """A message context-menu command (Apps → `name`) on a message someone else posted."""
        payload = self._base(2, user)
        author = User(1999, "Carol")
        message_id = str(snowflake())
        message = {
            "id": message_id,
            "channel_id": str(self.channel_id),
            "guild_id": str(self.guild_id),
            "author": author.payload(),
            "content": content,
            "timestamp": "2025-01-01T00:00:00+00:00",
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
        }
        payload["data"] = {
            "id": str(snowflake()),
            "name": name,
            "type": 3,
            "target_id": message_id,
            "resolved": {"messages": {message_id: message}},
            "guild_id": str(self.guild_id),
        }
        return await self._dispatch(payload, wait)

    async def autocomplete(
        self, name: str, user: User, focused: str, typed: str, *, sub: str | None = None
    ) -> list[dict[str, Any]]:
        payload = self._base(4, user)
        opts: list[dict[str, Any]] = [{"name": focused, "type": 3, "value": typed, "focused": True}]
        if sub is not None:
            opts = [{"name": sub, "type": 1, "options": opts}]
        payload["data"] = {
            "id": str(snowflake()),
            "name": name,
            "type": 1,
            "options": opts,
            "guild_id": str(GUILD_ID),
        }
        response = await self._dispatch(payload)
        assert response.callback.type == AUTOCOMPLETE_RESULT
        return list(response.callback.body["data"]["choices"])

    async def click(
        self, message: dict[str, Any], custom_id: str, user: User, *, dm: bool = False, wait: bool = True
    ) -> Response:
        """Press a button on a message the fake holds (as Discord sends it: the whole message included)."""
        assert custom_id in [c.get("custom_id") for c in walk(message.get("components", []))], (
            f"{custom_id!r} is not a button on that message"
        )
        payload = self._base(3, user, dm=dm)
        payload["message"] = json.loads(json.dumps(message))
        payload["data"] = {"custom_id": custom_id, "component_type": 2}
        return await self._dispatch(payload, wait)

    async def submit(
        self,
        modal: Recorded,
        value: str | dict[str, str],
        user: User,
        *,
        message: dict[str, Any] | None = None,
        dm: bool = False,
    ) -> Response:
        """Submit a modal the bot opened (a type 9 callback), with `value` typed in its text input; or,
        with several inputs, a value per custom id (the others keep what the bot filled in); `dm`: from
        the bot's DM with the user."""
        assert modal.type == MODAL

        def typed(c: dict[str, Any]) -> str:
            if isinstance(value, str):
                return value
            return value.get(c["custom_id"], c.get("value", ""))

        def filled(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
            out = []
            for c in components:
                if c["type"] == 4:
                    out.append(
                        {"type": 4, "id": c.get("id", 2), "custom_id": c["custom_id"], "value": typed(c)}
                    )
                elif c["type"] == 1:
                    out.append({"type": 1, "id": c.get("id", 1), "components": filled(c["components"])})
                elif c["type"] == 18:
                    out.append({"type": 18, "id": c.get("id", 1), "component": filled([c["component"]])[0]})
                else:
                    out.append({"type": c["type"], "id": c.get("id", 3)})
            return out

        payload = self._base(5, user, dm=dm)
        payload["data"] = {
            "custom_id": modal.data["custom_id"],
            "components": filled(modal.data["components"]),
        }
        if message is not None:
            payload["message"] = json.loads(json.dumps(message))
        return await self._dispatch(payload)


def button(message: dict[str, Any] | Recorded, label_or_prefix: str) -> str:
    """The custom id of the button whose id starts with, or whose label starts with, the given text."""
    components = message.data["components"] if isinstance(message, Recorded) else message["components"]
    for c in walk(components):
        if c.get("type") == 2 and (
            c.get("custom_id", "").startswith(label_or_prefix)
            or c.get("label", "").startswith(label_or_prefix)
        ):
            return str(c["custom_id"])
    raise AssertionError(f"no button {label_or_prefix!r} in {[c.get('custom_id') for c in walk(components)]}")

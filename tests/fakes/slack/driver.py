"""What a member sends through Slack (slash commands, clicks, submissions), and a harness that posts it to
a running app, signed as Slack signs it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bot.adapters.slack.app import SlackAdapter
from tests.fakes.slack.server import (
    SECRET,
    TEAM,
    MockSlack,
    buttons,
    signed_headers,
)

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


def form_payload(member: Member, view: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """A view_submission of a form with several text boxes: `values` by block id, the others as the app
    filled them in."""
    state: dict[str, Any] = {}
    for block in view["blocks"]:
        if block.get("type") == "input" and block["element"]["type"] == "plain_text_input":
            typed = values.get(block["block_id"], block["element"].get("initial_value") or "")
            state[block["block_id"]] = {
                block["element"]["action_id"]: {"type": "plain_text_input", "value": typed}
            }
    payload = submission_payload(member, view, "")
    payload["view"]["state"] = {"values": state}
    return payload


def upload_payload(member: Member, view: dict[str, Any], files: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A view_submission of a modal with file_inputs, `files` (block id → a file object from
    MockSlack.share_file) chosen in them; shaped like Slack's view state for file_input."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block.get("type") == "input" and block["element"]["type"] == "file_input":
            chosen = [files[block["block_id"]]] if block["block_id"] in files else []
            values[block["block_id"]] = {
                block["element"]["action_id"]: {"type": "file_input", "files": chosen}
            }
    return {
        "type": "view_submission",
        "team": {"id": member.team, "domain": member.team.lower()},
        "user": {"id": member.user, "username": member.name or member.user.lower(), "team_id": member.team},
        "api_app_id": "A_STUDY",
        "token": "legacy-verification-token",
        "trigger_id": f"trigger-{member.user}-{time.monotonic_ns()}",
        "view": {**view, "id": "V2", "team_id": member.team, "state": {"values": values}, "hash": "h"},
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def shortcut_payload(
    mock: MockSlack,
    member: Member,
    callback_id: str,
    text: str,
    files: list[dict[str, Any]] | None = None,
    author: str = "U_CAROL",
) -> tuple[dict[str, Any], str]:
    """A message shortcut (type message_action) used on a message `author` posted, and its response_url."""
    url = mock.response_url()
    message: dict[str, Any] = {
        "type": "message",
        "user": author,
        "ts": "1700000000.000100",
        "text": text,
        "team": member.team,
    }
    if files:
        message |= {"files": files, "upload": True, "display_as_bot": False}
    payload = {
        "type": "message_action",
        "token": "legacy-verification-token",
        "action_ts": f"{time.time():.6f}",
        "team": {"id": member.team, "domain": member.team.lower()},
        "user": {"id": member.user, "name": member.name or member.user.lower(), "team_id": member.team},
        "channel": {"id": member.channel, "name": "general"},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": f"trigger-{member.user}-{time.monotonic_ns()}",
        "response_url": url,
        "message_ts": message["ts"],
        "message": message,
    }
    return payload, url


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

    async def fill(self, member: Member, view: dict[str, Any], values: dict[str, str]) -> tuple[int, str]:
        """Submit a form of several text boxes the app opened."""
        return await self.post(urlencode({"payload": json.dumps(form_payload(member, view, values))}))

    async def upload(
        self, member: Member, view: dict[str, Any], files: dict[str, dict[str, Any]]
    ) -> tuple[int, str]:
        """Submit a file modal the app opened, with these files chosen."""
        return await self.post(urlencode({"payload": json.dumps(upload_payload(member, view, files))}))

    async def shortcut(
        self, member: Member, callback_id: str, text: str, files: list[dict[str, Any]] | None = None
    ) -> str:
        """Use a message shortcut on a message; returns the response_url the app answers on."""
        payload, url = shortcut_payload(self.mock, member, callback_id, text, files)
        status, _ = await self.post(urlencode({"payload": json.dumps(payload)}))
        assert status == 200
        return url

    async def open_home(self, member: Member) -> tuple[int, str]:
        return await self.post(json.dumps(home_event(member)), content_type="application/json")

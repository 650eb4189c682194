"""Incoming HTTP requests from Slack, checked before bolt sees them: the signature first, then the shape.

bolt parses the body before it checks the signature and assumes Slack's shapes, so garbage would reach
its parser (a 500 and a traceback). Here an unsigned request is refused without being read further, and a
signed one that is not shaped like what Slack sends (and what the handlers read) is refused with 400."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote_plus

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

_UNQUOTE: Callable[[str], str] | None
try:  # aiohttp's URL library; its percent-decoder is compiled
    from yarl._quoting import _Unquoter

    _UNQUOTE = _Unquoter()
except ImportError:  # pragma: no cover
    _UNQUOTE = None


class Malformed(ValueError):
    """A signed request that is not one Slack sends; the message says what is wrong, briefly."""


def signed(verifier: SignatureVerifier, body: bytes, headers: Any) -> bool:
    return verifier.is_valid(body, headers.get("X-Slack-Request-Timestamp"), headers.get("X-Slack-Signature"))


def bolt_request(raw: bytes, query: str, headers: Mapping[str, str]) -> AsyncBoltRequest:
    """bolt's request for a signed body, or Malformed when it is not what Slack sends. The body is parsed
    once, here, exactly as bolt's own parser would (`parse_like_bolt`), and handed to bolt with the raw text
    it verifies the signature over: bolt's parser decodes a form with Python's pure-Python unquote, 40 µs
    of a click's ack on this machine."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("the body is not UTF-8") from None
    if not text:
        raise Malformed("the body is empty")
    request = AsyncBoltRequest(body="", query=query, headers=dict(headers))
    try:
        body = parse_like_bolt(text, request.content_type)
    except ValueError:
        raise Malformed("the body is not valid JSON") from None
    found = problem(body)
    if found is not None:
        raise Malformed(found)
    assert isinstance(body, dict)
    # What AsyncBoltRequest.__init__ sets from a body it parsed itself (slack-bolt 1.x).
    request.raw_body = text
    request.body = body
    request.context = build_async_context(AsyncBoltContext({}), body)
    return request


def parse_like_bolt(text: str, content_type: str | None) -> object:
    """slack_bolt.request.internals.parse_body, with a form decoded by yarl's C percent-decoder."""
    if not text:
        return {}
    if content_type == "application/json" or text.startswith("{"):
        return json.loads(text)
    if "payload" in text:
        payload = form_fields(text).get("payload")
        return json.loads(payload) if payload is not None else {}
    return form_fields(text)


def form_fields(text: str) -> dict[str, str]:
    """dict(urllib.parse.parse_qsl(text, keep_blank_values=True)), faster."""
    fields: dict[str, str] = {}
    for piece in text.split("&"):
        if piece:
            name, _, value = piece.partition("=")
            fields[_unquote_plus(name)] = _unquote_plus(value)
    return fields


def _unquote_plus(text: str) -> str:
    if _UNQUOTE is not None:
        decoded: str = _UNQUOTE(text.replace("+", " "))
        # yarl keeps a %-sequence that is not UTF-8 as it is, where Python puts U+FFFD: decide those there.
        if "%" not in decoded:
            return decoded
    return unquote_plus(text)


def _str(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def _opt(body: dict[str, Any], key: str, kind: type) -> bool:
    return body.get(key) is None or isinstance(body[key], kind)


def problem(body: object) -> str | None:
    """What is wrong with a parsed body for the handlers, or None if they can read everything they use."""
    if not isinstance(body, dict):
        return f"the body is a JSON {type(body).__name__}, not an object"
    if "command" in body:
        for key in ("command", "user_id", "team_id"):
            if not _str(body.get(key)):
                return f"the slash command has no {key}"
        if not all(_opt(body, k, str) for k in ("text", "channel_id", "response_url", "trigger_id")):
            return "a slash command field is not text"
        return None
    kind = body.get("type")
    if kind in ("block_actions", "view_submission"):
        user = body.get("user")
        if not isinstance(user, dict) or not _str(user.get("id")):
            return f"the {kind} has no user id"
        if not all(_opt(user, k, str) for k in ("team_id", "username", "name")):
            return "a user field is not text"
        team = body.get("team")
        if team is not None and not (isinstance(team, dict) and _opt(team, "id", str)):
            return "the team is not an object with an id"
        if not _str((team or {}).get("id")) and not _str(user.get("team_id")):
            return f"the {kind} has no team id"
        if not all(_opt(body, k, str) for k in ("response_url", "trigger_id")):
            return "a response_url or trigger_id is not text"
        if not all(_opt(body, k, dict) for k in ("container", "channel")):
            return "the container or channel is not an object"
        if not all(
            _opt(body.get(k) or {}, "channel_id" if k == "container" else "id", str)
            for k in ("container", "channel")
        ):
            return "a channel id is not text"
    if kind == "block_actions":
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions:
            return "the block_actions has no actions"
        first = actions[0]
        if not isinstance(first, dict) or not _str(first.get("action_id")):
            return "the action has no action_id"
        if not _opt(first, "value", str):
            return "the action's value is not text"
    if kind == "view_submission":
        view = body.get("view")
        if not isinstance(view, dict) or not _str(view.get("callback_id")):
            return "the view_submission has no view with a callback_id"
        if not _opt(view, "private_metadata", str) or not _opt(view, "state", dict):
            return "the view's private_metadata or state is malformed"
        values = (view.get("state") or {}).get("values")
        if values is not None and not (
            isinstance(values, dict)
            and all(isinstance(v, dict) for v in values.values())
            and all(isinstance(f, dict) for v in values.values() for f in v.values())
        ):
            return "the view's state values are malformed"
    if kind == "message_action":
        user = body.get("user")
        if not isinstance(user, dict) or not _str(user.get("id")):
            return "the message_action has no user id"
        team = body.get("team")
        if not (isinstance(team, dict) and _str(team.get("id"))) and not _str(user.get("team_id")):
            return "the message_action has no team id"
        if not _str(body.get("callback_id")) or not all(
            _opt(body, k, str) for k in ("response_url", "trigger_id")
        ):
            return "the message_action has no callback_id, or a response_url or trigger_id is not text"
        channel, message = body.get("channel"), body.get("message")
        if not (isinstance(channel, dict) and _opt(channel, "id", str)) or not isinstance(message, dict):
            return "the message_action's channel or message is malformed"
        if not _opt(message, "text", str) or not _opt(message, "files", list):
            return "the message_action's message text or files are malformed"
    if kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not _str(event.get("type")):
            return "the event_callback has no event with a type"
        if not _opt(event, "user", str) or not _opt(body, "team_id", str):
            return "the event's user or team is not text"
        auths = body.get("authorizations")
        if auths is not None and not (isinstance(auths, list) and all(isinstance(a, dict) for a in auths)):
            return "the authorizations are malformed"
    if kind == "url_verification" and not _str(body.get("challenge")):
        return "the url_verification has no challenge"
    return None

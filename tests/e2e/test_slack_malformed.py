"""Malformed requests to Slack's HTTP endpoint: the signature is checked before anything is parsed (401),
and a signed request that is not what Slack sends gets 400 with one log line, never a 500 or a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.adapters.slack.requests import problem
from bot.bootstrap import Core
from bot.config import Settings
from tests.e2e.test_ops_logs import SIGNING_SECRET
from tests.e2e.test_ops_sigterm import BotProcess, bot_env
from tests.fakes.slack.fixtures import mock_slack
from tests.fakes.slack.server import MockSlack, signed_headers

__all__ = ["mock_slack"]

FORM = "application/x-www-form-urlencoded"
GARBAGE = [
    ("payload={not-json", FORM),
    (urlencode({"payload": "[1, 2, 3]"}), FORM),
    (urlencode({"payload": json.dumps("just a string")}), FORM),
    (urlencode({"payload": json.dumps({"type": "block_actions", "actions": []})}), FORM),
    (urlencode({"payload": json.dumps({"type": "block_actions", "user": "U1", "actions": [{}]})}), FORM),
    (urlencode({"payload": json.dumps({"type": "view_submission", "user": {"id": "U1"}, "view": 3})}), FORM),
    (urlencode({"command": "/study", "text": "quiz"}), FORM),  # no user, no team
    ("[1, 2]", "application/json"),
    ('"a JSON string"', "application/json"),
    ("{not json", "application/json"),
    (json.dumps({"type": "event_callback", "event": "app_home_opened"}), "application/json"),
]


async def post(http: aiohttp.ClientSession, port: int, body: str, kind: str, signed: bool) -> int:
    headers = {"Content-Type": kind, **(signed_headers(body, SIGNING_SECRET) if signed else {})}
    url = f"http://127.0.0.1:{port}/slack/events"
    async with http.post(url, data=body.encode(), headers=headers) as response:
        return response.status


async def test_garbage_gets_401_unsigned_and_400_signed_without_a_traceback(tmp_path: Path) -> None:
    mock = MockSlack()
    await mock.start()
    bot = BotProcess(bot_env(tmp_path, mock), tmp_path)
    try:
        await bot.start()
        await bot.wait_for_log("running: ")
        before = len(bot.lines)
        async with aiohttp.ClientSession() as http:
            unsigned = [await post(http, bot.slack_port, b, k, signed=False) for b, k in GARBAGE]
            signed = [await post(http, bot.slack_port, b, k, signed=True) for b, k in GARBAGE]
        await mock.settle()
        code, _ = await bot.terminate()
    finally:
        await bot.kill()
        await mock.stop()
    assert unsigned == [401] * len(GARBAGE), bot.output
    assert signed == [400] * len(GARBAGE), bot.output
    logged = bot.lines[before:]
    assert "Traceback" not in bot.output and "Error" not in "\n".join(logged).replace("level=ERROR", "")
    refused = [line for line in logged if "slack request refused" in line]
    assert len(refused) == len(GARBAGE), "\n".join(logged)  # one line per malformed request
    assert code == 0
    assert not mock.calls_to("chat.postEphemeral") and not mock.responses


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
ids = st.sampled_from(["U1", "T1", "C1", ""]) | json_values
slackish = st.fixed_dictionaries(
    {"type": st.sampled_from(["block_actions", "view_submission", "event_callback", "x"])},
    optional={
        "user": json_values | st.fixed_dictionaries({"id": ids}, optional={"team_id": ids}),
        "team": json_values | st.fixed_dictionaries({"id": ids}),
        "actions": st.lists(json_values | st.fixed_dictionaries({"action_id": ids}), max_size=2),
        "view": json_values | st.fixed_dictionaries({"callback_id": ids}, optional={"state": json_values}),
        "event": json_values | st.fixed_dictionaries({"type": ids}),
        "response_url": json_values,
        "container": json_values,
        "channel": json_values,
    },
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(body=json_values | slackish)
def test_the_shape_check_never_raises_and_accepts_only_what_the_handlers_can_read(body: object) -> None:
    found = problem(body)
    assert found is None or isinstance(found, str)
    if found is None:  # what the handlers read is there and of the right type
        assert isinstance(body, dict)
        if body.get("type") in ("block_actions", "view_submission"):
            assert isinstance(body["user"]["id"], str)
            assert isinstance((body.get("team") or {}).get("id") or body["user"].get("team_id"), str)
        if body.get("type") == "block_actions":
            assert isinstance(body["actions"][0]["action_id"], str)
        if body.get("type") == "view_submission":
            assert isinstance(body["view"]["callback_id"], str)
        if body.get("type") == "event_callback":
            assert isinstance(body["event"]["type"], str)


async def test_socket_mode_refuses_malformed_envelopes_without_a_traceback(
    mock_slack: MockSlack, core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.adapters.slack.app import SlackAdapter
    from tests.fakes.slack.driver import Member, command_body
    from tests.fakes.slack.server import APP_TOKEN, BOT_TOKEN

    settings = Settings(
        slack_bot_token=BOT_TOKEN, slack_app_token=APP_TOKEN, slack_api_url=mock_slack.api_url
    )
    service = core.service
    adapter = SlackAdapter(settings, service, core.engine)
    await adapter.start()
    try:
        for payload in (
            {"type": "block_actions", "user": {"id": "U1"}, "team": {"id": "T1"}, "actions": []},
            {"type": "block_actions", "user": {"id": "U1"}, "team": {"id": "T1"}, "actions": [{"value": 3}]},
            {"type": "view_submission", "user": {"id": "U1"}, "team": {"id": "T1"}, "view": []},
        ):
            await mock_slack.send_envelope("interactive", payload)
        body, reply_url = command_body(mock_slack, Member("U_ALICE"), "help")
        await mock_slack.send_envelope("slash_commands", dict(parse_qsl(body)))
        await mock_slack.reply(reply_url)  # still serving
        await mock_slack.settle()
    finally:
        await adapter.stop()
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.exc_info]
    assert len([r for r in caplog.records if "slack request refused" in r.getMessage()]) == 3


# Raw text with the characters a form's decoding turns on, and real forms whose values are any JSON.
FORM_TEXT = st.text(st.sampled_from('ab=&+%2CE9F0DAé😀{}"[] ,:'), max_size=40) | st.builds(
    urlencode,
    st.dictionaries(
        st.sampled_from(["payload", "command", "text", "x"]),
        json_values.map(json.dumps) | st.text(max_size=20),
    ),
)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(text=FORM_TEXT, content_type=st.sampled_from([None, FORM, "application/json"]))
def test_the_body_is_parsed_exactly_as_bolt_parses_it(text: str, content_type: str | None) -> None:
    """bot/adapters/slack/requests.py parses the body for bolt, with a faster decoder: the same result
    (or the same refusal) as bolt's own parser, for any text."""
    from slack_bolt.request.internals import parse_body

    from bot.adapters.slack.requests import parse_like_bolt

    def outcome(parse: Any) -> object:
        try:
            return parse(text, content_type)
        except ValueError:
            return ValueError

    assert outcome(parse_like_bolt) == outcome(parse_body)

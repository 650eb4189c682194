"""Rendering, mode selection, fail-fast credentials and Socket Mode (against the mock's websocket)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from urllib.parse import parse_qsl, urlencode

import pytest
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.adapters.slack.app import Mode, SlackAdapter, choose_mode
from bot.adapters.slack.render import fallback_text, form_modal, message_blocks, mrkdwn, split_text
from bot.bootstrap import Core
from bot.config import ConfigError, Settings
from bot.core.messages import Action, Field, Form, Message, Section, Style
from tests.fakes.slack.driver import Member, click_payload, command_body
from tests.fakes.slack.fixtures import mock_slack
from tests.fakes.slack.server import APP_TOKEN, BOT_TOKEN, SECRET, MockSlack, signed_headers, texts

__all__ = ["mock_slack"]


# -- rendering --------------------------------------------------------------------------------------


def test_core_text_becomes_escaped_mrkdwn() -> None:
    assert mrkdwn("**ReLU** & <!here> vs <@U1>, see /quiz ml") == (
        "*ReLU* &amp; &lt;!here&gt; vs &lt;@U1&gt;, see /study quiz ml"
    )
    assert mrkdwn("set for <#C0123ABCD>.") == "set for <#C0123ABCD>."  # the core's channel links stay
    assert mrkdwn("a/quiz and https://x/help") == "a/quiz and https://x/help"


def test_long_sections_are_split_within_block_kit_limits() -> None:
    text = ("a < b & c > d " * 600).strip()  # 8,400 characters before escaping
    message = Message(title="Long", sections=(Section(text, "Model answer"),))
    sections = [b for b in message_blocks(message) if b["type"] == "section"][1:]
    assert len(sections) > 3 and all(len(b["text"]["text"]) <= 3000 for b in sections)
    joined = " ".join(b["text"]["text"] for b in sections).removeprefix("*Model answer*\n")
    assert joined == mrkdwn(text)  # nothing lost, no entity cut in half
    assert all(not re.search(r"&[a-z]{0,3}$", piece) for piece in split_text(mrkdwn(text)))


def test_buttons_carry_the_action_and_stay_unique() -> None:
    message = Message(
        title="t",
        actions=(
            Action("grade:1:good", "Good · 4d", Style.SUCCESS),
            Action("grade:1:good", "Again", Style.DANGER),
        ),
        footer="Think first.",
    )
    blocks = message_blocks(message)
    assert blocks[-2] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "Think first.", "verbatim": True}],
    }
    first, second = blocks[-1]["elements"]
    assert (first["action_id"], first["value"], "style" in first) == ("grade:1:good", "grade:1:good", False)
    assert second["action_id"] != first["action_id"] and second["value"] == "grade:1:good"
    assert second["style"] == "danger"


def test_huge_messages_keep_their_buttons_under_fifty_blocks() -> None:
    message = Message(
        title="t", sections=tuple(Section(str(i)) for i in range(80)), actions=(Action("next", "Next"),)
    )
    blocks = message_blocks(message)
    assert len(blocks) == 50 and blocks[-1]["type"] == "actions"
    assert len(fallback_text(Message(title="x" * 10_000))) <= 3000


def test_form_modal_respects_slack_limits() -> None:
    form = Form(
        id="answer:9",
        title="Your answer to this question",
        fields=(Field("answer", "Answer", 5000, value="x" * 4000), Field("note", "Note", 10, required=False)),
        context="Q?",
    )
    view = form_modal(form, '{"f":"answer:9"}')
    answer, note = view["blocks"][-2:]
    assert answer["element"]["max_length"] == 3000 and len(answer["element"]["initial_value"]) == 3000
    assert note["optional"] and note["block_id"] == "note" and "min_length" not in note["element"]
    assert len(view["title"]["text"]) <= 24
    assert view["private_metadata"] == '{"f":"answer:9"}' and view["callback_id"] == "answer"


# -- modes and credentials --------------------------------------------------------------------------


def settings(**values: object) -> Settings:
    return replace(Settings(), **values)  # type: ignore[arg-type]


def test_the_mode_follows_the_settings() -> None:
    assert choose_mode(settings(slack_bot_token="xoxb-1", slack_app_token="xapp-1")) is Mode.SOCKET
    assert choose_mode(settings(slack_bot_token="xoxb-1", slack_signing_secret="s")) is Mode.HTTP
    oauth = settings(slack_signing_secret="s", slack_client_id="1.2", slack_client_secret="c")
    assert choose_mode(oauth) is Mode.OAUTH
    problems = {
        "SLACK_APP_TOKEN for Socket Mode or SLACK_SIGNING_SECRET": settings(slack_bot_token="xoxb-1"),
        "Socket Mode needs SLACK_BOT_TOKEN": settings(slack_app_token="xapp-1", slack_signing_secret="s"),
        "starting with xapp-": settings(slack_bot_token="xoxb-1", slack_app_token="xoxb-2"),
        "both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET": settings(
            slack_signing_secret="s", slack_client_id="1"
        ),
        "HTTP mode needs SLACK_BOT_TOKEN": settings(slack_signing_secret="s"),
    }
    for expected, wrong in problems.items():
        with pytest.raises(ConfigError, match=re.escape(expected)):
            choose_mode(wrong)


async def test_a_refused_bot_token_fails_fast(mock_slack: MockSlack, core: Core) -> None:
    mock_slack.bad_tokens.add("xoxb-revoked")
    adapter = SlackAdapter(
        settings(slack_bot_token="xoxb-revoked", slack_signing_secret="s", slack_api_url=mock_slack.api_url),
        core.service,
        core.engine,
    )
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN was refused by Slack: invalid_auth"):
        await adapter.start()
    await adapter.stop()


async def test_unreachable_slack_fails_fast(core: Core) -> None:
    adapter = SlackAdapter(
        settings(
            slack_bot_token=BOT_TOKEN, slack_signing_secret="s", slack_api_url="http://127.0.0.1:9/api/"
        ),
        core.service,
        core.engine,
    )
    with pytest.raises(ConfigError, match=re.escape("cannot reach Slack at http://127.0.0.1:9/api/")):
        await adapter.start()


async def test_bad_settings_are_reported_by_start_not_construction(core: Core) -> None:
    # The runner builds it first.
    adapter = SlackAdapter(settings(slack_bot_token="xoxb-1"), core.service, core.engine)
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        await adapter.start()


# -- Socket Mode ------------------------------------------------------------------------------------


async def test_socket_mode_refuses_a_bad_app_token(mock_slack: MockSlack, core: Core) -> None:
    mock_slack.bad_tokens.add("xapp-bad")
    adapter = SlackAdapter(
        settings(slack_bot_token=BOT_TOKEN, slack_app_token="xapp-bad", slack_api_url=mock_slack.api_url),
        core.service,
        core.engine,
    )
    assert adapter.mode is Mode.SOCKET
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN was refused by Slack: invalid_auth"):
        await adapter.start()


async def test_socket_mode_answers_a_slash_command(mock_slack: MockSlack, core: Core) -> None:
    adapter = SlackAdapter(
        settings(
            slack_bot_token=BOT_TOKEN,
            slack_app_token=APP_TOKEN,
            slack_api_url=mock_slack.api_url,
        ),
        core.service,
        core.engine,
    )
    await adapter.start()
    try:
        assert adapter.port is None  # no HTTP server in Socket Mode
        opened = mock_slack.calls_to("apps.connections.open")
        assert len(opened) == 1 and opened[0].token == APP_TOKEN
        body, url = command_body(mock_slack, Member("U_ALICE"), "quiz")
        envelope = await mock_slack.send_envelope("slash_commands", dict(parse_qsl(body)))
        assert (await mock_slack.socket_ack(envelope))["envelope_id"] == envelope
        question = await mock_slack.reply(url)
        assert "What Is Deep Learning" in texts(question["blocks"])
    finally:
        await adapter.stop()


# -- admins and the manifest ------------------------------------------------------------------------


async def test_admin_roles_are_cached_briefly() -> None:
    from bot.adapters.slack.admins import AdminCheck

    class Client:
        calls = 0

        async def users_info(self, user: str) -> dict[str, object]:
            Client.calls += 1
            return {"ok": True, "user": {"id": user, "is_owner": user == "U_OWNER"}}

    now = [0.0]
    admins = AdminCheck(["U_LISTED"], ttl=60, clock=lambda: now[0])
    assert await admins.is_admin(Client(), "T1", "U_LISTED") and Client.calls == 0
    assert await admins.is_admin(Client(), "T1", "U_OWNER")
    assert not await admins.is_admin(Client(), "T1", "U_MEMBER")
    assert await admins.is_admin(Client(), "T1", "U_OWNER") and Client.calls == 2
    now[0] = 61
    assert await admins.is_admin(Client(), "T1", "U_OWNER") and Client.calls == 3


def test_the_manifest_matches_the_app() -> None:
    from bot.adapters.slack.oauth import BOT_SCOPES
    from tests.conftest import REPO

    manifest = (REPO / "slack-manifest.yml").read_text(encoding="utf-8")
    scopes = re.search(r"bot:\n((?:\s+- \S+.*\n)+)", manifest)
    assert scopes is not None
    assert tuple(re.findall(r"- (\S+)", scopes[1])) == BOT_SCOPES
    assert f"- command: {Settings().slack_command}\n" in manifest
    for needed in (
        "home_tab_enabled: true",
        "socket_mode_enabled: true",
        "app_home_opened",
        "should_escape: true",
    ):
        assert needed in manifest


def test_a_members_time_zone_comes_from_users_info() -> None:
    from bot.adapters.slack.admins import timezone_of

    assert timezone_of({"tz": "Pacific/Pago_Pago", "tz_offset": -39600}) == "Pacific/Pago_Pago"
    assert timezone_of({"tz": "Not/AZone", "tz_offset": -39600}) == "Etc/GMT+11"  # Etc/ signs are inverted
    assert timezone_of({"tz_offset": 19800}) is None  # +05:30 has no Etc/ zone: the kept one is used
    assert timezone_of({"tz_offset": 0}) == "Etc/UTC"
    assert timezone_of({}) is None


# -- bolt still verifies every request --------------------------------------------------------------


async def test_bolt_verifies_the_signature_before_a_click_reaches_its_listener(
    mock_slack: MockSlack, core: Core
) -> None:
    """Clicks go to their listener straight from bolt's middleware chain (bot/adapters/slack/direct.py),
    after bolt's own signature check: a click whose signature bolt refuses is never kept or handled."""
    adapter = SlackAdapter(
        settings(
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SECRET,
            slack_api_url=mock_slack.api_url,
            slack_port=0,
        ),
        core.service,
        core.engine,
    )
    await adapter.start()
    try:
        assert adapter.handlers is not None
        accepted: list[str] = []
        adapter.handlers.accept = lambda kind, body, client: _note(accepted, kind)  # type: ignore[method-assign]
        button = {"action_id": "skip:1", "value": "skip:1", "text": {"type": "plain_text", "text": "Skip"}}
        payload, _url = click_payload(mock_slack, Member("U_ALICE"), button)
        body = urlencode({"payload": json.dumps(payload)})
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        forged = {**form, **signed_headers(body, "not-the-secret")}
        refused = await adapter.app.async_dispatch(AsyncBoltRequest(body=body, query="", headers=forged))
        assert refused.status == 401 and accepted == []
        genuine = {**form, **signed_headers(body)}
        acked = await adapter.app.async_dispatch(AsyncBoltRequest(body=body, query="", headers=genuine))
        assert acked.status == 200 and accepted == ["action"]
    finally:
        await adapter.stop()


async def _note(seen: list[str], kind: str) -> None:
    seen.append(kind)

"""The daily question's Poster on Slack, against the mock Web API and its injected errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.poster import SlackPoster
from bot.core.messages import Action, Message, Section, Style
from bot.schedule.poster import PermanentPostError, PostRef, RetryablePostError
from tests.fakes.slack.fixtures import mock_slack
from tests.fakes.slack.server import BOT_TOKEN, Failure, MockSlack, texts

__all__ = ["mock_slack"]

POST = Message(
    title="Question of the day",
    sections=(Section("**What is <!channel> & co?**", "ml #1"),),
    actions=(Action("daily:7", "Reveal answer", Style.PRIMARY),),
    private=False,
)


@pytest.fixture
async def poster(mock_slack: MockSlack) -> AsyncIterator[SlackPoster]:
    async with aiohttp.ClientSession() as session:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=mock_slack.api_url, session=session)

        async def client_for_team(team: str) -> Any:
            assert team == "T1"
            return client

        yield SlackPoster(client_for_team)


async def test_posts_publicly_and_opens_a_thread(poster: SlackPoster, mock_slack: MockSlack) -> None:
    ref = await poster.post("T1", "C0GENERAL1", POST, "Question of the day · Wed 04 Mar 2026")
    post, opener = mock_slack.calls_to("chat.postMessage")
    assert ref == PostRef(message_ref="1700000000.000001", thread_ref="1700000000.000001")
    assert post.token == BOT_TOKEN and post.args["channel"] == "C0GENERAL1"
    assert post.args["unfurl_links"] is False and "thread_ts" not in post.args
    assert "*What is &lt;!channel&gt; &amp; co?*" in texts(post.args["blocks"])
    assert post.args["blocks"][-1]["elements"][0]["value"] == "daily:7"
    assert opener.args["thread_ts"] == ref.message_ref and "discuss it here" in opener.args["text"]


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("channel_not_found", "can't find the channel"),
        ("not_in_channel", "invite it with /invite @studybot"),
        ("is_archived", "the channel is archived"),
        ("token_revoked", "revoked"),
    ],
)
async def test_channel_problems_are_permanent(
    poster: SlackPoster, mock_slack: MockSlack, code: str, reason: str
) -> None:
    mock_slack.fail("chat.postMessage", Failure(code))
    with pytest.raises(PermanentPostError) as raised:
        await poster.post("T1", "C0GENERAL1", POST, "thread")
    assert reason in raised.value.reason and code in raised.value.reason


async def test_rate_limits_and_server_errors_are_retryable(
    poster: SlackPoster, mock_slack: MockSlack
) -> None:
    mock_slack.fail("chat.postMessage", Failure("ratelimited", status=429, retry_after=7))
    with pytest.raises(RetryablePostError) as limited:
        await poster.post("T1", "C0GENERAL1", POST, "thread")
    assert limited.value.retry_after == 7

    mock_slack.fail("chat.postMessage", Failure(status=503, html=True))
    with pytest.raises(RetryablePostError) as server:
        await poster.post("T1", "C0GENERAL1", POST, "thread")
    assert "HTTP 503" in server.value.reason

    mock_slack.fail("chat.postMessage", Failure("internal_error", status=500))
    with pytest.raises(RetryablePostError):
        await poster.post("T1", "C0GENERAL1", POST, "thread")


async def test_unreachable_slack_is_retryable() -> None:
    async def client_for_team(team: str) -> Any:
        return AsyncWebClient(token=BOT_TOKEN, base_url="http://127.0.0.1:9/api/", timeout=2)

    with pytest.raises(RetryablePostError):
        await SlackPoster(client_for_team).post("T1", "C0GENERAL1", POST, "thread")


async def test_a_failed_thread_opener_does_not_repost(poster: SlackPoster, mock_slack: MockSlack) -> None:
    mock_slack.fail("chat.postMessage", Failure("ratelimited", status=429, retry_after=1), after=1)
    ref = await poster.post("T1", "C0GENERAL1", POST, "thread")
    # The post was made, so the runner is told so (and won't post the question twice).
    assert ref.message_ref == "1700000000.000001"
    assert len(mock_slack.calls_to("chat.postMessage")) == 2

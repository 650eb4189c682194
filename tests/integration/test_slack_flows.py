"""The real slack-bolt app in HTTP mode: signed requests in, a mock Slack recording what comes out."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot.bootstrap import build_service
from bot.core.service import StudyService
from bot.schedule.runner import DailyRunner
from bot.store.tables import asks, card_states, daily_channels, members
from tests.conftest import CONTENT, FakeClock
from tests.fakes.slack.driver import Member, SlackHarness
from tests.fakes.slack.fixtures import mock_slack, running, slack
from tests.fakes.slack.server import MockSlack, buttons, texts

__all__ = ["mock_slack", "slack"]  # fixtures

ALICE = Member("U_ALICE", name="alice")
BOB = Member("U_BOB", name="bob")
ADMIN = Member("U_ADMIN", name="admin")


async def count(service: StudyService, query: sa.Select[Any]) -> int:
    async with service.store.engine.connect() as conn:  # type: ignore[attr-defined]
        return int((await conn.execute(query)).scalar_one())


def graded() -> sa.Select[Any]:
    return sa.select(sa.func.count()).select_from(asks).where(asks.c.grade.is_not(None))


def labels(message: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in buttons(message["blocks"])]


async def test_quiz_reveal_grade_then_followup(slack: SlackHarness) -> None:
    question = await slack.ask(ALICE, "quiz")
    assert question["response_type"] == "ephemeral"
    assert "*What Is Deep Learning, and How Does It Differ" in texts(question["blocks"])
    assert labels(question) == ["Reveal answer", "Write my answer", "Skip"]

    answer = await slack.press(ALICE, question, "reveal:")
    assert answer["replace_original"] is True  # the question turns into its answer, in place
    assert "subset of machine learning" in texts(answer["blocks"])
    assert [label.split(" · ")[0] for label in labels(answer)] == ["Again", "Hard", "Good", "Easy"]

    result = await slack.press(ALICE, answer, "grade:", label="Good")
    assert result["replace_original"] is True
    assert "Good — next review" in texts(result["blocks"]) and "+" in texts(result["blocks"])
    again = await slack.press(ALICE, answer, "grade:", label="Easy")  # the old buttons, clicked again
    assert "already graded this question (Good)" in texts(again["blocks"])
    assert again["replace_original"] is False  # an error never wipes out the result

    assert labels(result)[0] == "Follow-up question"
    followup = await slack.press(ALICE, result, "followup:")
    assert "primary challenges with training deep learning models" in texts(followup["blocks"])
    assert await count(slack.adapter.service, graded()) == 1


async def test_written_answer_in_a_modal_is_shown_with_key_terms(slack: SlackHarness) -> None:
    question = await slack.ask(ALICE, "quiz")
    clicked = await slack.click(ALICE, question, "write:")
    opened = (await slack.mock.wait_for("views.open"))[0]
    view = opened.args["view"]
    assert opened.args["trigger_id"].startswith("trigger-U_ALICE")
    assert view["type"] == "modal" and view["callback_id"] == "answer"
    field = next(b for b in view["blocks"] if b["type"] == "input")["element"]
    assert field["type"] == "plain_text_input" and field["multiline"] and field["max_length"] == 2000

    status, body = await slack.submit(ALICE, view, "Many layers, e.g. CNNs <!here> & friends")
    assert (status, body) == (200, "")  # the modal closes at once
    reveal = await slack.mock.reply(clicked)
    shown = texts(reveal["blocks"])
    assert "*Your answer*\nMany layers, e.g. CNNs &lt;!here&gt; &amp; friends" in shown
    assert "Covered: convolutional neural networks (CNNs)" in shown
    assert "Missed: recurrent neural networks (RNNs)" in shown
    assert reveal["replace_original"] is True


async def test_daily_post_is_public_and_each_clicker_answers_privately(
    mock_slack: MockSlack, service: StudyService
) -> None:
    mock_slack.admins.add(ADMIN.user)
    app = running(mock_slack, service)
    runner = DailyRunner(service, {"slack": app.adapter.poster}, app.adapter.settings)
    async with app as slack:
        await runner.start()
        try:
            done = await slack.ask(ADMIN, "daily set 09:00 Europe/Berlin")
            assert "Daily question set for <#C0GENERAL1>" in texts(done["blocks"])
            posted = await slack.ask(ADMIN, "daily now")
            assert "Posted today's question" in texts(posted["blocks"])
        finally:
            await runner.stop()

        post, opener = mock_slack.calls_to("chat.postMessage")
        assert post.args["channel"] == "C0GENERAL1" and post.args["unfurl_links"] is False
        assert "Question of the day" in texts(post.args["blocks"])
        assert opener.args["thread_ts"] == "1700000000.000001"
        public = {"blocks": post.args["blocks"]}

        for member in (ALICE, BOB):
            mine = await slack.press(member, public, "daily:", ephemeral=False)
            assert mine["replace_original"] is False and mine["response_type"] == "ephemeral"
            assert "Model answer" in texts(mine["blocks"])
            graded_reply = await slack.press(member, mine, "grade:")
            assert "next review" in texts(graded_reply["blocks"])
        assert not mock_slack.calls_to("chat.update")  # the public post is never edited
        assert await count(service, graded()) == 2


async def test_daily_set_by_a_member_is_refused(mock_slack: MockSlack, service: StudyService) -> None:
    async with running(mock_slack, service, slack_admin_ids=("U_CONFIGURED",)) as slack:
        refused = await slack.ask(BOB, "daily set 09:00 Europe/Berlin")
        assert "Only admins can change the daily question" in texts(refused["blocks"])
        assert [c.args["user"] for c in mock_slack.calls_to("users.info")] == [BOB.user]

        mock_slack.admins.add(ADMIN.user)
        assert "Daily question set" in texts(
            (await slack.ask(ADMIN, "daily set 09:00 Europe/Berlin"))["blocks"]
        )
        # The configured list is enough, whatever users.info says (it is asked once, for the time zone).
        configured = Member("U_CONFIGURED", channel="C0OTHER123")
        assert "Daily question set" in texts((await slack.ask(configured, "daily set 10:00 UTC"))["blocks"])
        asked = sorted(c.args["user"] for c in mock_slack.calls_to("users.info"))
        assert asked == [ADMIN.user, BOB.user, "U_CONFIGURED"]
    assert await count(service, sa.select(sa.func.count()).select_from(daily_channels)) == 2


async def test_a_button_works_after_a_restart(
    mock_slack: MockSlack, service: StudyService, db_url: str, clock: FakeClock
) -> None:
    async with running(mock_slack, service) as slack:
        question = await slack.ask(ALICE, "quiz")
    restarted = await build_service(db_url, [CONTENT], clock=clock)
    try:
        async with running(mock_slack, restarted) as slack:
            answer = await slack.press(ALICE, question, "reveal:")
            assert "Model answer" in texts(answer["blocks"])
    finally:
        await restarted.store.close()  # type: ignore[attr-defined]


async def test_a_double_click_is_one_grade(slack: SlackHarness) -> None:
    answer = await slack.press(ALICE, await slack.ask(ALICE, "quiz"), "reveal:")
    urls = await asyncio.gather(slack.click(ALICE, answer, "grade:"), slack.click(ALICE, answer, "grade:"))
    replies = [await slack.mock.reply(url) for url in urls]
    assert await count(slack.adapter.service, graded()) == 1
    shown = sorted(texts(r["blocks"]) for r in replies)
    assert "already graded" in shown[1] and "next review" in shown[0]
    assert sorted(r["replace_original"] for r in replies) == [False, True]


async def test_a_retried_click_is_one_grade(slack: SlackHarness) -> None:
    answer = await slack.press(ALICE, await slack.ask(ALICE, "quiz"), "reveal:")
    first = await slack.click(ALICE, answer, "grade:")
    await slack.mock.reply(first)
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    again = await slack.click(ALICE, answer, "grade:", headers=retry)
    await slack.mock.settle()
    assert again.rsplit("/", 1)[1] not in slack.mock.responses  # acked, nothing run
    assert await count(slack.adapter.service, graded()) == 1

    # A retry whose first attempt never reached the bot is handled; it still counts once.
    answer = await slack.press(BOB, await slack.ask(BOB, "quiz"), "reveal:")
    lost = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "connection_failed"}
    graded_reply = await slack.mock.reply(
        await slack.click(BOB, answer, "grade:", label="Hard", headers=lost)
    )
    assert "Hard — next review" in texts(graded_reply["blocks"])
    assert await count(slack.adapter.service, graded()) == 2


async def test_a_bad_signature_gets_401_and_changes_nothing(slack: SlackHarness) -> None:
    before = len(slack.mock.calls)
    slack.secret = "not-the-secret"
    status, _ = await slack.post("command=%2Fstudy&text=quiz&team_id=T1&user_id=U_ALICE&channel_id=C1")
    assert status == 401
    slack.secret = "test-signing-secret"
    status, _ = await slack.post("command=%2Fstudy&text=quiz", signed=False)
    assert status == 401
    await slack.mock.settle()
    assert len(slack.mock.calls) == before and not slack.mock.responses
    assert await count(slack.adapter.service, sa.select(sa.func.count()).select_from(members)) == 0


async def test_a_request_older_than_five_minutes_is_refused(slack: SlackHarness) -> None:
    from urllib.parse import urlencode

    body = urlencode({"command": "/study", "text": "quiz", "team_id": "T1", "user_id": "U_ALICE"})
    status, _ = await slack.post(body, timestamp=int(time.time()) - 6 * 60)
    assert status == 401
    await slack.mock.settle()
    assert not slack.mock.responses


async def test_deck_text_pings_nobody(
    mock_slack: MockSlack, db_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    deck = tmp_path / "pranks.md"
    deck.write_text(
        "# Pranks\n---\n\n"
        "### **1. Who does <!channel> @everyone <@U0BOSS> ping?**\n\n"
        "**Theory:**  \nNobody: <!here|here> and <!subteam^S1> are text & so is **<!everyone>**.\n\n"
        "**Follow-up Question:**  \n*Really?*  \n**Answer:**  \nYes.\n\n---\n",
        encoding="utf-8",
    )
    service = await build_service(db_url, [tmp_path], clock=clock)
    try:
        async with running(mock_slack, service) as slack:
            question = await slack.ask(ALICE, "quiz")
            answer = await slack.press(ALICE, question, "reveal:")
    finally:
        await service.store.close()  # type: ignore[attr-defined]
    for message in (question, answer):
        raw = json.dumps(message)
        assert "<!" not in raw and "<@" not in raw
        assert all(t.get("verbatim") for b in message["blocks"] for t in [b.get("text") or {}] if t)
    assert "Who does &lt;!channel&gt; @everyone &lt;@U0BOSS&gt; ping?" in texts(question["blocks"])
    assert "&lt;!channel&gt;" in question["text"]
    assert "*&lt;!everyone&gt;*" in texts(answer["blocks"])


async def test_home_tab_shows_stats_and_cards_due(slack: SlackHarness) -> None:
    status, _ = await slack.open_home(ALICE)
    assert status == 200
    published = (await slack.mock.wait_for("views.publish"))[0]
    assert published.args["user_id"] == ALICE.user
    shown = texts(published.args["view"]["blocks"])
    assert published.args["view"]["type"] == "home"
    assert "Your study stats" in shown and "0 learned, 0 due now" in shown
    assert "/study quiz ml" in shown  # core's /quiz becomes the Slack subcommand


async def test_other_subcommands_answer_privately(slack: SlackHarness) -> None:
    joined = await slack.ask(ALICE, "team join Night &amp; Owls")
    assert "You joined team Night &amp; Owls." in texts(joined["blocks"])
    board = await slack.ask(ALICE, "leaderboard month")
    assert "Leaderboard · this month" in texts(board["blocks"])
    helped = await slack.ask(ALICE, "help")
    assert "/study quiz [deck]" in texts(helped["blocks"]) and "/quiz [deck]" not in texts(helped["blocks"])
    assert all(r["response_type"] == "ephemeral" for r in (joined, board, helped))


async def test_slack_can_verify_the_request_url(slack: SlackHarness) -> None:
    challenge = json.dumps(
        {"token": "t", "challenge": "3eZbrw1aBm2rZgRNFdxV2595", "type": "url_verification"}
    )
    status, body = await slack.post(challenge, content_type="application/json")
    assert status == 200 and "3eZbrw1aBm2rZgRNFdxV2595" in body


async def test_a_blank_or_too_long_answer_keeps_the_modal_open_with_the_error(slack: SlackHarness) -> None:
    question = await slack.ask(ALICE, "quiz")
    clicked = await slack.click(ALICE, question, "write:")
    view = (await slack.mock.wait_for("views.open"))[0].args["view"]
    for typed, expected in (
        ("   \n ", "Your answer was empty"),
        ("x" * 2001, "2,001 characters; the limit is 2,000"),
    ):
        status, body = await slack.submit(ALICE, view, typed)
        assert status == 200
        answer = json.loads(body)
        assert answer["response_action"] == "errors"
        assert expected in answer["errors"]["answer"]  # under the field; the typed text stays in the modal
    await slack.mock.settle()
    assert clicked.rsplit("/", 1)[1] not in slack.mock.responses  # no message instead of the modal
    assert not slack.mock.calls_to("chat.postEphemeral")
    status, body = await slack.submit(ALICE, view, "Layers of neurons")
    assert (status, body) == (200, "")
    assert "Layers of neurons" in texts((await slack.mock.reply(clicked))["blocks"])


async def test_dates_and_streak_days_are_in_the_members_own_time_zone(
    slack: SlackHarness, clock: FakeClock
) -> None:
    pago_pago = ZoneInfo("Pacific/Pago_Pago")  # UTC−11
    slack.mock.zones[ALICE.user] = "Pacific/Pago_Pago"  # as users.info tells it
    clock.set(datetime(2026, 3, 3, 23, 0, tzinfo=UTC))  # Tuesday 12:00 for Alice
    answer = await slack.press(ALICE, await slack.ask(ALICE, "quiz"), "reveal:")
    await slack.press(ALICE, answer, "grade:", label="Again")

    clock.set(datetime(2026, 3, 4, 9, 0, tzinfo=UTC))  # Wednesday in UTC, still Tuesday 22:00 for her
    answer = await slack.press(ALICE, await slack.ask(ALICE, "quiz"), "reveal:")
    result = texts((await slack.press(ALICE, answer, "grade:", label="Good"))["blocks"])
    query = sa.select(card_states.c.due).order_by(card_states.c.due.desc()).limit(1)
    async with slack.adapter.service.store.engine.connect() as conn:  # type: ignore[attr-defined]
        due = (await conn.execute(query)).scalar_one().replace(tzinfo=UTC)
        kept = (await conn.execute(sa.select(members.c.timezone))).scalar_one()
    assert due.astimezone(pago_pago).date() != due.date()  # the case where her day and UTC's differ
    assert f"({due.astimezone(pago_pago):%a %d %b})" in result, result  # her date, not UTC's
    assert "🔥 1-day streak" in result  # both grades on her Tuesday: one day, not two
    assert "🔥 1 day (best 1)" in texts((await slack.ask(ALICE, "stats"))["blocks"])
    assert kept == "Pacific/Pago_Pago"  # kept on the member
    assert len([c for c in slack.mock.calls_to("users.info") if c.args["user"] == ALICE.user]) == 1  # cached


async def test_repeated_clicks_get_one_already_graded_notice_not_one_each(slack: SlackHarness) -> None:
    answer = await slack.press(ALICE, await slack.ask(ALICE, "quiz"), "reveal:")
    first = await slack.mock.reply(await slack.click(ALICE, answer, "grade:", label="Good"))
    assert "Good — next review" in texts(first["blocks"])
    urls = [
        await slack.click(ALICE, answer, "grade:", label=label) for label in ("Good", "Good", "Easy", "Hard")
    ]
    await slack.mock.settle(0.5)
    notices = [r for url in urls for r in slack.mock.responses.get(url.rsplit("/", 1)[1], [])]
    assert len(notices) == 1 and "already graded this question (Good)" in texts(notices[0]["blocks"])
    assert await count(slack.adapter.service, graded()) == 1

    # A click on a public post gets a new private message each time: repeats of it get none.
    question = await slack.ask(BOB, "quiz")
    opened = [await slack.click(BOB, question, "reveal:", ephemeral=False) for _ in range(3)]
    await slack.mock.settle(0.5)
    shown = [r for url in opened for r in slack.mock.responses.get(url.rsplit("/", 1)[1], [])]
    assert len(shown) == 1 and "Model answer" in texts(shown[0]["blocks"])

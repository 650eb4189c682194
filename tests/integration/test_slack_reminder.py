"""A reminder on Slack, end to end through slack-bolt and the mock Slack: chat.postMessage to the member's
user id carries it, and its Start review button, pressed in that DM, leads to a graded card."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.service import StudyService
from bot.schedule.outreach import OutreachRunner
from tests.conftest import FakeClock
from tests.fakes.slack.driver import Member
from tests.fakes.slack.fixtures import mock_slack, running, slack
from tests.fakes.slack.server import MockSlack, texts

__all__ = ["mock_slack", "slack"]  # fixtures

TOKYO = ZoneInfo("Asia/Tokyo")
KENJI = Member("U_KENJI", name="kenji", channel="D0KENJI01")


async def test_a_reminder_dm_leads_to_a_graded_card(
    mock_slack: MockSlack, service: StudyService, clock: FakeClock
) -> None:
    async with running(mock_slack, service) as slack:
        clock.set(datetime(2026, 3, 3, 9, 0, tzinfo=TOKYO))
        question = await slack.ask(KENJI, "quiz")
        answer = await slack.press(KENJI, question, "reveal:")
        await slack.press(KENJI, answer, "grade:", label="Again")
        for line in ("settings timezone Asia/Tokyo", "settings reminders 19:00"):
            assert "Reminders" in texts((await slack.ask(KENJI, line))["blocks"])
        clock.set(datetime(2026, 3, 4, 19, 0, tzinfo=TOKYO))
        runner = OutreachRunner(service, {"slack": slack.adapter.poster})
        assert (await runner.sweep())["sent"] == 1
        (sent,) = [c for c in mock_slack.calls_to("chat.postMessage") if c.args["channel"] == KENJI.user]
        assert "due for review" in texts(sent.args["blocks"]) and sent.args["text"]
        reminder = {"blocks": sent.args["blocks"]}
        card = await slack.press(KENJI, reminder, "review:", ephemeral=False)
        assert "Reveal" in str(card["blocks"]), texts(card["blocks"])
        answer = await slack.press(KENJI, card, "reveal:")
        graded = await slack.press(KENJI, answer, "grade:", label="Good")
        assert "Good — next review" in texts(graded["blocks"])

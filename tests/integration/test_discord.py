"""The Discord adapter end to end: real discord.py, a fake Discord API (tests/fakes/discord/).

Interactions go in through discord.py's gateway entry point; the assertions are on what Discord would
have received: interaction callbacks, follow-ups, channel messages and threads.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.bootstrap import build_service
from bot.core.decks.loader import load_decks
from bot.core.messages import Message
from bot.core.model.models import Caller
from bot.core.service import StudyService
from bot.core.texts.daily import thread_name
from bot.schedule.poster import PostRef
from bot.schedule.runner import DailyRunner
from tests.conftest import CONTENT, FakeClock
from tests.fakes.discord.driver import Response, button
from tests.fakes.discord.fixtures import DiscordEnv
from tests.fakes.discord.server import (
    ADMIN_PERMISSIONS,
    DEFERRED_MESSAGE,
    DEFERRED_UPDATE,
    GUILD_ID,
    MESSAGE,
    MODAL,
    UPDATE_MESSAGE,
    User,
)

pytest_plugins = ("tests.fakes.discord.fixtures",)  # the fake_discord and discord_env fixtures

ALICE = User(1001, "Alice")
BOB = User(1002, "Bob")
ADMIN = User(1003, "Ada", permissions=ADMIN_PERMISSIONS)
DAILY_CHANNEL = 930000000000000001


def workspace() -> str:
    return f"discord:{GUILD_ID}"


async def graded_count(service: StudyService, user: User) -> int:
    member = await service.store.ensure_member(workspace(), str(user.id), user.name)
    stats = await service.store.member_stats(member.id, service.clock.now(), service.clock.now().date())
    return sum(stats.grade_counts.values())


# -- studying -------------------------------------------------------------------------------------


async def test_quiz_reveal_grade_then_follow_up(discord_env: DiscordEnv, service: StudyService) -> None:
    bot = discord_env.driver
    quiz = await bot.slash("quiz", ALICE)
    assert quiz.callback.type == MESSAGE and quiz.callback.ephemeral
    assert quiz.callback.title.startswith("New card")
    assert [b.split(":")[0] for b in quiz.callback.custom_ids] == ["reveal", "write", "skip"]

    reveal = await bot.click(quiz.message, button(quiz.message, "reveal:"), ALICE)
    # The private card turns over in place: the answer with the four grades and their intervals.
    assert reveal.callback.type == UPDATE_MESSAGE
    assert reveal.callback.title.startswith("Answer")
    assert "Model answer" in reveal.callback.text()
    grades = [b.rsplit(":", 1)[1] for b in reveal.callback.custom_ids]
    assert grades == ["again", "hard", "good", "easy"]

    graded = await bot.click(reveal.message, button(reveal.message, "Good"), ALICE)
    assert graded.callback.type == UPDATE_MESSAGE
    assert graded.callback.title.startswith("Good — next review")
    assert await graded_count(service, ALICE) == 1

    follow = await bot.click(graded.message, button(graded.message, "followup:"), ALICE)
    assert follow.callback.type == UPDATE_MESSAGE
    assert follow.callback.title.startswith("Follow-up")
    assert "primary challenges" in follow.callback.text()


async def test_written_answer_in_a_modal_is_shown_with_key_terms(
    discord_env: DiscordEnv, service: StudyService
) -> None:
    bot = discord_env.driver
    quiz = await bot.slash("quiz", ALICE)
    opened = await bot.click(quiz.message, button(quiz.message, "write:"), ALICE)
    modal = opened.callback
    assert modal.type == MODAL
    assert modal.data["custom_id"] == "form:answer:" + button(quiz.message, "write:").split(":")[1]
    text_inputs = [c for c in _walk(modal.data["components"]) if c.get("type") == 4]
    assert len(text_inputs) == 1 and text_inputs[0]["max_length"] == service.answer_limit
    assert "Deep Learning" in modal.text()  # the question is shown above the text box

    typed = "Many layers learn features; convolutional neural networks (CNNs) for images."
    shown = await bot.submit(modal, typed, ALICE, message=quiz.message)
    assert shown.callback.type == UPDATE_MESSAGE  # the question card becomes the answer card
    text = shown.callback.text()
    assert "Your answer" in text and "CNNs" in text
    assert "Key terms" in text and "Covered:" in text and "Missed:" in text
    assert len(shown.callback.custom_ids) == 4  # still to be graded


def _walk(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from tests.fakes.discord.server import walk

    return walk(components)


async def test_a_double_click_grades_once(discord_env: DiscordEnv, service: StudyService) -> None:
    bot = discord_env.driver
    quiz = await bot.slash("quiz", ALICE)
    reveal = await bot.click(quiz.message, button(quiz.message, "reveal:"), ALICE)
    card = copy.deepcopy(reveal.message)  # both clicks come from the same card, before it changes
    good = button(card, "Good")

    first, second = await asyncio.gather(bot.click(card, good, ALICE), bot.click(card, good, ALICE))
    kinds = sorted([first.callback.type or 0, second.callback.type or 0])
    assert kinds == [MESSAGE, UPDATE_MESSAGE]
    refused = first if first.callback.type == MESSAGE else second
    assert refused.callback.ephemeral
    assert refused.callback.title == "You already graded this question (Good)."
    assert await graded_count(service, ALICE) == 1


async def test_a_button_keeps_working_after_a_restart(
    discord_env: DiscordEnv, service: StudyService, db_url: str, clock: FakeClock
) -> None:
    quiz = await discord_env.driver.slash("quiz", ALICE)
    reveal = await discord_env.driver.click(quiz.message, button(quiz.message, "reveal:"), ALICE)

    # A new process: new client, new service, the same database. No views were kept anywhere.
    fresh = await build_service(db_url, [CONTENT], clock=clock)
    try:
        await discord_env.restart(fresh)
        graded = await discord_env.driver.click(reveal.message, button(reveal.message, "Easy"), ALICE)
        assert graded.callback.type == UPDATE_MESSAGE
        assert graded.callback.title.startswith("Easy — next review")
        assert await graded_count(fresh, ALICE) == 1
    finally:
        await discord_env.adapter.client.close()
        await fresh.store.close()  # type: ignore[attr-defined]


async def test_a_modal_opened_before_a_restart_can_be_submitted(
    discord_env: DiscordEnv, db_url: str, clock: FakeClock
) -> None:
    quiz = await discord_env.driver.slash("quiz", ALICE)
    opened = await discord_env.driver.click(quiz.message, button(quiz.message, "write:"), ALICE)
    fresh = await build_service(db_url, [CONTENT], clock=clock)
    try:
        await discord_env.restart(fresh)
        shown = await discord_env.driver.submit(
            opened.callback, "hierarchical features", ALICE, message=quiz.message
        )
        assert shown.callback.type == UPDATE_MESSAGE and "Your answer" in shown.callback.text()
    finally:
        await discord_env.adapter.client.close()
        await fresh.store.close()  # type: ignore[attr-defined]


async def test_someone_elses_card_is_refused_privately(discord_env: DiscordEnv) -> None:
    bot = discord_env.driver
    quiz = await bot.slash("quiz", ALICE)
    # Ephemeral messages are only visible to Alice, but a forged or replayed click must still be refused.
    stolen = await bot.click(quiz.message, button(quiz.message, "reveal:"), BOB)
    assert stolen.callback.type == MESSAGE and stolen.callback.ephemeral
    assert stolen.callback.title == "That question was asked to someone else."


async def test_commands_answer_privately(discord_env: DiscordEnv) -> None:
    bot = discord_env.driver
    for name in ("stats", "decks", "help", "leaderboard"):
        reply = await bot.slash(name, ALICE)
        assert reply.callback.type == MESSAGE and reply.callback.ephemeral, name
    joined = await bot.slash("team", ALICE, sub="join", options={"name": "Owls"})
    assert joined.callback.title == "You joined team Owls."
    board = await bot.slash("leaderboard", ALICE, options={"period": "month"})
    assert board.callback.title == "Leaderboard · this month"
    listed = await bot.slash("team", BOB, sub="list")
    assert listed.callback.ephemeral and listed.callback.title == "Teams"
    assert "Owls — 1 member" in listed.callback.text()
    left = await bot.slash("team", ALICE, sub="leave")
    assert left.callback.title == "You left team Owls."


@pytest.mark.parametrize(
    ("name", "sub", "options", "expected"),
    [
        ("flashcards", None, {}, "I don't know the command “flashcards”."),  # removed, still cached
        ("team", "fly", {}, "I don't know the command “team fly”."),  # a removed subcommand
        ("team", None, {}, "The command “team” has changed since your app loaded it."),  # a group alone
        ("team", "join", {}, "The command “team join” has changed since your app loaded it."),  # no name
    ],
)
async def test_an_unknown_or_stale_command_gets_the_cores_reply_without_an_error_log(
    discord_env: DiscordEnv,
    caplog: pytest.LogCaptureFixture,
    name: str,
    sub: str | None,
    options: dict[str, Any],
    expected: str,
) -> None:
    caplog.set_level(logging.INFO)
    reply = await discord_env.driver.slash(name, ALICE, sub=sub, options=options)
    assert reply.callback.type == MESSAGE and reply.callback.ephemeral
    assert reply.callback.title == expected
    assert "/help" in reply.callback.text()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_autocomplete_for_an_unknown_command_offers_nothing(
    discord_env: DiscordEnv, caplog: pytest.LogCaptureFixture
) -> None:
    assert await discord_env.driver.autocomplete("flashcards", ALICE, "deck", "ml") == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_autocomplete_offers_decks_and_timezones(discord_env: DiscordEnv) -> None:
    bot = discord_env.driver
    decks = await bot.autocomplete("quiz", ALICE, "deck", "ml")
    assert [c["value"] for c in decks] == ["ml-interview-questions"]
    zones = await bot.autocomplete("daily", ADMIN, "timezone", "berl", sub="set")
    assert zones[0]["value"] == "Europe/Berlin"
    assert len(await bot.autocomplete("daily", ADMIN, "timezone", "", sub="set")) == 25


# -- DMs ------------------------------------------------------------------------------------------


async def test_in_a_dm_quiz_is_private_study_and_server_commands_say_so(discord_env: DiscordEnv) -> None:
    bot = discord_env.driver
    quiz = await bot.slash("quiz", ALICE, dm=True)
    assert quiz.callback.type == MESSAGE and quiz.callback.title.startswith("New card")
    reveal = await bot.click(quiz.message, button(quiz.message, "reveal:"), ALICE, dm=True)
    assert reveal.callback.type == UPDATE_MESSAGE

    for name, sub in (("leaderboard", None), ("team", "leave"), ("daily", "status")):
        reply = await bot.slash(name, ALICE, dm=True, sub=sub)
        assert reply.callback.ephemeral
        assert reply.callback.title == "This command needs a server.", name


# -- deferring ------------------------------------------------------------------------------------


async def test_a_slow_core_call_is_deferred_then_followed_up(
    discord_env: DiscordEnv, service: StudyService, monkeypatch: pytest.MonkeyPatch
) -> None:
    discord_env.adapter.client.studybot.replies.defer_after = 0.05
    real_stats = service.stats

    async def slow_stats(caller: Caller) -> Message:
        await asyncio.sleep(0.3)
        return await real_stats(caller)

    monkeypatch.setattr(service, "stats", slow_stats)
    reply = await discord_env.driver.slash("stats", ALICE)
    assert reply.callback.type == DEFERRED_MESSAGE and reply.callback.ephemeral  # "thinking…", in time
    assert [f.method for f in reply.followups] == ["POST"]
    assert reply.followups[0].title == "Your study stats"
    assert reply.message["embeds"][0]["title"] == "Your study stats"


async def test_a_slow_click_on_a_card_is_deferred_then_edited(
    discord_env: DiscordEnv, service: StudyService, monkeypatch: pytest.MonkeyPatch
) -> None:
    quiz = await discord_env.driver.slash("quiz", ALICE)
    discord_env.adapter.client.studybot.replies.defer_after = 0.05
    real_act = service.act

    async def slow_act(caller: Caller, action_id: str) -> object:
        await asyncio.sleep(0.3)
        return await real_act(caller, action_id)

    monkeypatch.setattr(service, "act", slow_act)
    reveal = await discord_env.driver.click(quiz.message, button(quiz.message, "reveal:"), ALICE)
    assert reveal.callback.type == DEFERRED_UPDATE
    assert [(f.method, f.path.rsplit("/", 1)[1]) for f in reveal.followups] == [("PATCH", "@original")]
    assert reveal.message["embeds"][0]["title"].startswith("Answer")


# -- the daily question ---------------------------------------------------------------------------


async def set_daily(env: DiscordEnv, user: User = ADMIN) -> Response:
    return await env.driver.slash(
        "daily",
        user,
        sub="set",
        options={"time": "09:00", "timezone": "Europe/Berlin"},
        channels={"channel": DAILY_CHANNEL},
    )


async def post_daily(env: DiscordEnv, service: StudyService) -> PostRef:
    """What the daily runner does when a post is due, through the Discord poster."""
    (channel,) = await service.daily.channels()
    today = service.clock.now().astimezone(channel.zone).date()
    (claimed,) = await service.daily.claim_many([(channel.id, today)], "test", timedelta(minutes=10))
    assert claimed.claim is not None
    (message,) = await service.daily.build_posts([claimed.claim])
    ref = await env.adapter.poster.post(
        channel.workspace_ref, channel.channel_ref, message, thread_name(today)
    )
    await service.daily.posted_many([(claimed.claim.post.id, ref.message_ref, ref.thread_ref)])
    return ref


async def test_daily_post_opens_a_thread_and_answers_each_clicker_privately(
    discord_env: DiscordEnv, service: StudyService
) -> None:
    fake, bot = discord_env.fake, discord_env.driver
    configured = await set_daily(discord_env)
    assert configured.callback.ephemeral
    assert configured.callback.title == f"Daily question set for <#{DAILY_CHANNEL}>."

    # `/daily now` goes through the daily runner, which posts with the Discord poster.
    runner = DailyRunner(service, {"discord": discord_env.adapter.poster}, discord_env.settings)
    await runner.start()
    try:
        now = await bot.slash("daily", ADMIN, sub="now", channels={"channel": DAILY_CHANNEL})
    finally:
        await runner.stop()
    assert now.latest.title == f"Posted today's question in <#{DAILY_CHANNEL}>."

    (posted,) = fake.received("POST", rf"^/channels/{DAILY_CHANNEL}/messages$")
    assert posted.title == "Question of the day" and not posted.ephemeral
    assert posted.body["allowed_mentions"] == {"parse": []}
    (post,) = [m for m in fake.messages.values() if m["channel_id"] == str(DAILY_CHANNEL)]
    post_id = int(post["id"])
    (thread,) = fake.received("POST", rf"^/channels/{DAILY_CHANNEL}/messages/{post_id}/threads$")
    assert thread.body["name"].startswith("Question of the day")

    before = copy.deepcopy(post)
    for user in (ALICE, BOB):
        reveal = await bot.click(post, button(post, "daily:"), user)
        assert reveal.callback.type == MESSAGE and reveal.callback.ephemeral  # a new private message
        assert reveal.callback.title.startswith("Answer")
        graded = await bot.click(reveal.message, button(reveal.message, "Hard"), user)
        assert graded.callback.type == UPDATE_MESSAGE  # the clicker's own private card
    assert fake.messages[post_id] == before  # the public post was never edited
    assert await graded_count(service, ALICE) == 1 and await graded_count(service, BOB) == 1


async def test_daily_set_by_a_non_admin_is_refused(discord_env: DiscordEnv, service: StudyService) -> None:
    # Discord hides /daily from members without Manage Server, but servers can override that.
    refused = await set_daily(discord_env, ALICE)
    assert refused.callback.type == MESSAGE and refused.callback.ephemeral
    assert refused.callback.title == "Only admins can change the daily question."
    assert await service.daily.channels() == []


async def test_daily_status_and_off_for_admins(discord_env: DiscordEnv) -> None:
    await set_daily(discord_env)
    status = await discord_env.driver.slash("daily", ADMIN, sub="status")
    assert status.callback.ephemeral and f"<#{DAILY_CHANNEL}>" in status.callback.text()
    off = await discord_env.driver.slash("daily", ADMIN, sub="off", channels={"channel": DAILY_CHANNEL})
    assert off.callback.title == f"The daily question is off in <#{DAILY_CHANNEL}>."


# -- nobody is pinged -----------------------------------------------------------------------------


async def test_a_deck_with_everyone_pings_nobody(
    discord_env: DiscordEnv, service: StudyService, tmp_path: Path
) -> None:
    deck_file = tmp_path / "pings.md"
    deck_file.write_text(
        "# Ping deck\n\n"
        "### **1. Hey @everyone <@&123> <@456>, what is a ping?**\n\n"
        "**Theory:**\nA **ping** to @here and <@456>.\n\n"
        "**Follow-up Question:**\n*Who gets pinged, @everyone?*\n\n"
        "**Answer:**\nNobody, <@&123>.\n\n---\n",
        encoding="utf-8",
    )
    decks, problems = load_decks([CONTENT, deck_file])
    assert not problems
    await service.load_decks(decks)
    bot = discord_env.driver
    quiz = await bot.slash("quiz", ALICE, options={"deck": "pings"})
    assert "@everyone" in quiz.callback.text()
    reveal = await bot.click(quiz.message, button(quiz.message, "reveal:"), ALICE)
    graded = await bot.click(reveal.message, button(reveal.message, "Good"), ALICE)
    await bot.click(graded.message, button(graded.message, "followup:"), ALICE)
    await set_daily(discord_env)
    await bot.slash(
        "daily",
        ADMIN,
        sub="set",
        options={"time": "09:00", "timezone": "UTC", "deck": "pings"},
        channels={"channel": DAILY_CHANNEL},
    )
    await post_daily(discord_env, service)

    sent = [
        r
        for r in discord_env.fake.requests
        if r.method in ("POST", "PATCH")
        and isinstance(r.body, dict)
        and ("embeds" in r.data or r.type in (4, 7))
    ]
    assert len(sent) >= 6
    for request in sent:
        assert request.data.get("allowed_mentions") == {"parse": []}, (request.method, request.path)


# -- the Poster port ------------------------------------------------------------------------------


def daily_message() -> Message:
    from bot.core.messages import Action, Section

    return Message(
        title="Question of the day",
        sections=(Section("**Why?**"),),
        actions=(Action("daily:1", "Reveal answer"),),
        private=False,
    )


@pytest.mark.parametrize(
    ("status", "body", "headers", "kind", "reason", "retry_after"),
    [
        (403, {"message": "Missing Permissions", "code": 50013}, {}, "permanent", "missing permission", None),
        (404, {"message": "Unknown Channel", "code": 10003}, {}, "permanent", "not found", None),
        (
            429,
            {"message": "You are being rate limited.", "retry_after": 64.5, "global": False},
            {"Via": "1.1 google"},
            "retryable",
            "rate limited",
            64.5,
        ),
        (429, {"message": "rate limited"}, {"Retry-After": "7"}, "retryable", "rate limited", 7.0),
        (503, {"message": "Service Unavailable", "code": 0}, {}, "retryable", "server error", None),
    ],
)
async def test_poster_errors_say_whether_to_retry(
    discord_env: DiscordEnv,
    status: int,
    body: dict[str, Any],
    headers: dict[str, str],
    kind: str,
    reason: str,
    retry_after: float | None,
) -> None:
    from bot.schedule.poster import PermanentPostError, RetryablePostError

    discord_env.fake.fail("POST", rf"^/channels/{DAILY_CHANNEL}/messages$", status, body, headers)
    expected = PermanentPostError if kind == "permanent" else RetryablePostError
    with pytest.raises(expected) as caught:
        await discord_env.adapter.poster.post(str(GUILD_ID), str(DAILY_CHANNEL), daily_message(), "Thread")
    assert reason in caught.value.reason
    if retry_after is not None:
        assert isinstance(caught.value, RetryablePostError) and caught.value.retry_after == retry_after


async def test_poster_retries_a_500_itself_then_posts(discord_env: DiscordEnv) -> None:
    discord_env.fake.fail("POST", rf"^/channels/{DAILY_CHANNEL}/messages$", 500)
    ref = await discord_env.adapter.poster.post(str(GUILD_ID), str(DAILY_CHANNEL), daily_message(), "Thread")
    assert (
        ref.message_ref
        and len(discord_env.fake.received("POST", rf"/channels/{DAILY_CHANNEL}/messages$")) == 2
    )


async def test_a_post_without_thread_permission_still_counts(discord_env: DiscordEnv) -> None:
    discord_env.fake.fail("POST", r"/threads$", 403, {"message": "Missing Permissions", "code": 50013})
    ref = await discord_env.adapter.poster.post(str(GUILD_ID), str(DAILY_CHANNEL), daily_message(), "Thread")
    assert ref.message_ref and ref.thread_ref is None

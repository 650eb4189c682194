"""Question of the day: configuration, validation, the post and its Reveal button, yesterday's result."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from bot.adapters.console import ConsoleBot
from bot.adapters.console_poster import ConsolePoster
from bot.config import Settings
from bot.core.commands import run_text_command
from bot.core.messages import Message
from bot.core.model.calendar import parse_weekdays
from bot.core.model.card_order import pick_card, shuffled
from bot.core.service import StudyService
from bot.schedule.runner import DailyRunner
from tests.conftest import FakeClock, member
from tests.daily_helpers import RecordingPoster, make_runner

ADMIN = member("ada", admin=True)
DECK = "ml-interview-questions"


async def cmd(service: StudyService, line: str, caller=ADMIN) -> Message:
    reply = await run_text_command(service, caller, line)
    assert isinstance(reply, Message)
    return reply


# -- configuration and validation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/daily set general 25:00 Europe/Berlin", "“25:00” is not a 24-hour time; use HH:MM, e.g. 09:30."),
        ("/daily set general 9h30 Europe/Berlin", "“9h30” is not a 24-hour time; use HH:MM, e.g. 09:30."),
        ("/daily set general 09:60 Europe/Berlin", "“09:60” is not a 24-hour time; use HH:MM, e.g. 09:30."),
        (
            "/daily set general 09:00 Mars/Olympus",
            "“Mars/Olympus” is not a timezone I know; "
            "use an IANA name such as Europe/Berlin or America/New_York.",
        ),
        (
            "/daily set general 09:00 CEST",
            "“CEST” is not a timezone I know; use an IANA name such as Europe/Berlin or America/New_York.",
        ),
        (
            "/daily set general 09:00 Europe/Berlin ml funday",
            "“funday” is not a list of weekdays; use e.g. mon,wed,fri, mon-fri, weekdays or daily.",
        ),
        (
            "/daily set general 09:00 Europe/Berlin ml mon-funday",
            "“mon-funday” is not a list of weekdays; use e.g. mon,wed,fri, mon-fri, weekdays or daily.",
        ),
        ("/daily set general 09:00 Europe/Berlin physics", "There is no deck called “physics”."),
        # A weekday typo without a deck before it is a bad weekday, not an unknown deck.
        (
            "/daily set general 09:00 Europe/Berlin mon-fir",
            "“mon-fir” is not a list of weekdays; use e.g. mon,wed,fri, mon-fri, weekdays or daily.",
        ),
        (
            "/daily set general 09:00 Europe/Berlin weekdyas",
            "“weekdyas” is not a list of weekdays; use e.g. mon,wed,fri, mon-fri, weekdays or daily.",
        ),
        (
            "/daily set general 09:00 Europe/Berlin tues,thrusday",
            "“tues,thrusday” is not a list of weekdays; use e.g. mon,wed,fri, mon-fri, weekdays or daily.",
        ),
        (
            "/daily set general 09:00 Europe/Berlin Mon - Fir",
            "“Mon - Fir” is not a list of weekdays; use e.g. mon,wed,fri, mon-fri, weekdays or daily.",
        ),
        ("/daily set general 09:00", "Usage: /daily set CHANNEL HH:MM AREA/CITY [deck] [weekdays]"),
        ("/daily off random", "There is no daily question in #random."),
        ("/daily now random", "There is no daily question in #random."),
        ("/daily status random", "There is no daily question in #random."),
    ],
)
async def test_each_validation_error_says_what_is_wrong(
    service: StudyService, line: str, expected: str
) -> None:
    reply = await cmd(service, line)
    assert reply.is_error and reply.private
    assert reply.title == expected
    assert (await cmd(service, "/daily status")).title == "No daily question is set up here yet."


async def test_non_admins_cannot_change_the_daily_question(service: StudyService) -> None:
    bob = member("bob")
    for line in ("/daily set general 09:00 Europe/Berlin", "/daily off general", "/daily now general"):
        reply = await cmd(service, line, bob)
        assert reply.is_error
        assert reply.title.startswith("Only admins can")
    assert (await cmd(service, "/daily status", bob)).title == "No daily question is set up here yet."
    # Anyone may look.
    await cmd(service, "/daily set general 09:00 Europe/Berlin")
    assert "09:00 Europe/Berlin" in (await cmd(service, "/daily status", bob)).plain_text()


async def test_set_accepts_lenient_spelling_and_status_shows_next_post_in_channel_time(
    service: StudyService, clock: FakeClock
) -> None:
    reply = await cmd(service, "/daily set #general 7:05 america/new_york ml mon,wed fri")
    assert not reply.is_error, reply.title
    assert reply.title == "Daily question set for #general."
    text = reply.plain_text()
    assert "Mon, Wed, Fri at 07:05 America/New_York · deck ml-interview-questions" in text
    # It is Wed 4 Mar 12:00 UTC = 07:00 EST: 07:05 today is still ahead.
    assert "Next question: Wed 04 Mar 07:05 EST" in text
    status = (await cmd(service, "/daily status general")).plain_text()
    assert "Next question: Wed 04 Mar 07:05 EST" in status
    clock.set(datetime(2026, 3, 4, 12, 10, tzinfo=UTC))  # past 07:05 EST, and Thursday is not a post day
    assert "Next question: Fri 06 Mar 07:05 EST" in (await cmd(service, "/daily status")).plain_text()


def test_weekday_lists() -> None:
    def days(text: str) -> list[int]:
        mask = parse_weekdays(text)
        assert mask is not None, text
        return [d for d in range(7) if mask & (1 << d)]

    assert days("mon,wed,fri") == [0, 2, 4]
    assert days("mon-fri") == days("Mon - Fri") == days("weekdays") == [0, 1, 2, 3, 4]
    assert days("fri-mon") == [0, 4, 5, 6]
    assert days("daily") == days("") == list(range(7))
    assert days("Saturday sunday") == [5, 6]
    assert parse_weekdays("someday") is None
    assert parse_weekdays("mon-xyz") is None


async def test_chat_command_uses_the_current_channel(service: StudyService) -> None:
    here = member("ada", admin=True)
    here = type(here)(**{**here.__dict__, "channel_ref": "C0123456789"})
    reply = await cmd(service, "/daily set 09:00 Europe/Berlin weekdays", here)
    assert reply.title == "Daily question set for <#C0123456789>."
    assert (
        "Mon–Fri at 09:00 Europe/Berlin · all decks"
        in (await cmd(service, "/daily status", here)).plain_text()
    )
    assert (await cmd(service, "/daily off", here)).title == "The daily question is off in <#C0123456789>."


# -- the post and its button -------------------------------------------------------------------------


async def test_post_is_public_with_a_reveal_that_is_private_and_counts_as_practice(
    service: StudyService, clock: FakeClock
) -> None:
    poster = RecordingPoster()
    runner = make_runner(service, poster)
    await runner.start()
    try:
        await cmd(service, "/daily set general 09:00 Europe/Berlin")
        reply = await cmd(service, "/daily now general")
        assert reply.title == "Posted today's question in #general."
    finally:
        await runner.stop()
    (post,) = poster.posts
    assert post.channel_ref == "general" and post.workspace_ref == "guild-1"
    assert post.message.title == "Question of the day"
    assert not post.message.private
    assert post.thread_name == "Question of the day · Wed 04 Mar 2026"
    assert "Yesterday" not in post.message.plain_text()  # the first day has no result line
    (reveal,) = post.message.actions
    assert reveal.label == "Reveal answer"

    alice = member("alice")
    answer = await service.act(alice, reveal.id)
    assert isinstance(answer, Message) and answer.private
    assert "Model answer" in answer.plain_text()
    good = next(a for a in answer.actions if a.id.endswith(":good"))
    graded = await service.act(alice, good.id)
    assert isinstance(graded, Message) and graded.title.startswith("Good")
    stats = await service.stats(alice)
    assert "1 learned" in stats.plain_text()
    # Clicking again does not grade twice.
    again = await service.act(alice, reveal.id)
    assert isinstance(again, Message) and again.is_error and "already graded" in again.title
    # Another workspace cannot use the button.
    stranger = member("eve", workspace="guild-2")
    assert (await service.act(stranger, reveal.id)).title == "That question of the day no longer exists."


async def test_daily_now_twice_says_it_was_already_posted(service: StudyService) -> None:
    poster = RecordingPoster()
    runner = make_runner(service, poster)
    await runner.start()
    try:
        await cmd(service, "/daily set general 09:00 UTC")
        assert (await cmd(service, "/daily now general")).title == "Posted today's question in #general."
        second = await cmd(service, "/daily now general")
    finally:
        await runner.stop()
    assert second.title == "Today's question was already posted in #general (Wed 04 Mar 12:00 UTC)."
    assert len(poster.posts) == 1


async def test_yesterdays_result_counts_each_member_once_with_their_grade(
    service: StudyService, clock: FakeClock
) -> None:
    poster = RecordingPoster()
    runner = make_runner(service, poster)
    clock.set(datetime(2026, 3, 4, 8, 0, tzinfo=UTC))
    await cmd(service, "/daily set general 09:00 UTC")
    clock.set(datetime(2026, 3, 4, 9, 0, tzinfo=UTC))
    await runner.sweep()
    (first,) = poster.posts
    daily_id = first.message.actions[0].id

    async def grade(name: str, grade: str) -> str:
        revealed = await service.act(member(name), daily_id)
        assert isinstance(revealed, Message)
        button = next(a for a in revealed.actions if a.id.endswith(f":{grade}"))
        await service.act(member(name), button.id)
        return button.id

    alice_good = await grade("alice", "good")
    await grade("bob", "again")
    await grade("carol", "good")
    await grade("dan", "easy")
    # Alice clicks again, and tries another grade: both refused, she counts once, as Good.
    assert (await service.act(member("alice"), daily_id)).is_error  # type: ignore[union-attr]
    assert (await service.act(member("alice"), alice_good.replace(":good", ":easy"))).is_error  # type: ignore[union-attr]
    await service.act(member("erin"), daily_id)  # revealed but never graded: not an answer
    # Frank studies the same card through /quiz: practice, but not an answer to the daily post.
    frank = member("frank")
    for _ in range(20):
        question = await service.quiz(frank)
        if question.sections[0].text == first.message.sections[-1].text:
            break
        await service.act(frank, question.actions[2].id)  # skip
    reveal = await service.act(frank, question.actions[0].id)
    assert isinstance(reveal, Message)
    await service.act(frank, next(a.id for a in reveal.actions if a.id.endswith(":hard")))

    clock.set(datetime(2026, 3, 5, 9, 0, tzinfo=UTC))
    await runner.sweep()
    second = poster.posts[1].message
    assert second.sections[0].text == "Yesterday: 4 answered — Again 1 · Hard 0 · Good 2 · Easy 1"
    # Nobody answered the second; a weekday gap names the day.
    clock.set(datetime(2026, 3, 7, 9, 0, tzinfo=UTC))
    await runner.sweep()
    third = poster.posts[2].message
    assert third.sections[0].text == "Last time (Thu 05 Mar): nobody answered — be the first today!"


async def test_each_channel_walks_its_deck_without_repeats_and_keeps_its_order_across_restarts(
    service: StudyService, clock: FakeClock, db_url: str
) -> None:
    from bot.bootstrap import build_service
    from tests.conftest import CONTENT

    clock.set(datetime(2026, 3, 1, 8, 0, tzinfo=UTC))
    await cmd(service, "/daily set general 09:00 UTC")
    questions: list[str] = []
    restarted: StudyService | None = None
    current = service
    for day in range(20):
        clock.set(datetime(2026, 3, 1 + day, 9, 0, tzinfo=UTC))
        if day == 7:  # a restart: a fresh process over the same database
            restarted = await build_service(db_url, [CONTENT], clock=clock)
            current = restarted
        poster = RecordingPoster()
        await make_runner(current, poster).sweep()
        (post,) = poster.posts
        questions.append(post.message.sections[-1].text)
    if restarted is not None:
        await restarted.store.close()  # type: ignore[attr-defined]
    first_pass, second_pass = questions[:15], questions[15:]
    assert len(set(first_pass)) == 15  # the whole deck before any repeat
    assert second_pass[0] != first_pass[-1]
    assert len(set(second_pass)) == len(second_pass)
    assert first_pass != sorted(first_pass)  # shuffled, not in deck order


def test_shuffle_is_deterministic_per_seed_and_pass() -> None:
    ids = list(range(1, 16))
    assert shuffled(ids, "seed", 0) == shuffled(list(reversed(ids)), "seed", 0)
    assert shuffled(ids, "seed", 0) != shuffled(ids, "seed", 1)
    order = shuffled(ids, "s", 0)
    assert pick_card(ids, set(order[:3]), "s", 0, order[2]) == (order[3], 0)
    nxt = pick_card(ids, set(ids), "s", 0, shuffled(ids, "s", 1)[0])
    assert nxt is not None and nxt[1] == 1 and nxt[0] != shuffled(ids, "s", 1)[0]


# -- the terminal runs the whole path ----------------------------------------------------------------


async def test_terminal_posts_the_question_and_its_reveal_button_works(service: StudyService) -> None:
    out = io.StringIO()
    bot = ConsoleBot(service, "you", out=out)
    runner = DailyRunner(service, {"console": ConsolePoster(bot.show_post, out=out)}, Settings())
    await runner.start()

    async def no_input() -> str | None:
        return None

    try:
        await bot.handle("/daily set general 09:00 Europe/Berlin", no_input)
        await bot.handle("/daily now general", no_input)
        await bot.handle("1", no_input)  # the post's Reveal answer button
    finally:
        await runner.stop()
    text = out.getvalue()
    assert "Daily question set for #general." in text
    assert "── #general ──\nQuestion of the day" in text
    assert "(thread opened: Question of the day · Wed 04 Mar 2026)" in text
    assert "Posted today's question in #general." in text
    assert "Model answer:" in text
    assert "[3] Good ·" in text

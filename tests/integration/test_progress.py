"""Streaks in local time, leaderboard periods and own rank, teams, and workspaces kept apart."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.messages import Message
from bot.core.model.models import Caller
from bot.core.service import StudyService
from tests.conftest import FakeClock, member

TOKYO = ZoneInfo("Asia/Tokyo")
BERLIN = ZoneInfo("Europe/Berlin")


async def study_one(service: StudyService, who: Caller, grade: str = "good") -> Message:
    msg = await service.quiz(who)
    ask = int(msg.actions[0].id.split(":")[1])
    reply = await service.act(who, f"grade:{ask}:{grade}")
    assert isinstance(reply, Message) and not reply.is_error, reply.title
    return reply


def streak_of(stats: Message) -> str:
    return next(s.text for s in stats.sections if s.heading == "Streak")


async def test_streak_grows_across_a_local_midnight_and_resets_after_a_missed_day(
    service: StudyService, clock: FakeClock
) -> None:
    kenji = member("kenji", tz="Asia/Tokyo")
    # 23:30 and 00:30 in Tokyo are both 4 March in UTC: only local days make this a 2-day streak.
    clock.set(datetime(2026, 3, 4, 23, 30, tzinfo=TOKYO))
    await study_one(service, kenji)
    first = await service.stats(kenji)
    assert streak_of(first).startswith("🔥 1 day ")
    recall = next(s.text for s in first.sections if s.heading == "Recall by self-grade")
    assert recall == "100% recalled over 1 review (Again 0, Hard 0, Good 1, Easy 0)"
    clock.set(datetime(2026, 3, 5, 0, 30, tzinfo=TOKYO))
    reply = await study_one(service, kenji)
    assert "2-day streak" in reply.sections[0].text
    # A second card the same day does not grow it.
    clock.set(datetime(2026, 3, 5, 22, 0, tzinfo=TOKYO))
    await study_one(service, kenji)
    assert streak_of(await service.stats(kenji)).startswith("🔥 2 days (best 2)")
    # The next local day it still stands, with a nudge to keep it.
    clock.set(datetime(2026, 3, 6, 21, 0, tzinfo=TOKYO))
    assert streak_of(await service.stats(kenji)) == "🔥 2 days (best 2) — study today to keep it"
    # 7 March missed entirely: on the 8th it has reset, and studying starts again at 1.
    clock.set(datetime(2026, 3, 8, 9, 0, tzinfo=TOKYO))
    assert streak_of(await service.stats(kenji)).startswith("🔥 0 days (best 2)")
    reply = await study_one(service, kenji)
    assert "1-day streak" in reply.sections[0].text


async def test_streak_counts_local_days_across_a_dst_change(service: StudyService, clock: FakeClock) -> None:
    anna = member("anna", tz="Europe/Berlin")
    # Berlin springs forward on 29 March 2026: that local day has 23 hours.
    for day in (28, 29, 30):
        clock.set(datetime(2026, 3, day, 23, 50, tzinfo=BERLIN))
        await study_one(service, anna)
    assert streak_of(await service.stats(anna)).startswith("🔥 3 days")


async def test_week_board_starts_on_monday(service: StudyService, clock: FakeClock) -> None:
    alice, bob = member("alice"), member("bob")
    clock.set(datetime(2026, 3, 8, 23, 0, tzinfo=ZoneInfo("UTC")))  # Sunday
    await study_one(service, alice)
    await study_one(service, alice)
    clock.set(datetime(2026, 3, 9, 0, 30, tzinfo=ZoneInfo("UTC")))  # Monday: a new week
    await study_one(service, bob)
    week = (await service.leaderboard(alice, "week")).sections[0].text
    assert week.splitlines()[0] == "1. bob — 10 pts · 🔥 1"
    assert "alice" not in week.splitlines()[0]
    assert "no points in this period yet" in week
    month = (await service.leaderboard(alice, "month")).sections[0].text
    assert month.splitlines()[0].startswith("1. alice (you) — 20 pts")
    all_time = (await service.leaderboard(bob, "all")).sections[0].text
    assert all_time.splitlines()[:2] == ["1. alice — 20 pts · 🔥 1", "2. bob (you) — 10 pts · 🔥 1"]


async def test_own_rank_is_shown_outside_the_top_ten(service: StudyService) -> None:
    players = [member(f"p{i:02d}") for i in range(12)]
    for i, who in enumerate(players):
        for _ in range(13 - i):  # p00 studies most; p11 least, ranked 12th
            await study_one(service, who)
    board = (await service.leaderboard(players[11], "week")).sections[0].text.splitlines()
    assert len(board) == 12
    assert board[0].startswith("1. p00 — 130 pts")
    assert board[9].startswith("10. p09 — 40 pts")
    assert board[10] == "…"
    assert board[11].startswith("12. p11 (you) — 20 pts")
    # Someone in the top 10 sees no extra line.
    top = (await service.leaderboard(players[0], "week")).sections[0].text.splitlines()
    assert len(top) == 10 and top[0].startswith("1. p00 (you)")


async def test_bad_period_lists_the_valid_ones(service: StudyService) -> None:
    reply = await service.leaderboard(member("alice"), "year")
    assert reply.is_error and "year" in reply.title
    assert "week, month, all" in reply.sections[0].text


async def test_team_standings_rank_by_points_per_active_member(service: StudyService) -> None:
    ann, ben, cat, dan = (member(n) for n in ("ann", "ben", "cat", "dan"))
    for who, team in ((ann, "Owls"), (ben, "owls"), (cat, "Foxes"), (dan, "Foxes")):
        await service.team_join(who, team)
    # Owls: ann 3 cards, ben 1 → 40 pts over 2 active = 20. Foxes: cat 3 cards, dan none → 30 over 1 = 30.
    for _ in range(3):
        await study_one(service, ann)
        await study_one(service, cat)
    await study_one(service, ben)
    board = await service.leaderboard(ann, "week")
    teams = next(s for s in board.sections if s.heading == "Teams").text.splitlines()
    assert teams == [
        "1. Foxes — 30 pts per active member (30 pts, 1 active)",
        "2. Owls — 20 pts per active member (40 pts, 2 active)",
    ]
    left = await service.team_leave(cat)
    assert left.title == "You left team Foxes."
    again = await service.team_leave(cat)
    assert again.is_error and "not in a team" in again.title


async def test_team_names_are_checked(service: StudyService) -> None:
    assert (await service.team_join(member("a"), "")).is_error
    assert "40 characters" in (await service.team_join(member("a"), "x" * 41)).title
    assert (await service.team_join(member("a"), "@everyone")).is_error


async def test_two_workspaces_see_nothing_of_each_other(service: StudyService) -> None:
    sam_a = member("sam", workspace="A")
    sam_b = member("sam", workspace="B")
    zoe_b = member("zoe", workspace="B")
    ask = int((await service.quiz(sam_a)).actions[0].id.split(":")[1])
    await service.act(sam_a, f"grade:{ask}:good")
    await service.team_join(sam_a, "Owls")
    # The same user id in another workspace starts fresh.
    stats_b = await service.stats(sam_b)
    assert next(s.text for s in stats_b.sections if s.heading == "Cards").startswith("0 learned")
    assert not any(s.heading == "Team" for s in stats_b.sections)
    board_b = await service.leaderboard(zoe_b, "all")
    assert board_b.sections[0].text.startswith("Nobody has studied")
    assert all(s.heading != "Teams" for s in board_b.sections)
    # An ask from workspace A cannot be touched from workspace B, even by the same user id.
    other = await service.act(sam_b, f"reveal:{ask}")
    assert isinstance(other, Message) and other.is_error


async def test_caught_up_says_when_to_come_back(service: StudyService, clock: FakeClock) -> None:
    alice = member("alice")
    for _ in range(30):  # the 15 questions, then their 15 follow-ups
        await study_one(service, alice, "easy")
    msg = await service.quiz(alice)
    assert msg.title == "You're all caught up! 🎉"
    assert "due in" in msg.sections[0].text or "tomorrow" in msg.sections[0].text


async def test_quiz_by_deck_name_and_unknown_deck(service: StudyService) -> None:
    ok = await service.quiz(member("alice"), "ml")
    assert ok.title.startswith("New card · ml-interview-questions #1")
    bad = await service.quiz(member("alice"), "chemistry")
    assert bad.is_error and "chemistry" in bad.title and "ml-interview-questions" in bad.sections[0].text

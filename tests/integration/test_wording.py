"""How counts and averages read in replies: '1 follow-up', '2 follow-ups', '75 pts', '7.5 pts'."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bot.core.decks.loader import load_decks
from bot.core.model.models import DeckProgress, Period, TeamRow
from bot.core.service import StudyService
from bot.core.texts.decks import decks
from bot.core.texts.progress import leaderboard
from bot.core.texts.words import number, plural
from tests.conftest import member


def test_plural_and_number() -> None:
    assert [plural(n, "question") for n in (0, 1, 2)] == ["0 questions", "1 question", "2 questions"]
    assert plural(1, "follow-up") == "1 follow-up"
    assert plural(3, "day") == "3 days"
    assert [number(x) for x in (75.0, 7.5, 0.0, 2 / 3)] == ["75", "7.5", "0", "0.7"]


async def test_a_deck_of_one_question_says_so(service: StudyService, tmp_path: Path) -> None:
    deck_file = tmp_path / "tiny.md"
    deck_file.write_text(
        "# Tiny\n\n### **1. Why?**\n\n**Theory:**\nBecause.\n\n"
        "**Follow-up Question:**\n*And then?*\n\n**Answer:**\nThen.\n\n---\n",
        encoding="utf-8",
    )
    loaded, problems = load_decks([deck_file])
    assert not problems
    await service.load_decks(loaded)
    shown = await service.decks(member("ann"))
    (tiny,) = [s for s in shown.sections if s.heading == "Tiny"]
    assert tiny.text.startswith("1 question + 1 follow-up · ")


def test_deck_counts_agree_with_their_numbers() -> None:
    shown = decks([DeckProgress("d", "D", main_cards=2, followup_cards=0, learned=0, due=0)], [])
    assert shown.sections[0].text.startswith("2 questions + 0 follow-ups · ")


def test_team_averages_show_whole_numbers_without_a_decimal() -> None:
    teams = [TeamRow(1, 1, "Owls", 150, 2), TeamRow(2, 2, "Cats", 15, 2)]
    board = leaderboard(Period.WEEK, [], None, 1, teams, date(2026, 3, 4))
    (section,) = [s for s in board.sections if s.heading == "Teams"]
    assert section.text.splitlines() == [
        "1. Owls — 75 pts per active member (150 pts, 2 active)",
        "2. Cats — 7.5 pts per active member (15 pts, 2 active)",
    ]

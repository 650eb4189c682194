"""Decks as the core serves them: reloading keeps progress, removed cards retire, broken decks are reported
and skipped. (`studybot decks check` and the database's own limits: tests/test_deck_loading.py.)"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bot.core.decks.loader import load_decks
from bot.core.messages import Message
from bot.core.service import StudyService
from tests.support.callers import member
from tests.support.clock import FakeClock
from tests.support.decks import GOOD
from tests.support.retired import removed_question_is_not_posted
from tests.unit.conftest import build_core

ALICE = member("alice")
ADMIN = member("admin", admin=True)


async def study(service: StudyService, grade: str = "good") -> Message:
    question = await service.quiz(ALICE)
    ask = int(question.actions[0].id.split(":")[1])
    await service.act(ALICE, f"grade:{ask}:{grade}")
    return question


async def test_editing_a_question_keeps_everyones_progress(tmp_path: Path, clock: FakeClock) -> None:
    deck = tmp_path / "chem.md"
    deck.write_text(GOOD, encoding="utf-8")
    service = await build_core(clock, [tmp_path])
    await study(service)

    deck.write_text(GOOD.replace("What is an atom?", "What is an atom, in one sentence?"), encoding="utf-8")
    decks, problems = load_decks([tmp_path])
    assert not problems
    await service.load_decks(decks)

    progress = (await service.decks(ALICE)).sections[0].text
    assert "you've learned 1" in progress
    clock.advance(days=30)
    review = await service.quiz(ALICE)
    assert review.title.startswith("Review · chem #1")
    assert "in one sentence" in review.sections[0].text


async def test_a_removed_question_is_no_longer_asked_and_comes_back_with_its_progress(
    tmp_path: Path, clock: FakeClock
) -> None:
    deck = tmp_path / "chem.md"
    deck.write_text(GOOD, encoding="utf-8")
    service = await build_core(clock, [tmp_path])
    first = await study(service)
    assert "What is an atom?" in first.plain_text()
    only_two = GOOD[: GOOD.index("### **1.")] + GOOD[GOOD.index("### **2.") :]
    deck.write_text(only_two, encoding="utf-8")
    await service.library.reload()
    assert "1 question" in (await service.decks(ALICE)).plain_text()
    clock.advance(days=30)  # question 1 would be due now, were it still in the deck
    question = await service.quiz(ALICE)
    assert question.title.startswith("New card") and "What is a molecule?" in question.plain_text()
    assert "you've learned 0" in (await service.decks(ALICE)).sections[0].text

    deck.write_text(GOOD, encoding="utf-8")
    await service.library.reload()
    assert "you've learned 1" in (await service.decks(ALICE)).sections[0].text
    review = await service.quiz(ALICE)
    assert review.title.startswith("Review · chem #1")


async def test_a_removed_deck_is_no_longer_served(tmp_path: Path, clock: FakeClock) -> None:
    (tmp_path / "chem.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "more.md").write_text(
        GOOD.replace("# Chemistry basics", "# More chemistry"), encoding="utf-8"
    )
    service = await build_core(clock, [tmp_path])
    assert not (await service.quiz(ALICE, "more")).is_error
    (tmp_path / "more.md").unlink()
    await service.library.reload()
    assert (await service.quiz(ALICE, "more")).is_error
    assert "More chemistry" not in (await service.decks(ALICE)).plain_text()


async def test_a_malformed_deck_is_reported_and_the_valid_ones_still_served(
    tmp_path: Path, clock: FakeClock
) -> None:
    (tmp_path / "chem.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "broken.md").write_text(GOOD.replace("**Theory:**\nAtoms", "Atoms"), encoding="utf-8")
    service = await build_core(clock, [tmp_path])
    decks = await service.decks(ADMIN)
    assert "Chemistry basics" in decks.plain_text()
    refusal = decks.sections[-1].plain_text()  # shown literally: **Theory:** is the marker to write
    assert f"{tmp_path / 'broken.md'}:16: question 2 has no **Theory:** section" in refusal
    quiz = await service.quiz(ALICE, "chem")
    assert isinstance(quiz, Message) and not quiz.is_error
    assert (await service.quiz(ALICE, "broken")).is_error


async def test_a_deck_the_store_refuses_is_reported_and_the_others_served(
    tmp_path: Path, clock: FakeClock
) -> None:
    (tmp_path / "chem.md").write_text(GOOD, encoding="utf-8")
    service = await build_core(clock, [tmp_path])
    decks, problems = load_decks([tmp_path])
    chem = decks[0]
    huge = replace(
        chem,
        id="huge",
        source=str(tmp_path / "huge.md"),
        cards=tuple(replace(c, number=2**63) for c in chem.cards),
    )
    report = await service.load_decks([huge, chem], problems)
    assert [d.id for d in report.served] == ["chem"]
    text = (await service.decks(ADMIN)).plain_text()
    assert f"{tmp_path / 'huge.md'}:1: the database refused this deck" in text
    assert "Chemistry basics" in text
    quiz = await service.quiz(ALICE, "chem")
    assert not quiz.is_error and "What is an atom?" in quiz.plain_text()
    assert (await service.quiz(ALICE, "huge")).is_error


async def test_a_deck_at_every_limit_loads(tmp_path: Path, clock: FakeClock) -> None:
    text = (
        GOOD.replace("# Chemistry basics", "# " + "T" * 300)
        .replace("### **1. What is an atom?**", f"### **{2**31 - 1}. What is an atom?** {{#{'a' * 111}}}")
        .replace("### **2. What", "### **2147483646. What")
    )
    (tmp_path / ("d" * 100 + ".md")).write_text(text, encoding="utf-8")
    service = await build_core(clock, [tmp_path])
    assert service.deck_problems == ()
    assert await service.store.deck_ids() == ["d" * 100]
    quiz = await service.quiz(ALICE)
    assert not quiz.is_error and "What is an atom?" in quiz.plain_text()


async def test_a_removed_question_is_not_the_next_question_of_the_day(tmp_path: Path) -> None:
    async def in_memory(folders: list[Path], clock: FakeClock) -> StudyService:
        return await build_core(clock, folders)

    await removed_question_is_not_posted(tmp_path, in_memory)

"""Decks as the bot serves them: reloading keeps progress, broken decks are reported and skipped."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bot.bootstrap import build_service
from bot.core.decks.loader import load_decks
from bot.core.messages import Message
from tests.conftest import REPO, FakeClock, member
from tests.support.decks import GOOD

BUNDLED = REPO / "content" / "ml-interview-questions.md"


async def test_editing_a_question_keeps_everyones_progress(tmp_path: Path, clock: FakeClock) -> None:
    deck = tmp_path / "chem.md"
    deck.write_text(GOOD, encoding="utf-8")
    service = await build_service(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}", [tmp_path], clock=clock)
    try:
        alice = member("alice")
        ask = int((await service.quiz(alice)).actions[0].id.split(":")[1])
        await service.act(alice, f"grade:{ask}:good")

        deck.write_text(
            GOOD.replace("What is an atom?", "What is an atom, in one sentence?"), encoding="utf-8"
        )
        decks, problems = load_decks([tmp_path])
        assert not problems
        await service.load_decks(decks)

        progress = (await service.decks(alice)).sections[0].text
        assert "you've learned 1" in progress
        clock.advance(days=30)
        review = await service.quiz(alice)
        assert review.title.startswith("Review · chem #1")
        assert "in one sentence" in review.sections[0].text
    finally:
        await service.store.close()  # type: ignore[attr-defined]


async def test_a_malformed_deck_is_reported_and_the_valid_ones_still_served(tmp_path: Path) -> None:
    (tmp_path / "chem.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "broken.md").write_text(GOOD.replace("**Theory:**\nAtoms", "Atoms"), encoding="utf-8")
    service = await build_service(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}", [tmp_path])
    try:
        decks = await service.decks(member("admin", admin=True))
        text = decks.plain_text()
        assert "Chemistry basics" in text
        refusal = decks.sections[-1].plain_text()  # shown literally: **Theory:** is the marker to write
        assert f"{tmp_path / 'broken.md'}:16: question 2 has no **Theory:** section" in refusal
        quiz = await service.quiz(member("alice"), "chem")
        assert isinstance(quiz, Message) and not quiz.is_error
        refused = await service.quiz(member("alice"), "broken")
        assert refused.is_error
    finally:
        await service.store.close()  # type: ignore[attr-defined]


def studybot(*args: str, cwd: Path | None = None, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


def test_decks_check_accepts_the_bundled_deck() -> None:
    result = studybot("decks", "check", str(BUNDLED))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "🧠 15 Comprehensive Interview Questions" in result.stdout
    assert "15 questions, 15 follow-ups" in result.stdout


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        (GOOD.replace("**Theory:**\nAtoms", "Atoms"), 16, "question 2 has no **Theory:** section"),
        (GOOD.replace("### **2. What", "### **1. What"), 16, "used twice"),
        (GOOD.replace("**Answer:**\n**Protons**, **neutrons** and **electrons**.", ""), 9, "Answer"),
        ("", 1, "empty"),
        # Accepted before, then stopped `studybot run` at the database.
        (GOOD.replace("### **1. What", f"### **{2**31}. What"), 4, "at most 2147483647"),
        (GOOD.replace("# Chemistry basics", "# " + "c" * 301), 1, "at most 300"),
    ],
)
def test_decks_check_reports_file_and_line(tmp_path: Path, content: str, line: int, message: str) -> None:
    bad = tmp_path / "bad.md"
    bad.write_text(content, encoding="utf-8")
    result = studybot("decks", "check", str(bad))
    assert result.returncode == 1
    assert f"{bad}:{line}: " in result.stdout and message in result.stdout, result.stdout


def test_decks_check_reports_invalid_utf8(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.md"
    bad.write_bytes(GOOD.replace("element", "él\xe9ment").encode("latin-1"))
    result = studybot("decks", "check", str(bad))
    assert result.returncode == 1
    assert f"{bad}:7: " in result.stdout and "UTF-8" in result.stdout, result.stdout


async def test_a_deck_the_database_refuses_is_reported_and_the_others_served(
    db_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    """The parser keeps decks within the tables' limits; should one still fail at the database (a limit
    the parser does not know yet), it is left out and reported, and the other decks are served."""
    (tmp_path / "chem.md").write_text(GOOD, encoding="utf-8")
    service = await build_service(db_url, [tmp_path], clock=clock)
    try:
        decks, problems = load_decks([tmp_path])
        chem = decks[0]
        # Beyond SQLite's 64-bit and PostgreSQL's 32-bit INTEGER.
        huge = replace(
            chem,
            id="huge",
            source=str(tmp_path / "huge.md"),
            cards=tuple(replace(c, number=2**63) for c in chem.cards),
        )
        report = await service.load_decks([huge, chem], problems)
        assert [d.id for d in report.served] == ["chem"]
        text = (await service.decks(member("admin", admin=True))).plain_text()
        assert f"{tmp_path / 'huge.md'}:1: the database refused this deck" in text
        assert "Chemistry basics" in text
        quiz = await service.quiz(member("alice"), "chem")
        assert not quiz.is_error and "What is an atom?" in quiz.plain_text()
        assert (await service.quiz(member("alice"), "huge")).is_error
    finally:
        await service.store.close()  # type: ignore[attr-defined]


async def test_a_deck_at_every_limit_loads(db_url: str, tmp_path: Path, clock: FakeClock) -> None:
    """What the parser accepts at its limits the database stores (SQLite and PostgreSQL)."""
    text = (
        GOOD.replace("# Chemistry basics", "# " + "T" * 300)
        .replace("### **1. What is an atom?**", f"### **{2**31 - 1}. What is an atom?** {{#{'a' * 111}}}")
        .replace("### **2. What", "### **2147483646. What")
    )
    (tmp_path / ("d" * 100 + ".md")).write_text(text, encoding="utf-8")
    service = await build_service(db_url, [tmp_path], clock=clock)
    try:
        assert service.deck_problems == ()
        assert await service.store.deck_ids() == ["d" * 100]
        quiz = await service.quiz(member("alice"))
        assert not quiz.is_error and "What is an atom?" in quiz.plain_text()
    finally:
        await service.store.close()  # type: ignore[attr-defined]


async def test_a_question_taken_out_and_put_back_keeps_its_progress(
    db_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    """Reloading the same files changes nothing; a question gone from its file is retired, and put back it
    is the same card again, with the progress made on it (SQLite and PostgreSQL)."""
    deck = tmp_path / "chem.md"
    deck.write_text(GOOD, encoding="utf-8")
    service = await build_service(db_url, [tmp_path], clock=clock)
    alice = member("alice")

    async def shown() -> str:
        return (await service.decks(alice)).sections[0].text

    try:
        ask = int((await service.quiz(alice)).actions[0].id.split(":")[1])
        await service.act(alice, f"grade:{ask}:good")  # question 1, the atom
        await service.library.reload()
        assert "2 questions + 1 follow-up · you've learned 1" in await shown()

        deck.write_text(GOOD.split("### **2.")[0], encoding="utf-8")
        await service.library.reload()
        assert "1 question + 1 follow-up · you've learned 1" in await shown()

        deck.write_text(GOOD.replace("What is an atom?", "What is an atom, briefly?"), encoding="utf-8")
        await service.library.reload()
        assert "2 questions + 1 follow-up · you've learned 1" in await shown()
        clock.advance(days=30)
        review = await service.quiz(alice)
        assert review.title.startswith("Review · chem #1") and "briefly" in review.plain_text()
    finally:
        await service.store.close()  # type: ignore[attr-defined]

"""Follow-up questions stay reachable: /quiz offers them once their main card has been graded."""

from __future__ import annotations

from pathlib import Path

from bot.core.decks.loader import load_decks
from bot.core.messages import Message
from bot.core.service import StudyService
from tests.conftest import FakeClock, member

DECK = """# Two
---

### **1. First main?**

**Theory:**
One.

**Follow-up Question:**
*First follow-up?*
**Answer:**
One more.

---

### **2. Second main?**

**Theory:**
Two.

**Follow-up Question:**
*Second follow-up?*
**Answer:**
Two more.

---
"""


async def two_card_deck(service: StudyService, tmp_path: Path) -> None:
    path = tmp_path / "two.md"
    path.write_text(DECK, encoding="utf-8")
    decks, problems = load_decks([path])
    assert not problems
    await service.load_decks(decks)


async def quiz_and_grade(service: StudyService, grade: str = "good") -> Message:
    """Ask /quiz, check it is a question, grade it; never press the follow-up button."""
    alice = member("alice")
    asked = await service.quiz(alice)
    assert asked.actions and asked.actions[0].id.startswith("reveal:"), asked.title
    ask = int(asked.actions[0].id.split(":")[1])
    graded = await service.act(alice, f"grade:{ask}:{grade}")
    assert isinstance(graded, Message) and not graded.is_error
    return asked


async def test_followups_not_taken_at_grading_come_through_quiz(
    service: StudyService, tmp_path: Path, clock: FakeClock
) -> None:
    await two_card_deck(service, tmp_path)
    asked = [await quiz_and_grade(service) for _ in range(4)]
    questions = [m.sections[0].text for m in asked]
    # The main cards first; a follow-up only once its main card was graded.
    assert questions == [
        "**First main?**",
        "**Second main?**",
        "**First follow-up?**",
        "**Second follow-up?**",
    ]
    assert asked[2].title == "New card · two #1 (follow-up)"
    assert (await service.quiz(member("alice"))).title == "You're all caught up! 🎉"
    # Graded follow-ups come back for review like any card.
    clock.advance(days=400)
    due = await service.quiz(member("alice"))
    assert due.title.startswith("Review · two #")


async def test_a_followup_waits_for_its_main_card(service: StudyService, tmp_path: Path) -> None:
    await two_card_deck(service, tmp_path)
    alice = member("alice")
    first = await service.quiz(alice)
    assert first.sections[0].text == "**First main?**"
    await service.act(alice, first.actions[2].id)  # skip: not graded, so its follow-up stays locked
    second = await service.quiz(alice)
    assert second.sections[0].text == "**Second main?**"
    await service.act(alice, f"grade:{int(second.actions[0].id.split(':')[1])}:again")
    third = await service.quiz(alice)
    assert third.sections[0].text == "**Second follow-up?**"

"""Deck parsing and validation (bot/core/decks/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.decks.loader import load_decks, parse_deck
from bot.core.decks.markdown import parse_deck_text
from bot.core.model.models import CardKind, Deck, DeckProblem

SEED = Path(__file__).resolve().parents[2] / "content" / "ml-interview-questions.md"

# Markdown hard line breaks, as in the shipped deck.
BR = "  "

GOOD = f"""\
# Test deck

### **1. First question?**

**Theory:**{BR}
First answer with **alpha** and **beta**.

**Follow-up Question:**{BR}
*Why first?*{BR}
**Answer:**{BR}
Because of **gamma**.

---

### **2. Second question?**

**Theory:**{BR}
Second answer.

---
"""


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the `occurrence`-th line containing `needle` (independent of the parser)."""
    hits = [i for i, line in enumerate(text.split("\n"), start=1) if needle in line]
    return hits[occurrence - 1]


def ok(result: Deck | list[DeckProblem]) -> Deck:
    assert isinstance(result, Deck), "\n".join(map(str, result))
    return result


def problems(text: str) -> list[DeckProblem]:
    result = parse_deck_text(text, "deck.md", "deck")
    assert isinstance(result, list), "deck was accepted"
    return result


def assert_problem(found: list[DeckProblem], line: int, fragment: str) -> None:
    hits = [p for p in found if p.line == line and fragment in p.message]
    assert hits, f"no problem at line {line} containing {fragment!r}; got:\n" + "\n".join(map(str, found))


# --- the shipped deck (its own tests; every other test uses tests/fixtures/decks) ---------------------------


@pytest.fixture(scope="module")
def seed() -> Deck:
    return ok(parse_deck(SEED))


def test_seed_has_15_questions_each_with_a_followup(seed: Deck) -> None:
    assert len(seed.main_cards) == 15
    assert len(seed.followup_cards) == 15
    assert [c.key for c in seed.main_cards] == [str(n) for n in range(1, 16)]
    assert all(c.parent_key == c.key.removesuffix("/followup") for c in seed.followup_cards)
    assert seed.id == "ml-interview-questions"
    assert seed.source == str(SEED)


def test_seed_every_question_has_an_answer_and_a_followup_with_its_answer(seed: Deck) -> None:
    followups = {c.parent_key: c for c in seed.followup_cards}
    for card in seed.main_cards:
        assert card.question.strip() and card.answer.strip(), card.key
        followup = followups[card.key]
        assert followup.question.strip() and followup.answer.strip(), followup.key


def test_seed_title_is_repaired(seed: Deck) -> None:
    assert seed.title.startswith("🧠 15 Comprehensive Interview Questions")
    assert "ðŸ" not in seed.title
    assert "**" not in seed.title


def test_seed_author_block_is_credit_not_a_card(seed: Deck) -> None:
    assert "Md Shaukat Ali" in seed.credit
    assert "Author information" in seed.credit
    assert not seed.credit.startswith("---")
    assert not seed.credit.endswith("-")
    for card in seed.cards:
        assert "Author information" not in card.question
        assert "Author information" not in card.answer
        assert "Md Shaukat Ali" not in card.answer


def test_seed_card_contents(seed: Deck) -> None:
    cards = {c.key: c for c in seed.cards}
    first = cards["1"]
    assert first.question == (
        "What Is Deep Learning, and How Does It Differ from Traditional Machine Learning?"
    )
    assert first.kind is CardKind.MAIN
    assert first.line == 4
    assert first.answer.startswith("Deep learning is a subset of machine learning")
    assert first.answer.endswith("natural language understanding.")
    assert "convolutional neural networks (CNNs)" in first.key_terms

    follow = cards["1/followup"]
    assert follow.kind is CardKind.FOLLOWUP
    assert follow.question == "What are the primary challenges with training deep learning models?"
    assert follow.answer.startswith("Challenges include")
    assert follow.line == 11
    assert follow.number == 1

    assert "ReLU" in cards["5/followup"].key_terms
    assert cards["5"].key_terms == ()
    assert cards["11/followup"].key_terms == ("PCA (Principal Component Analysis)",)
    # Two-space Markdown line breaks are gone; bullet lists and blank lines are kept.
    assert all(not line.endswith(" ") for c in seed.cards for line in c.answer.split("\n"))
    assert "\n- **Classification** is used" in cards["8"].answer
    assert cards["15/followup"].answer.endswith("the choice of **K**.")


# --- malformed decks: each problem at its line ------------------------------------------------------------


def test_invalid_utf8_names_line_and_offset(tmp_path: Path) -> None:
    data = GOOD.encode().replace(b"First answer", b"First \xff answer")
    path = tmp_path / "broken.md"
    path.write_bytes(data)
    found = parse_deck(path)
    assert isinstance(found, list)
    offset = data.index(b"\xff")
    assert_problem(found, line_of(GOOD, "First answer"), "UTF-8")
    assert_problem(found, 6, f"offset {offset}")
    assert str(found[0]).startswith(f"{path}:6: ")


def test_cp1252_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin.md"
    path.write_bytes(GOOD.replace("Second answer", "Second café answer").encode("cp1252"))
    found = parse_deck(path)
    assert isinstance(found, list)
    assert_problem(found, line_of(GOOD, "Second answer"), "0xe9")


@pytest.mark.parametrize("content", [b"", b"  \n\n\t\n"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.md"
    path.write_bytes(content)
    found = parse_deck(path)
    assert found == [DeckProblem(str(path), 1, "file is empty")]


def test_missing_title_reported_at_first_line() -> None:
    text = "\nSome intro text\n" + GOOD.split("\n", 1)[1]
    found = problems(text)
    assert_problem(found, 2, "no title")


def test_title_with_only_bold_markers_is_empty() -> None:
    found = problems("# ****\n" + GOOD.split("\n", 1)[1])
    assert_problem(found, 1, "title is empty")


def test_no_questions_reported_at_title() -> None:
    found = problems("\n# Just a title\n\nSome text but no questions.\n")
    assert_problem(found, 2, "no questions")


def test_heading_without_number() -> None:
    text = GOOD.replace("### **2. Second question?**", "### **Second question?**")
    found = problems(text)
    assert_problem(found, line_of(text, "Second question?"), "has no number")


def test_duplicate_number_names_first_line() -> None:
    text = GOOD.replace("### **2. Second question?**", "### **1. Second question?**")
    found = problems(text)
    first = line_of(text, "First question?")
    assert_problem(
        found, line_of(text, "Second question?"), f"question number 1 is used twice (first at line {first})"
    )
    assert len(found) == 1  # the clashing key is the same mistake, not a second problem


def test_duplicate_explicit_id() -> None:
    text = GOOD.replace("First question?**", "First question?** {#same}").replace(
        "Second question?**", "Second question?** {#same}"
    )
    found = problems(text)
    first = line_of(text, "First question?")
    assert_problem(
        found, line_of(text, "Second question?"), f"{{#same}} is used twice (first at line {first})"
    )


def test_explicit_id_clashing_with_a_number_key() -> None:
    text = GOOD.replace("Second question?**", "Second question?** {#1}")
    found = problems(text)
    assert_problem(found, line_of(text, "Second question?"), "already the key of question 1")


def test_invalid_explicit_id() -> None:
    text = GOOD.replace("Second question?**", "Second question?** {#a/b}")
    assert_problem(problems(text), line_of(text, "Second question?"), "invalid question id {#a/b}")


def test_missing_theory_reported_at_heading() -> None:
    text = GOOD.replace("**Theory:**  \nSecond answer.", "Second answer.")
    found = problems(text)
    assert_problem(found, line_of(text, "Second question?"), "question 2 has no **Theory:** section")


def test_empty_theory_reported_at_marker() -> None:
    text = GOOD.replace("Second answer.", "")
    found = problems(text)
    assert_problem(found, line_of(text, "**Theory:**", 2), "question 2 has an empty **Theory:** section")


def test_followup_without_answer() -> None:
    text = GOOD.replace("**Answer:**  \nBecause of **gamma**.\n", "")
    found = problems(text)
    assert_problem(
        found, line_of(text, "Follow-up"), "question 1 has a **Follow-up Question:** but no **Answer:**"
    )


def test_followup_with_empty_answer() -> None:
    text = GOOD.replace("Because of **gamma**.", "")
    found = problems(text)
    answer_line = line_of(text, "**Answer:**")
    assert_problem(found, line_of(text, "Follow-up"), f"empty **Answer:** (line {answer_line})")


def test_answer_without_followup() -> None:
    text = GOOD.replace("**Follow-up Question:**  \n*Why first?*  \n", "")
    found = problems(text)
    assert_problem(found, line_of(text, "**Answer:**"), "**Answer:** but no **Follow-up Question:**")


def test_empty_followup_question() -> None:
    text = GOOD.replace("*Why first?*  \n", "")
    found = problems(text)
    assert_problem(found, line_of(text, "Follow-up"), "question 1 has an empty **Follow-up Question:**")


def test_duplicate_section() -> None:
    text = GOOD.replace("Second answer.", "Second answer.\n\n**Theory:**\nAgain.")
    found = problems(text)
    first = line_of(text, "**Theory:**", 2)
    assert_problem(
        found, line_of(text, "**Theory:**", 3), f"second **Theory:** section (first at line {first})"
    )


def test_all_problems_are_collected_in_line_order() -> None:
    text = (
        GOOD.replace("Second answer.", "")
        .replace("*Why first?*  \n", "")
        .replace("### **2. Second question?**", "### **1. Second question?**")
    )
    found = problems(text)
    assert len(found) >= 3
    assert [p.line for p in found] == sorted(p.line for p in found)
    assert_problem(found, line_of(text, "Follow-up"), "empty **Follow-up Question:**")
    assert_problem(found, line_of(text, "Second question?"), "used twice")
    assert_problem(found, line_of(text, "**Theory:**", 2), "empty **Theory:**")


def test_misleveled_question_heading() -> None:
    text = GOOD + "\n## **3. Third question?**\n\n**Theory:**\nThird.\n"
    found = problems(text)
    assert_problem(found, line_of(text, "Third question?"), "questions use ### headings")


def test_stray_text_between_questions() -> None:
    text = GOOD.replace("---\n\n### **2.", "---\n\nStray words.\n\n### **2.")
    assert_problem(problems(text), line_of(text, "Stray words."), "not part of any question")


def test_section_marker_after_last_question_is_not_credit() -> None:
    text = GOOD + "\n**Answer:**\nLost answer.\n"
    assert_problem(problems(text), line_of(text, "Lost answer.") - 1, "outside any question")


def test_unclosed_fence() -> None:
    text = GOOD.replace("Second answer.", "Second answer.\n```python\nx = 1")
    assert_problem(problems(text), line_of(text, "```python"), "never closed")


# --- structure ---------------------------------------------------------------------------------------------


def test_good_deck_cards() -> None:
    deck = ok(parse_deck_text(GOOD, "content/test.md", "test"))
    assert [(c.key, c.kind, c.line, c.parent_key) for c in deck.cards] == [
        ("1", CardKind.MAIN, 3, None),
        ("1/followup", CardKind.FOLLOWUP, 8, "1"),
        ("2", CardKind.MAIN, 15, None),
    ]
    assert deck.cards[0].key_terms == ("alpha", "beta")
    assert deck.cards[1].question == "Why first?"
    assert deck.cards[1].key_terms == ("gamma",)
    assert deck.credit == ""
    assert deck.title == "Test deck"
    assert (deck.id, deck.source) == ("test", "content/test.md")


def test_editing_wording_keeps_keys() -> None:
    before = ok(parse_deck_text(GOOD, "d.md", "d"))
    edited = GOOD.replace("First question?", "The first question, reworded?").replace("Why first?", "How so?")
    after = ok(parse_deck_text(edited, "d.md", "d"))
    assert [c.key for c in after.cards] == [c.key for c in before.cards]
    assert after.cards[0].question == "The first question, reworded?"


def test_explicit_id_is_the_key() -> None:
    text = GOOD.replace("### **1. First question?**", "### **3. What are GANs?** {#gan-basics}")
    deck = ok(parse_deck_text(text, "d.md", "d"))
    assert [c.key for c in deck.cards[:2]] == ["gan-basics", "gan-basics/followup"]
    assert deck.cards[0].number == 3
    assert deck.cards[0].question == "What are GANs?"
    assert deck.cards[1].parent_key == "gan-basics"


def test_heading_without_bold_markers() -> None:
    text = GOOD.replace("### **2. Second question?**", "### 2. Second question?")
    deck = ok(parse_deck_text(text, "d.md", "d"))
    assert deck.cards[2].question == "Second question?"


def test_fenced_code_is_never_structure() -> None:
    theory = "Second answer.\n\n```\n### 9. Not a question\n**Theory:**\nx = a**2 + b**2\n`````\nAfter."
    deck = ok(parse_deck_text(GOOD.replace("Second answer.", theory), "d.md", "d"))
    assert len(deck.cards) == 3
    assert deck.cards[2].answer.endswith("`````\nAfter.")
    assert "### 9. Not a question" in deck.cards[2].answer
    assert deck.cards[2].key_terms == ()


def test_credit_after_last_question() -> None:
    text = (
        GOOD + "\n```\n# Author information\nname = 'Someone'\n`````\n---\n# Output:\n\nSomeone\n\n------\n"
    )
    deck = ok(parse_deck_text(text, "d.md", "d"))
    assert deck.credit == "```\n# Author information\nname = 'Someone'\n`````\n---\n# Output:\n\nSomeone"
    assert "Author" not in deck.cards[-1].answer


def test_text_before_theory_belongs_to_the_question() -> None:
    text = GOOD.replace(
        "### **2. Second question?**\n", "### **2. Second question?**\n\n```\nprint(1)\n```\n"
    )
    deck = ok(parse_deck_text(text, "d.md", "d"))
    assert deck.cards[2].question == "Second question?\n\n```\nprint(1)\n```"


def test_crlf_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "windows.md"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode())
    deck = ok(parse_deck(path))
    assert [c.line for c in deck.cards] == [3, 8, 15]
    assert "\r" not in deck.cards[0].answer
    assert deck.title == "Test deck"


def test_mojibake_in_text_is_repaired_and_good_text_kept() -> None:
    text = GOOD.replace("Second answer.", "It\u00e2\u20ac\u2122s broken, but \u201cthis\u201d is fine.")
    deck = ok(parse_deck_text(text, "d.md", "d"))
    assert deck.cards[2].answer == "It\u2019s broken, but \u201cthis\u201d is fine."


# --- load_decks --------------------------------------------------------------------------------------------


def test_load_decks_keeps_good_decks_and_reports_bad_ones(tmp_path: Path) -> None:
    (tmp_path / "b-good.md").write_text(GOOD, encoding="utf-8")
    bad = GOOD.replace("Second answer.", "")
    (tmp_path / "a-bad.md").write_text(bad, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")
    decks, found = load_decks([tmp_path])
    assert [d.id for d in decks] == ["b-good"]
    assert found == [
        DeckProblem(
            str(tmp_path / "a-bad.md"),
            line_of(bad, "**Theory:**", 2),
            "question 2 has an empty **Theory:** section",
        )
    ]


def test_load_decks_files_dirs_missing_and_duplicate_ids(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (tmp_path / "x.md").write_text(GOOD, encoding="utf-8")
    (other / "x.md").write_text(GOOD, encoding="utf-8")
    decks, found = load_decks([tmp_path / "x.md", tmp_path, SEED, other, tmp_path / "nope"])
    assert [d.id for d in decks] == ["x", "ml-interview-questions"]
    assert_problem(found, 1, "deck id 'x' is already used")
    assert_problem(found, 1, "no such file")
    assert len(found) == 2

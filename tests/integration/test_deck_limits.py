"""Deck limits: every limit of the tables a deck fills is a `file:line` problem, never a database error,
and parsing any input takes time linear in its size."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.decks import limits as deck_limits
from bot.core.decks.loader import parse_deck
from bot.core.decks.markdown import parse_deck_bytes, parse_deck_text
from bot.core.model.models import Deck, DeckProblem
from bot.store import tables

GOOD = """\
# Test deck

### **1. First question?**

**Theory:**
First answer with **alpha**.

**Follow-up Question:**
*Why first?*
**Answer:**
Because of **gamma**.

---
"""
HEADING_LINE = 3


def problems_of(text: str, path: str = "deck.md", deck_id: str = "deck") -> list[DeckProblem]:
    result = parse_deck_text(text, path, deck_id)
    assert isinstance(result, list), "deck was accepted"
    return result


def assert_problem(found: list[DeckProblem], line: int, *fragments: str) -> None:
    hits = [p for p in found if p.line == line and all(f in p.message for f in fragments)]
    assert hits, f"no problem at line {line} with {fragments!r}; got:\n" + "\n".join(map(str, found))


# --- the limits are the tables' -----------------------------------------------------------------------------


def test_limits_are_the_columns_of_the_tables() -> None:
    assert deck_limits.DECK_ID_MAX == tables.decks.c.id.type.length == tables.cards.c.deck_id.type.length
    assert deck_limits.TITLE_MAX == tables.decks.c.title.type.length
    assert deck_limits.SOURCE_MAX == tables.decks.c.source.type.length
    assert deck_limits.CARD_KEY_MAX == tables.cards.c.card_key.type.length
    assert isinstance(tables.cards.c.number.type, tables.sa.Integer)
    assert deck_limits.NUMBER_MAX == 2**31 - 1  # PostgreSQL's INTEGER; SQLite's is wider


@pytest.mark.parametrize(
    ("edit", "fragments"),
    [
        (("1. First", f"{2**31}. First"), ("question number 2147483648", "at most 2147483647")),
        (("1. First", f"{2**63}. First"), ("question number 9223372036854775808", "at most 2147483647")),
        (("1. First", "1" * 5000 + ". First"), ("question number 1111", "at most 2147483647")),
        (("First question?**", "First question?** {#" + "a" * 112 + "}"), ("112 characters", "at most 111")),
    ],
)
def test_heading_beyond_the_table_limits_is_a_problem_at_its_line(
    edit: tuple[str, str], fragments: tuple[str, ...]
) -> None:
    assert_problem(problems_of(GOOD.replace(*edit)), HEADING_LINE, *fragments)


def test_longest_id_and_number_that_fit_are_accepted() -> None:
    text = GOOD.replace("1. First question?**", f"{2**31 - 1}. First question?** {{#{'a' * 111}}}")
    deck = parse_deck_text(text, "deck.md", "deck")
    assert isinstance(deck, Deck), deck
    assert deck.cards[1].key == "a" * 111 + "/followup"


def test_title_longer_than_its_column_is_a_problem() -> None:
    found = problems_of(GOOD.replace("# Test deck", "# " + "t" * 301))
    assert_problem(found, 1, "title is 301 characters", "at most 300")
    assert isinstance(parse_deck_text(GOOD.replace("# Test deck", "# " + "t" * 300), "d.md", "d"), Deck)


def test_file_name_longer_than_a_deck_id_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / ("d" * 101 + ".md")
    path.write_text(GOOD, encoding="utf-8")
    found = parse_deck(path)
    assert isinstance(found, list)
    assert_problem(found, 1, "file name", "101 characters", "at most 100")
    fits = tmp_path / ("d" * 100 + ".md")
    fits.write_text(GOOD, encoding="utf-8")
    assert isinstance(parse_deck(fits), Deck)


def test_path_longer_than_its_column_is_a_problem(tmp_path: Path) -> None:
    folder = tmp_path
    while len(str(folder)) <= 500:
        folder = folder / ("f" * 100)
    folder.mkdir(parents=True)
    path = folder / "deck.md"
    path.write_text(GOOD, encoding="utf-8")
    found = parse_deck(path)
    assert isinstance(found, list)
    assert_problem(found, 1, "path", f"{len(str(path))} characters", "at most 500")


def test_nul_character_is_a_problem_at_its_line() -> None:
    # PostgreSQL's text cannot hold it.
    assert_problem(problems_of(GOOD.replace("alpha", "al\x00pha")), 6, "NUL")


def test_file_name_that_is_not_utf8_is_a_problem(tmp_path: Path) -> None:
    name = tmp_path / ("deck-" + b"\xff".decode("utf-8", "surrogateescape") + ".md")  # as os.listdir gives it
    try:
        name.write_text(GOOD, encoding="utf-8")
    except (OSError, UnicodeEncodeError):
        pytest.skip("the file system refuses non-UTF-8 names")
    found = parse_deck(name)
    assert isinstance(found, list)
    assert_problem(found, 1, "file name", "UTF-8")


# --- sizes and line ends -----------------------------------------------------------------------------------


def test_cr_only_line_ends_are_named() -> None:
    found = problems_of(GOOD.replace("\n", "\r"))
    assert_problem(found, 1, "CR")
    assert not any("no questions" in p.message for p in found)


def test_too_long_line_is_a_problem_at_its_line() -> None:
    found = problems_of(GOOD.replace("First answer with **alpha**.", "x" * (deck_limits.LINE_MAX + 1)))
    assert_problem(found, 6, f"{deck_limits.LINE_MAX + 1} characters", f"at most {deck_limits.LINE_MAX}")


def test_too_big_file_is_refused_without_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.md"
    path.write_bytes(GOOD.encode() + b"x\n" * deck_limits.FILE_MAX)
    found = parse_deck(path)
    assert isinstance(found, list) and len(found) == 1
    assert_problem(found, 1, "too big", "at most")


# --- linear time -------------------------------------------------------------------------------------------

# Generous: the parser does about 1 MB/s on a loaded machine; the quadratic one took minutes per MB.
SECONDS_PER_MB = 20.0


def parse_within_bound(data: bytes) -> Deck | list[DeckProblem]:
    started = time.perf_counter()
    result = parse_deck_bytes(data, "deck.md", "deck")
    took = time.perf_counter() - started
    assert took < 1.0 + SECONDS_PER_MB * len(data) / 1e6, f"{len(data)} bytes took {took:.1f}s"
    return result


def lines_to_fill(prefix: str, line: str, total: int = 900_000) -> bytes:
    return (prefix + line * (total // len(line))).encode()


HEAD = "# T\n\n### 1. Q\n\n**Theory:**\n"
BODY_LINE = 9_000  # under the line limit: each line is parsed, not only refused


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(lines_to_fill(HEAD, "**a " * (BODY_LINE // 4) + "\n"), id="unclosed bold"),
        pytest.param(lines_to_fill(HEAD, "`` a " * (BODY_LINE // 5) + "\n"), id="unclosed code"),
        pytest.param(lines_to_fill(HEAD, "`" * 3000 + " a" * 3000 + "\n"), id="long backtick run"),
        pytest.param((HEAD + "\n" * 900_000 + "x\n").encode(), id="blank lines"),
        pytest.param(
            lines_to_fill("# T\n\n", "### 1. a" + " " * BODY_LINE + "b\n\n**Theory:**\nx\n"),
            id="spaces in question headings",
        ),
        pytest.param(
            lines_to_fill(HEAD + "x\n", "## a" + " " * BODY_LINE + "b\n"), id="spaces in ## headings"
        ),
        pytest.param(("# a" + " " * 900_000 + "b\n" + HEAD[4:] + "x\n").encode(), id="spaces in the title"),
        pytest.param(("# a" + " #" * 450_000 + "b\n" + HEAD[4:] + "x\n").encode(), id="hashes in the title"),
        pytest.param(("*" + "a " * 450_000 + "\n").encode(), id="italic run"),
        pytest.param(
            lines_to_fill(HEAD + "x\n\n**Follow-up Question:**\n", "*a " * 3000 + "\n"), id="italic"
        ),
        pytest.param(b"\r" * 900_000, id="carriage returns"),
        pytest.param(lines_to_fill(HEAD, "{#" * (BODY_LINE // 2) + "\n"), id="id braces"),
    ],
)
def test_pathological_input_parses_in_linear_time(data: bytes) -> None:
    result = parse_within_bound(data)
    if isinstance(result, list):
        assert all(p.path == "deck.md" and p.line >= 1 for p in result)


# --- fuzzing ------------------------------------------------------------------------------------------------

FRAGMENTS = [
    "# ",
    "## ",
    "### ",
    "### **1. Q?**",
    "**Theory:**",
    "**Follow-up Question:**",
    "**Answer:**",
    "---",
    "```",
    "~~~",
    "**",
    "*",
    "_",
    "`",
    "{#",
    "}",
    "(",
    ")",
    " ",
    "\t",
    "\n",
    "\r",
    "\r\n",
    "\x00",
    "\ufeff",
    "1. ",
    "99999999999",
    "a",
    "é",
    "ðŸ§ ",
]
deck_like = st.lists(
    st.tuples(st.sampled_from(FRAGMENTS), st.integers(min_value=1, max_value=2000)), max_size=40
).map(lambda parts: "".join(f * n for f, n in parts).encode("utf-8", "surrogatepass"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=4000), deck_like, st.text(max_size=2000).map(str.encode)))
def test_any_bytes_give_a_deck_or_file_line_problems(data: bytes) -> None:
    result = parse_within_bound(data)
    if isinstance(result, Deck):
        assert result.cards and result.title
        return
    assert result, "refused without a reason"
    lines = data.count(b"\n") + 1
    for problem in result:
        assert problem.path == "deck.md" and 1 <= problem.line <= lines, problem
        assert str(problem).startswith(f"deck.md:{problem.line}: ") and problem.message

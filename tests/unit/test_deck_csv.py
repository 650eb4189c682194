"""CSV and TSV decks: every edge case a spreadsheet export has, and any bytes in give a deck or problems."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.decks.formats.csv_format import read_csv
from bot.core.decks.formats.fields import text_key
from bot.core.decks.limits import CARDS_MAX, IMPORT_FILE_MAX
from bot.core.model.models import CardKind, Deck, DeckProblem


def _deck(data: bytes | str, path: str = "team.csv") -> Deck:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    deck = read_csv(raw, path, "team")
    assert isinstance(deck, Deck), [str(p) for p in deck]
    return deck


def _problems(data: bytes | str, path: str = "team.csv") -> list[str]:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    result = read_csv(raw, path, "team")
    assert isinstance(result, list), result
    return [str(p) for p in result]


EDGE_CASES = (
    "\ufeffQuestion,ANSWER,Follow-up Question,follow_up_answer,Id,tags\r\n"
    '"What is a comma, really?","A **separator**, as in ""a, b""",,,,punctuation\r\n'
    '"Multi-line\nquestion?","Line one\nline two with ""quotes""","And then?","**Then** this",gd-1,\r\n'
    ",,,,,\r\n"
    "Plain?,Plain answer,,,,\r\n"
)


def test_csv_with_every_edge_case() -> None:
    deck = _deck(EDGE_CASES)
    main = deck.main_cards
    assert [c.question for c in main] == ["What is a comma, really?", "Multi-line\n\nquestion?", "Plain?"]
    assert main[0].answer == 'A **separator**, as in "a, b"'
    assert main[0].key_terms == ("separator",)
    assert main[1].answer == 'Line one\nline two with "quotes"'
    assert main[1].key == "gd-1"
    (follow,) = deck.followup_cards
    assert (follow.key, follow.question, follow.answer, follow.key_terms) == (
        "gd-1/followup",
        "And then?",
        "**Then** this",
        ("Then",),
    )
    assert follow.parent_key == "gd-1" and follow.kind is CardKind.FOLLOWUP
    # Rows as a spreadsheet numbers them: the header is 1, the quoted new line stays in row 3.
    assert [c.line for c in main] == [2, 3, 5]
    assert main[0].key == text_key("What is a comma, really?")


def test_tab_and_semicolon_delimiters_are_sniffed() -> None:
    tsv = _deck("question\tanswer\nWhat, then?\tThis; that\n")
    assert (tsv.cards[0].question, tsv.cards[0].answer) == ("What, then?", "This; that")
    semi = _deck('question;answer\n"Q; one";"A, one"\nQ two;A two\n')
    assert [(c.question, c.answer) for c in semi.cards] == [("Q; one", "A, one"), ("Q two", "A two")]


def test_column_names_other_tools_use() -> None:
    deck = _deck("Front;Back;Follow-up question;FollowUp Answer\nQ?;A;F?;B\n")
    assert [(c.question, c.answer) for c in deck.cards] == [("Q?", "A"), ("F?", "B")]


def test_quizlet_tab_separated_export_without_header() -> None:
    deck = _deck('photosynthesis\tHow plants make "food" from light\nmitosis\tcell division\n', "set.txt")
    assert [(c.question, c.answer) for c in deck.cards] == [
        ("photosynthesis", 'How plants make "food" from light'),
        ("mitosis", "cell division"),
    ]
    assert _problems("cell\tunit of life\nonly one field\n") == [
        "team.csv:2: the row has 1 tab-separated fields; a header-less file has two: term, definition"
    ]


def test_question_text_is_the_identity_without_an_id() -> None:
    first = _deck("question,answer\nWhat is  X?,One\nWhat is Y?,Two\n")
    again = _deck('question,answer\nWhat is Y?,"Two, edited"\nwhat is x?,One\n')
    # Order, spacing and case do not change a card's key; an edited answer does not either.
    assert {c.key for c in first.cards} == {c.key for c in again.cards}
    assert first.cards[0].key.startswith("q-what-is-x-")


def test_problems_name_file_and_row_and_nothing_is_half_read() -> None:
    bad = (
        "question,answer,id\n"
        "Good?,Yes,\n"
        "Q,,\n"  # row 3: empty answer
        "Same?,A,dup\n"
        "Other?,B,dup\n"  # row 5: id used twice
        "Bad id?,C,-x/y\n"  # row 6
        "Good?,Again,\n"  # row 7: the same question as row 2
        "Too,many,fields,here\n"  # row 8
    )
    assert _problems(bad) == [
        "team.csv:3: the answer is empty",
        "team.csv:5: the id 'dup' is used twice (first at row 4)",
        "team.csv:6: invalid id '-x/y': use letters, digits, '-', '_' and '.' "
        "(starting with a letter or digit)",
        "team.csv:7: the same question as row 2: questions without an id are known by their text, "
        "so give one of them an id (or remove the copy)",
        "team.csv:8: the row has 4 fields but the header has 3: a field with the delimiter in it must be in "
        "double quotes",
    ]


def test_header_problems() -> None:
    assert _problems("question,anwser\nQ,A\n")[0].startswith("team.csv:1: no header row")
    assert _problems("question,answer,notes\nQ,A,n\n") == [
        "team.csv:1: unknown column 'notes' (column 3): the columns are question, answer, "
        "follow_up_question, follow_up_answer, id, tags"
    ]
    assert _problems("question,answer,follow_up_question\nQ,A,F?\n") == [
        "team.csv:2: the follow-up question has no follow-up answer"
    ]


def test_limits() -> None:
    rows = "".join(f"Q{i}?,A{i}\n" for i in range(CARDS_MAX + 1))
    assert _problems("question,answer\n" + rows) == [
        f"team.csv:1: the file has {CARDS_MAX + 1:,} rows; a deck can have at most {CARDS_MAX:,}"
    ]
    assert _problems(b"question,answer\n" + b"x" * IMPORT_FILE_MAX) == [
        "team.csv:1: file is too big: at most 5 MB"
    ]
    assert _problems(b"question,answer\nQ,\xff\n") == [
        "team.csv:2: not valid UTF-8 (byte offset 18, line 2): save as UTF-8"
    ]
    assert _problems(f"question,answer,id\nQ,A,{'x' * 200}\n") == [
        "team.csv:2: the id is 200 characters long; at most 111"
    ]


def test_structure_lines_in_a_field_stay_in_their_card() -> None:
    deck = _deck('question,answer\nQ?,"### Part\n---\n**Answer:** yes\n```\ncode"\n')
    assert deck.cards[0].answer == "#### Part\n- - -\n__Answer:__ yes\n```\ncode\n```"


def test_a_file_built_to_slow_the_delimiter_sniffer_is_read_at_once() -> None:
    started = time.monotonic()
    assert _problems(',"' * 2_000_000)[0].startswith("team.csv:1: no header row")
    assert time.monotonic() - started < 10  # csv.Sniffer is quadratic: over the whole file, hours


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600) | st.text(alphabet=',;\t"\n\r\ufeff#*-`qa ', max_size=300).map(str.encode))
def test_any_bytes_give_a_deck_or_row_problems(data: bytes) -> None:
    started = time.monotonic()
    for prefix in (b"", b"question,answer\n", b"question\tanswer\tid\n"):
        result = read_csv(prefix + data, "f.csv", "f")
        if isinstance(result, list):
            assert result and all(isinstance(p, DeckProblem) and p.line >= 1 for p in result)
        else:
            assert result.cards
    assert time.monotonic() - started < 5

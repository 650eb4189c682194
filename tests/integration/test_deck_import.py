"""Format detection and the one import entry point: each format by content and name, any bytes safe."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import genanki
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.decks.formats import (
    DeckFormat,
    ImportResult,
    deck_id_for,
    detect_format,
    export_markdown,
    import_deck,
)
from bot.core.model.models import DeckProblem

SEED = Path(__file__).resolve().parents[2] / "content" / "ml-interview-questions.md"


def _apkg(tmp_path: Path) -> bytes:
    deck = genanki.Deck(1, "D")
    deck.add_note(genanki.Note(model=genanki.BASIC_MODEL, fields=["Q", "A"]))
    out = tmp_path / "x.apkg"
    genanki.Package(deck).write_to_file(str(out), timestamp=1_700_000_000)
    return out.read_bytes()


def test_detect_by_content_then_name(tmp_path: Path) -> None:
    apkg = _apkg(tmp_path)
    assert detect_format("upload.bin", apkg) is DeckFormat.ANKI  # content wins over the name
    assert detect_format("deck.apkg", b"not a zip") is DeckFormat.ANKI  # the reader says what is wrong
    other_zip = io.BytesIO()
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("xl/workbook.xml", "<x/>")
    assert detect_format("sheet.xlsx", other_zip.getvalue()) is None
    assert detect_format("notes", b"\xef\xbb\xbf# My deck\n\n### 1. Q\n") is DeckFormat.MARKDOWN
    assert detect_format("deck.md", b"no title") is DeckFormat.MARKDOWN
    assert detect_format("upload", b"question;answer\nQ;A\n") is DeckFormat.CSV
    assert detect_format("set.txt", b"term\tdefinition\n") is DeckFormat.CSV
    assert detect_format("upload", b"just words\n") is None


def test_import_each_format(tmp_path: Path) -> None:
    markdown = import_deck("ml-interview-questions.md", SEED.read_bytes())
    assert isinstance(markdown, ImportResult) and markdown.format is DeckFormat.MARKDOWN
    assert (markdown.cards, markdown.followups) == (15, 15)
    table = import_deck("Team Notes (v2).csv", b"question,answer\nQ?,A\n")
    assert isinstance(table, ImportResult) and table.deck.id == "team-notes-v2"
    assert table.deck.title == "Team Notes (v2)"
    assert table.summary() == "Imported **Team Notes (v2)**: 1 card, 0 follow-ups."
    quizlet = import_deck("quizlet.txt", b"cell\tunit of life\n")
    assert isinstance(quizlet, ImportResult) and quizlet.deck.cards[0].question == "cell"
    anki = import_deck("x.apkg", _apkg(tmp_path))
    assert isinstance(anki, ImportResult) and anki.format is DeckFormat.ANKI


def test_an_exported_deck_imports_elsewhere_with_the_same_cards() -> None:
    table = import_deck(
        "team.csv", b'id,question,answer,follow_up_question,follow_up_answer\nk1,Q?,"**A**, b",F?,G\n,R?,S\n'
    )
    assert isinstance(table, ImportResult)
    again = import_deck("team.md", export_markdown(table.deck).encode("utf-8"))
    assert isinstance(again, ImportResult) and again.format is DeckFormat.MARKDOWN
    assert [(c.key, c.kind, c.question, c.answer, c.key_terms, c.parent_key) for c in again.deck.cards] == [
        (c.key, c.kind, c.question, c.answer, c.key_terms, c.parent_key) for c in table.deck.cards
    ]
    assert again.deck.title == table.deck.title == "team"


def test_wrong_format_is_named() -> None:
    assert import_deck("sheet.xlsx", b"PK\x03\x04junk") == [
        DeckProblem(
            "sheet.xlsx",
            1,
            "not a deck file: expected a Markdown deck (`# Title` first), a CSV or TSV with a "
            "question,answer header, a Quizlet export or an Anki .apkg (save a spreadsheet as CSV first)",
        )
    ]
    assert deck_id_for("../../Ünïcode!!.csv") == "n-code"
    assert deck_id_for("....csv") == "deck"


def test_a_markdown_deck_over_the_card_limit_is_refused() -> None:
    questions = "".join(
        f"### **{n}. Q{n}?**\n**Theory:**\nA\n**Follow-up Question:**\nF?\n**Answer:**\nB\n---\n"
        for n in range(1, 2_502)
    )
    assert [str(p) for p in import_deck("big.md", f"# Big\n{questions}".encode())] == [
        "big.md:1: the deck has 5,002 cards; at most 5,000"
    ]


_NAMES = st.sampled_from(["d.md", "d.csv", "d.tsv", "d.txt", "d.apkg", "d", "d.xlsx"])
_BYTES = st.one_of(
    st.binary(max_size=800),
    st.text(alphabet='#,;\t"\n\r -*`qa{}\ufeff', max_size=300).map(str.encode),
    st.binary(max_size=200).map(lambda b: b"PK\x03\x04" + b),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_NAMES, _BYTES)
def test_any_file_gives_a_deck_or_problems(name: str, data: bytes) -> None:
    started = time.monotonic()
    detect_format(name, data)
    result = import_deck(name, data)
    if isinstance(result, list):
        assert result and all(isinstance(p, DeckProblem) and p.line >= 1 for p in result)
    else:
        assert result.deck.cards
    assert time.monotonic() - started < 5

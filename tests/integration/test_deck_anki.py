"""Anki packages, built here with genanki: Basic notes become cards; cloze notes and media are reported."""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import genanki
import pytest

from bot.core.decks.formats import anki_format
from bot.core.decks.formats.anki_format import EXTRA_HINT, read_apkg
from bot.core.decks.formats.import_result import DeckFormat, ImportResult
from bot.core.decks.formats.markdown_export import export_markdown
from bot.core.decks.markdown import parse_deck_text
from bot.core.model.models import Deck, DeckProblem


def _package(tmp_path: Path, notes: list[genanki.Note], media: list[str] | None = None) -> bytes:
    deck = genanki.Deck(2059400110, "Biology::Cells")
    for note in notes:
        deck.add_note(note)
    package = genanki.Package(deck)
    package.media_files = media or []
    out = tmp_path / "deck.apkg"
    package.write_to_file(str(out), timestamp=1_700_000_000)  # note ids come from it: as Anki keeps them
    return out.read_bytes()


def _notes(tmp_path: Path) -> list[genanki.Note]:
    image = tmp_path / "cell.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16)
    return [
        genanki.Note(
            model=genanki.BASIC_MODEL,
            fields=[
                "What does <b>this</b> print?<br><code>print(2 ** 3)</code>",
                "<div><b>8</b>, since <code>**</code> is power:</div><ul><li>one</li><li>two</li></ul>"
                "<script>alert(1)</script><style>b{color:red}</style>",
            ],
            guid="basic-1",
        ),
        genanki.Note(model=genanki.BASIC_AND_REVERSED_CARD_MODEL, fields=["Mitosis", "Cell <i>division</i>"]),
        genanki.Note(model=genanki.CLOZE_MODEL, fields=["The {{c1::nucleus}} holds DNA", ""]),
        genanki.Note(model=genanki.BASIC_MODEL, fields=['A cell <img src="cell.png">', "Unit of life"]),
        genanki.Note(model=genanki.BASIC_MODEL, fields=["Only a picture?", '<img src="cell.png">']),
    ]


def _read(data: bytes) -> ImportResult:
    result = read_apkg(data, "deck.apkg", "bio")
    assert isinstance(result, ImportResult), [str(p) for p in result]
    return result


def test_basic_and_reversed_notes_become_cards(tmp_path: Path) -> None:
    result = _read(_package(tmp_path, _notes(tmp_path), [str(tmp_path / "cell.png")]))
    deck = result.deck
    assert result.format is DeckFormat.ANKI
    assert deck.title == "Biology"
    questions = [c.question for c in deck.cards]
    assert questions == ["What does **this** print?\n\n`print(2 ** 3)`", "Mitosis", "A cell"]
    first = deck.cards[0]
    assert first.answer == "**8**, since `**` is power:\n\n- one\n- two"
    assert "alert" not in first.answer and "color" not in first.answer
    assert first.key_terms == ("8",)
    assert deck.cards[1].answer == "Cell *division*"
    assert all(c.key.startswith("anki-") for c in deck.cards)
    assert result.skipped == (
        ("cloze notes cannot be asked as question and answer", 1),
        ("front or back has no text (only images or sounds)", 1),
    )
    assert (result.media, result.reversed_notes) == (1, 1)
    assert result.summary() == (
        "Imported **Biology**: 3 cards, 0 follow-ups.\n"
        "Skipped 1 note: cloze notes cannot be asked as question and answer.\n"
        "Skipped 1 note: front or back has no text (only images or sounds).\n"
        "Reversed notes are asked front to back only (1).\n"
        "1 media file (images, sounds) not imported: cards show text only."
    )


def test_note_ids_are_the_identity_and_export_round_trips(tmp_path: Path) -> None:
    notes = _notes(tmp_path)
    first = _read(_package(tmp_path, notes)).deck
    notes[1].fields = ["Mitosis (edited)", "Cell division"]
    again = _read(_package(tmp_path, notes)).deck
    assert [c.key for c in first.cards] == [c.key for c in again.cards]
    assert again.cards[1].question == "Mitosis (edited)"
    parsed = parse_deck_text(export_markdown(first), "bio.md", "bio")
    assert isinstance(parsed, Deck)
    assert [(c.key, c.question, c.answer, c.key_terms) for c in parsed.cards] == [
        (c.key, c.question, c.answer, c.key_terms) for c in first.cards
    ]


def _modern(tmp_path: Path, legacy_data: bytes) -> bytes:
    """The package as Anki 2.1.50+ exports it: a zstd-compressed collection.anki21b (its .anki2 a stub)."""
    from anki.collection import Collection
    from anki.import_export_pb2 import (
        ExportAnkiPackageOptions,
        ImportAnkiPackageOptions,
        ImportAnkiPackageRequest,
    )

    legacy, modern = tmp_path / "legacy.apkg", tmp_path / "modern.apkg"
    legacy.write_bytes(legacy_data)
    collection = Collection(str(tmp_path / "convert.anki2"))
    try:
        collection.import_anki_package(
            ImportAnkiPackageRequest(package_path=str(legacy), options=ImportAnkiPackageOptions())
        )
        options = ExportAnkiPackageOptions(with_media=True, legacy=False)
        collection.export_anki_package(out_path=str(modern), options=options, limit=None)
    finally:
        collection.close()
    return modern.read_bytes()


def test_current_package_version_is_read(tmp_path: Path) -> None:
    legacy = _read(_package(tmp_path, _notes(tmp_path), [str(tmp_path / "cell.png")]))
    data = _modern(tmp_path, _package(tmp_path, _notes(tmp_path), [str(tmp_path / "cell.png")]))
    assert "collection.anki21b" in zipfile.ZipFile(io.BytesIO(data)).namelist()
    modern = _read(data)
    assert modern.deck.cards == legacy.deck.cards
    assert (modern.skipped, modern.media) == (legacy.skipped, legacy.media)


def test_a_package_that_unpacks_too_big_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(anki_format, "IMPORT_UNPACKED_MAX", 1_000)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("collection.anki2", b"\0" * 2_000_000)
    assert [str(p) for p in read_apkg(bomb.getvalue(), "deck.apkg", "bio")] == [
        "deck.apkg:1: the package unpacks to 2 MB; at most 0 MB (export it from Anki without media)"
    ]


def test_broken_and_foreign_zips_are_refused(tmp_path: Path) -> None:
    data = _package(tmp_path, _notes(tmp_path)[:1])
    broken = read_apkg(data[: len(data) // 2], "deck.apkg", "bio")
    assert isinstance(broken, list) and str(broken[0]).startswith(
        "deck.apkg:1: not an Anki package: the file is not a readable zip archive"
    )
    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("word/document.xml", "<x/>")
    assert [str(p) for p in read_apkg(other.getvalue(), "deck.apkg", "bio")] == [
        "deck.apkg:1: not an Anki package: the zip archive holds no collection.anki2/anki21/anki21b"
    ]
    garbage = io.BytesIO()
    with zipfile.ZipFile(garbage, "w") as archive:
        archive.writestr("collection.anki2", b"not sqlite at all")
    result = read_apkg(garbage.getvalue(), "deck.apkg", "bio")
    assert isinstance(result, list) and str(result[0]).startswith(
        "deck.apkg:1: Anki could not read the package"
    )


def test_only_cloze_notes_give_no_deck(tmp_path: Path) -> None:
    data = _package(tmp_path, [genanki.Note(model=genanki.CLOZE_MODEL, fields=["{{c1::x}} y", ""])])
    assert read_apkg(data, "deck.apkg", "bio") == [DeckProblem("deck.apkg", 1, "the file holds no cards")]


def test_without_the_extra_the_error_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _package(tmp_path, _notes(tmp_path)[:1])
    monkeypatch.setitem(sys.modules, "anki.collection", None)
    assert read_apkg(data, "deck.apkg", "bio") == [DeckProblem("deck.apkg", 1, EXTRA_HINT)]

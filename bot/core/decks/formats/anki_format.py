"""Anki `.apkg` packages, read with Anki's own library (the optional extra `studybot[anki]`).

Anki's importer reads every package version (collection.anki2, .anki21, zstd-compressed .anki21b) into a
throw-away collection; its Basic-family notes become cards, front to question and back to answer, with
their HTML as Markdown. Other note types (cloze, image occlusion, custom ones) and media are counted and
reported. A card is known by its Anki note id, so importing a newer export of the same deck keeps progress.

Blocking (Anki's Rust backend, temporary files): an adapter runs it in a worker thread.
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

from bot.core.decks.formats.fields import DeckBuilder, RawCard, too_many_rows
from bot.core.decks.formats.import_result import DeckFormat, ImportResult
from bot.core.decks.limits import IMPORT_FILE_MAX, IMPORT_UNPACKED_MAX
from bot.core.model.models import DeckProblem

COLLECTION_NAMES = ("collection.anki21b", "collection.anki21", "collection.anki2")
EXTRA_HINT = "reading Anki packages needs the optional extra: pip install 'studybot[anki]'"
_SOUND = re.compile(r"\[sound:[^\]]*\]")
_BASIC_FIELDS = ("front", "back")
_CLOZE_TYPE = 1  # notetype "type": 0 standard, 1 cloze
_IMAGE_OCCLUSION_KIND = 5  # StockNotetype.Kind.KIND_IMAGE_OCCLUSION
_BASIC_KINDS = (1, 2, 3)  # and reversed, optional reversed, type in the answer (0 also means "unknown")


def package_problem(data: bytes, path: str) -> DeckProblem | None:
    """Why `data` cannot be an Anki package, checked before any of it is unpacked."""
    if len(data) > IMPORT_FILE_MAX:
        return DeckProblem(path, 1, f"file is too big: at most {IMPORT_FILE_MAX // 1_000_000} MB")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        return DeckProblem(path, 1, f"not an Anki package: the file is not a readable zip archive ({exc})")
    names = {info.filename for info in infos}
    if not names & set(COLLECTION_NAMES):
        return DeckProblem(
            path, 1, "not an Anki package: the zip archive holds no collection.anki2/anki21/anki21b"
        )
    unpacked = sum(info.file_size for info in infos)
    if unpacked > IMPORT_UNPACKED_MAX:
        return DeckProblem(
            path,
            1,
            f"the package unpacks to {unpacked // 1_000_000} MB; "
            f"at most {IMPORT_UNPACKED_MAX // 1_000_000} MB "
            "(export it from Anki without media)",
        )
    return None


def read_apkg(data: bytes, path: str, deck_id: str, title: str = "") -> ImportResult | list[DeckProblem]:
    """The deck in an Anki package, with what was skipped, or the problems found."""
    problem = package_problem(data, path)
    if problem is not None:
        return [problem]
    try:
        from anki.collection import Collection
        from anki.import_export_pb2 import ImportAnkiPackageOptions, ImportAnkiPackageRequest

        import bot.core.decks.formats.html_text  # noqa: F401  (markdownify comes with the same extra)
    except ImportError:
        return [DeckProblem(path, 1, EXTRA_HINT)]
    with tempfile.TemporaryDirectory(prefix="studybot-apkg-") as tmp:
        package = Path(tmp) / "import.apkg"
        package.write_bytes(data)
        collection: Collection | None = None
        try:
            collection = Collection(str(Path(tmp) / "collection.anki2"))
            request = ImportAnkiPackageRequest(package_path=str(package), options=ImportAnkiPackageOptions())
            collection.import_anki_package(request)
            notes = [_note_fields(collection, note_id) for note_id in sorted(collection.find_notes(""))]
            media = sum(1 for entry in Path(collection.media.dir()).iterdir() if entry.is_file())
            deck_names = [d.name for d in collection.decks.all_names_and_ids(skip_empty_default=True)]
        except Exception as exc:  # Anki's backend raises its own error types for a damaged package
            return [DeckProblem(path, 1, f"Anki could not read the package: {exc}")]
        finally:
            if collection is not None:
                collection.close()
    return _result(notes, media, deck_names, path, deck_id, title)


def _note_fields(collection: Any, note_id: int) -> tuple[int, dict[str, Any], list[str]]:
    note = collection.get_note(note_id)
    return int(note_id), dict(note.note_type() or {}), list(note.fields)


def _kind(notetype: dict[str, Any]) -> str | None:
    """None for a Basic-family note type; else the reason its notes are skipped."""
    stock = int(notetype.get("originalStockKind") or 0)
    name = str(notetype.get("name", ""))
    if stock == _IMAGE_OCCLUSION_KIND:
        return "image occlusion notes cannot be asked as text"
    if notetype.get("type") == _CLOZE_TYPE:
        return "cloze notes cannot be asked as question and answer"
    fields = tuple(str(f.get("name", "")).casefold() for f in notetype.get("flds", []))
    if stock in _BASIC_KINDS or fields[:2] == _BASIC_FIELDS:
        return None
    return f"note type {name[:60]!r} is not Basic (front and back)"


def _result(
    notes: list[tuple[int, dict[str, Any], list[str]]],
    media: int,
    deck_names: list[str],
    path: str,
    deck_id: str,
    title: str,
) -> ImportResult | list[DeckProblem]:
    from bot.core.decks.formats.html_text import html_to_markdown

    skipped: Counter[str] = Counter()
    reversed_notes = 0
    raws: list[RawCard] = []
    for position, (note_id, notetype, fields) in enumerate(notes, start=1):
        reason = _kind(notetype)
        if reason is None and len(fields) < 2:
            reason = "note type has fewer than two fields"
        if reason is not None:
            skipped[reason] += 1
            continue
        front, back = (html_to_markdown(_SOUND.sub("", field)) for field in fields[:2])
        if not front.strip() or not back.strip():
            skipped["front or back has no text (only images or sounds)"] += 1
            continue
        if len(notetype.get("tmpls", [])) >= 2:
            reversed_notes += 1
        raws.append(RawCard(position, front, back, identity=f"anki-{note_id}"))
    if too_many := too_many_rows(path, raws, "note"):
        return too_many
    builder = DeckBuilder(path, deck_id, what="note")
    for raw in raws:
        builder.add(raw)
    names = sorted({name.split("::")[0] for name in deck_names})
    deck = builder.build(title or (names[0] if len(names) == 1 else deck_id))
    if isinstance(deck, list):
        return deck
    return ImportResult(deck, DeckFormat.ANKI, tuple(sorted(skipped.items())), media, reversed_notes)

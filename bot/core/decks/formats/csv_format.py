"""CSV and TSV decks: a header row naming the columns, or Quizlet's header-less `term<TAB>definition`.

Problems name `file:row`, rows counted as a spreadsheet shows them (the header is row 1). A card's
identity is its `id` column when given, else its question text (fields.text_key).
"""

from __future__ import annotations

import csv
import io
import re

from bot.core.decks.formats.fields import DeckBuilder, RawCard, too_many_rows
from bot.core.decks.limits import IMPORT_FILE_MAX
from bot.core.model.models import Deck, DeckProblem

COLUMNS = ("question", "answer", "follow_up_question", "follow_up_answer", "id", "tags")
REQUIRED = ("question", "answer")
DELIMITERS = ",\t;"
# csv.Sniffer is quadratic in its sample (10 s on 16 KB of `,"`): it sees only the start, and the
# header row found with its guess is checked anyway.
SNIFF_CHARS = 1_000
_NAME_GAPS = re.compile(r"[\s\-]+")


def read_csv(data: bytes, path: str, deck_id: str, title: str = "") -> Deck | list[DeckProblem]:
    """The deck in a CSV or TSV file, or every problem found."""
    if len(data) > IMPORT_FILE_MAX:
        return [DeckProblem(path, 1, f"file is too big: at most {IMPORT_FILE_MAX // 1_000_000} MB")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return [
            DeckProblem(path, line, f"not valid UTF-8 (byte offset {exc.start}, line {line}): save as UTF-8")
        ]
    if not text.strip():
        return [DeckProblem(path, 1, "file is empty")]
    header, delimiter = _header(text)
    if header is None:
        first_line = text.split("\n", 1)[0]
        if first_line.count("\t") == 1:
            return _read_quizlet(text, path, deck_id, title)
        return [
            DeckProblem(
                path,
                1,
                "no header row: the first row must name the columns, at least `question` and `answer` "
                "(comma, tab or semicolon separated), or the file must be Quizlet's two-column "
                "term<TAB>definition export",
            )
        ]
    return _read_with_header(text, delimiter, header, path, deck_id, title)


# Names other tools give the same columns (Anki's text export, Quizlet, hand-made sheets).
ALIASES = {
    "front": "question",
    "term": "question",
    "back": "answer",
    "definition": "answer",
    "followup_question": "follow_up_question",
    "followup_answer": "follow_up_answer",
    "tag": "tags",
}


def _column_name(name: str) -> str:
    plain = _NAME_GAPS.sub("_", name.strip().removeprefix("\ufeff").strip().casefold())
    return ALIASES.get(plain, plain)


def _rows(text: str, delimiter: str, quoted: bool = True) -> list[list[str]]:
    source = io.StringIO(text, newline="")
    if quoted:
        return list(csv.reader(source, delimiter=delimiter))
    return list(csv.reader(source, delimiter=delimiter, quoting=csv.QUOTE_NONE))


def _header(text: str) -> tuple[list[str] | None, str]:
    """The header row's column names and the delimiter that gives them, or (None, "")."""
    sample = text[:SNIFF_CHARS]
    candidates = list(DELIMITERS)
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
        candidates.insert(0, sniffed)
    except csv.Error:
        # No consistent delimiter in the sample: try the one the first line has most of first.
        first_line = sample.split("\n", 1)[0]
        candidates.sort(key=lambda d: -first_line.count(d))
    first_record = sample.split("\n", 1)[0]
    for delimiter in candidates:
        try:
            rows = _rows(first_record, delimiter=delimiter)
        except csv.Error:
            continue
        names = [_column_name(name) for name in rows[0]] if rows else []
        if all(required in names for required in REQUIRED):
            return names, delimiter
    return None, ""


def _read_with_header(
    text: str, delimiter: str, header: list[str], path: str, deck_id: str, title: str
) -> Deck | list[DeckProblem]:
    problems = []
    for position, name in enumerate(header):
        if name not in COLUMNS:
            shown = name[:40] or "(empty)"
            problems.append(
                DeckProblem(
                    path,
                    1,
                    f"unknown column {shown!r} (column {position + 1}): the columns are "
                    + ", ".join(COLUMNS),
                )
            )
        elif header.index(name) != position:
            problems.append(DeckProblem(path, 1, f"column {name!r} appears twice"))
    if problems:
        return problems
    try:
        records = _rows(text, delimiter=delimiter)
    except csv.Error as exc:
        return [DeckProblem(path, 1, f"cannot read the file as CSV: {exc}")]
    body = records[1:]
    if too_many := too_many_rows(path, [r for r in body if any(f.strip() for f in r)], "row"):
        return too_many
    builder = DeckBuilder(path, deck_id)
    for row, record in enumerate(body, start=2):
        if not any(field.strip() for field in record):
            continue  # a blank row, as spreadsheets leave them
        if len(record) > len(header):
            builder.problem(
                row,
                f"the row has {len(record)} fields but the header has {len(header)}: "
                "a field with the delimiter in it must be in double quotes",
            )
            continue
        fields = dict(zip(header, record, strict=False))
        builder.add(
            RawCard(
                row,
                fields.get("question", ""),
                fields.get("answer", ""),
                fields.get("follow_up_question", ""),
                fields.get("follow_up_answer", ""),
                explicit_id=fields.get("id", ""),
            )
        )
    return builder.build(title or deck_id)


def _read_quizlet(text: str, path: str, deck_id: str, title: str) -> Deck | list[DeckProblem]:
    # Quizlet writes fields as they are, quotes included: no quoting.
    try:
        records = _rows(text, "\t", quoted=False)
    except csv.Error as exc:
        return [DeckProblem(path, 1, f"cannot read the file as TSV: {exc}")]
    if too_many := too_many_rows(path, [r for r in records if any(f.strip() for f in r)], "row"):
        return too_many
    builder = DeckBuilder(path, deck_id)
    for row, record in enumerate(records, start=1):
        if not any(field.strip() for field in record):
            continue
        if len(record) != 2:
            builder.problem(
                row,
                f"the row has {len(record)} tab-separated fields; a header-less file has two: "
                "term, definition",
            )
            continue
        builder.add(RawCard(row, record[0], record[1]))
    return builder.build(title or deck_id)

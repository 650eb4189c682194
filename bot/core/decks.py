"""Deck files: parse and validate the Markdown question decks (DESIGN.md, "Content format").

A deck is refused as a whole when anything in it is wrong, with every problem found reported as
`file:line: message`, so an author can fix a file in one pass.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import ftfy

from bot.core.deck_limits import (
    CARD_KEY_MAX,
    DECK_ID_MAX,
    FILE_MAX,
    LINE_MAX,
    NUMBER_MAX,
    SOURCE_MAX,
    TITLE_MAX,
)
from bot.core.models import Card, CardKind, Deck, DeckProblem

__all__ = [
    "FOLLOWUP_SUFFIX",
    "key_terms",
    "load_decks",
    "match_key_terms",
    "parse_deck",
    "parse_deck_bytes",
    "parse_deck_text",
]

FOLLOWUP_SUFFIX = "/followup"

# Deck files are outside input: every pattern here is anchored and has no two quantifiers that can
# match the same characters, so matching is linear in the line (a lazy `.*?` before `[ \t]*$`, or a
# search for `[ \t]+#+$`, is quadratic on a long run of spaces). Trailing blanks are stripped in code.
# CommonMark allows up to three spaces of indentation before block syntax; four make a code block.
_FENCE_OPEN = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_TITLE = re.compile(r"^ {0,3}#(?:[ \t]+(?P<text>.*))?$")
_QUESTION = re.compile(r"^ {0,3}###(?:[ \t]+(?P<text>.*))?$")
_ANY_HEADING = re.compile(r"^ {0,3}(?P<hashes>#{1,6})[ \t]+(?P<text>.*)$")
_SEPARATOR = re.compile(r"^ {0,3}-{3,}[ \t]*$")
_MARKER = re.compile(
    r"^ {0,3}\*\*[ \t]*(?P<name>theory|follow[- ]?up(?:[ \t]+question)?|answer)[ \t]*"
    r"(?::[ \t]*\*\*|\*\*[ \t]*:)(?P<rest>.*)$",
    re.IGNORECASE,
)
_EXPLICIT_ID = re.compile(r"\{#(?P<id>[^{}]*)\}$")
# No "/" in ids: follow-up keys are "<main key>/followup".
_VALID_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_NUMBERED = re.compile(r"^(?P<number>\d+)[.)][ \t]*(?P<text>.*)$")
_LOOKS_NUMBERED = re.compile(r"^\d+[.)]\s")
_TICKS = re.compile(r"`+")
_ITALIC_WRAP = re.compile(r"(?P<d>\*{1,3}|_{1,3})(?P<inner>\S(?:.*\S)?)(?P=d)", re.DOTALL)
_WHITESPACE = re.compile(r"\s+")
_WORD = re.compile(r"[^\W_]+")
# Punctuation inside a word ("F1-score", "don't", "e.g") that a typist may or may not write.
_INTRA_WORD = re.compile(r"(?<=[^\W_])['’.\-‐‑]+(?=[^\W_])")
_PARENTHESISED = re.compile(r"\((?P<inner>[^()]*)\)")

_SECTION_LABELS = {
    "theory": "**Theory:**",
    "followup": "**Follow-up Question:**",
    "answer": "**Answer:**",
}
_HEADING_HINT = "expected `### **N. Question text**`"


# --- public API -------------------------------------------------------------------------------------------


def parse_deck(path: Path) -> Deck | list[DeckProblem]:
    """Parse one deck file; the deck id is the file stem, `source` the path as given."""
    shown = _shown(path)
    try:
        with path.open("rb") as file:
            data = file.read(FILE_MAX + 1)  # never more: a huge file is refused unread
    except OSError as exc:
        return [DeckProblem(shown, 1, f"cannot read the file: {exc.strerror or exc}")]
    return parse_deck_bytes(data, shown, path.stem)


def _shown(path: Path) -> str:
    # A file name that is not UTF-8 comes as surrogates, which no terminal or database takes.
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def parse_deck_bytes(data: bytes, path: str, deck_id: str) -> Deck | list[DeckProblem]:
    """Parse a deck file's bytes; `path` names it in problems, `deck_id` is its file stem."""
    if len(data) > FILE_MAX:
        return [_too_big(path)]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        encoding_problem = DeckProblem(
            path,
            line,
            f"not valid UTF-8: byte 0x{data[exc.start]:02x} at byte offset {exc.start} "
            f"(column {column}) cannot be decoded; save the file as UTF-8",
        )
        # Keep going on a lossy decoding so the author also sees the file's other problems.
        rest = parse_deck_text(data.decode("utf-8", errors="replace"), path, deck_id)
        others = rest if isinstance(rest, list) else []
        return sorted([encoding_problem, *others], key=lambda p: p.line)
    return parse_deck_text(text, path, deck_id)


def parse_deck_text(text: str, path: str, deck_id: str) -> Deck | list[DeckProblem]:
    """Parse deck Markdown. Returns the deck, or every problem found (sorted by line) if there is any."""
    if len(text) > FILE_MAX:  # characters; bytes are checked before decoding
        return [_too_big(path)]
    return _DeckParser(text, path, deck_id).parse()


def _too_big(path: str) -> DeckProblem:
    return DeckProblem(
        path, 1, f"file is too big: a deck can be at most {FILE_MAX // 1_000_000} MB; split it into several"
    )


def load_decks(paths: Iterable[Path]) -> tuple[list[Deck], list[DeckProblem]]:
    """Load every deck under `paths` (a directory means its `*.md` files, sorted by name).

    Valid decks are returned even when other files are refused; their problems come back alongside.
    """
    decks: list[Deck] = []
    problems: list[DeckProblem] = []
    ids: dict[str, str] = {}
    seen_files: set[Path] = set()
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.glob("*.md") if p.is_file())
            if not files:
                problems.append(DeckProblem(_shown(path), 1, "directory holds no .md deck files"))
        elif path.exists():
            files = [path]
        else:
            problems.append(DeckProblem(_shown(path), 1, "no such file or directory"))
            continue
        for file in files:
            resolved = file.resolve()
            if resolved in seen_files:  # the same file named twice, e.g. as itself and via its directory
                continue
            seen_files.add(resolved)
            result = parse_deck(file)
            if isinstance(result, list):
                problems.extend(result)
            elif result.id in ids:
                # Progress is stored per deck id, so two files with one stem would share it.
                problems.append(
                    DeckProblem(_shown(file), 1, f"deck id {result.id!r} is already used by {ids[result.id]}")
                )
            else:
                ids[result.id] = _shown(file)
                decks.append(result)
    return decks, problems


def key_terms(answer: str) -> tuple[str, ...]:
    """The bold phrases (`**...**`) of an answer, stripped and de-duplicated (case-insensitively) in order.

    Code is skipped: `**` there is Python's power operator, not bold.
    """
    terms: list[str] = []
    seen: set[str] = set()
    for line in _prose_lines(answer.split("\n")):
        for bold in _bold_spans(_without_code_spans(line)):
            term = _WHITESPACE.sub(" ", bold).strip(" *_")
            folded = term.casefold()
            if _WORD.search(term) and folded not in seen:
                seen.add(folded)
                terms.append(term)
    return tuple(terms)


def _bold_spans(line: str) -> Iterable[str]:
    """The texts of `**text**` (not starting or ending with a space), left to right, in one pass.

    An opening `**` without a closing one ends the search: no later `**` could be closed either."""
    start = line.find("**")
    while start != -1:
        inner = start + 2
        if inner < len(line) and not line[inner].isspace():
            close = line.find("**", inner + 1)
            while close != -1 and line[close - 1].isspace():
                close = line.find("**", close + 1)
            if close == -1:
                return
            yield line[inner:close]
            start = line.find("**", close + 2)
        else:
            start = line.find("**", start + 1)


def _without_code_spans(line: str) -> str:
    """The line with each code span (CommonMark: a backtick run closed by the next run of the same length)
    replaced by a space, in one pass."""
    runs = list(_TICKS.finditer(line))
    following: list[int | None] = [None] * len(runs)  # the next run of the same length
    last: dict[int, int] = {}
    for index in range(len(runs) - 1, -1, -1):
        size = len(runs[index][0])
        following[index] = last.get(size)
        last[size] = index
    kept: list[str] = []
    done = 0
    index = 0
    while index < len(runs):
        close = following[index]
        if close is None:
            index += 1
            continue
        kept.append(line[done : runs[index].start()])
        kept.append(" ")
        done = runs[close].end()
        index = close + 1
    kept.append(line[done:])
    return "".join(kept)


def match_key_terms(terms: Iterable[str], typed: str) -> tuple[list[str], list[str]]:
    """Split `terms` into (covered, missed) by whether `typed` mentions them.

    Matching is on whole words, ignoring case, punctuation and a plural "s"; a term with a parenthesis,
    like `PCA (Principal Component Analysis)`, is covered by either the part outside or inside it.
    """
    typed_forms = (_tokens(typed, joined=False), _tokens(typed, joined=True))
    covered: list[str] = []
    missed: list[str] = []
    for term in terms:
        (covered if _term_covered(term, typed, typed_forms) else missed).append(term)
    return covered, missed


# --- key-term matching ------------------------------------------------------------------------------------


def _singular(word: str) -> str:
    # Deliberately crude: applied the same way to both sides, it only has to be consistent.
    if len(word) >= 4 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _tokens(text: str, *, joined: bool) -> tuple[str, ...]:
    text = unicodedata.normalize("NFKC", text).casefold()
    if joined:
        text = _INTRA_WORD.sub("", text)
    return tuple(_singular(word) for word in _WORD.findall(text))


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    size = len(needle)
    return any(haystack[i : i + size] == needle for i in range(len(haystack) - size + 1))


def _term_variants(term: str) -> list[str]:
    outside = _PARENTHESISED.sub(" ", term)
    inside = [m["inner"] for m in _PARENTHESISED.finditer(term)]
    variants = [v for v in (outside, *inside) if _WORD.search(v)]
    return variants or [term]


def _term_covered(term: str, typed: str, typed_forms: tuple[tuple[str, ...], ...]) -> bool:
    for variant in _term_variants(term):
        forms = {_tokens(variant, joined=False), _tokens(variant, joined=True)} - {()}
        if not forms:  # nothing word-like to match on; fall back to the literal text
            return variant.strip().casefold() in typed.casefold()
        # Try split and joined forms on both sides: "F1 score" ~ "F1-score" ~ "f1score".
        if any(_contains(have, want) for want in forms for have in typed_forms):
            return True
    return False


# --- parsing ----------------------------------------------------------------------------------------------


def _fix(text: str) -> str:
    # Only repair broken encodings (mojibake); quotes, ligatures and full-width text stay as written.
    fixed: str = ftfy.fix_text(
        text, uncurl_quotes=False, fix_latin_ligatures=False, fix_character_width=False
    )
    return fixed


def _prose_lines(lines: Iterable[str]) -> Iterable[str]:
    """The lines outside fenced code blocks."""
    fence: str | None = None
    for line in lines:
        if fence is None:
            opened = _FENCE_OPEN.match(line)
            if opened and not (opened["fence"][0] == "`" and "`" in opened["info"]):
                fence = opened["fence"]
                continue
            yield line
        elif _closes(line, fence):
            fence = None


def _closes(line: str, fence: str) -> bool:
    # A closing fence uses the same character and is at least as long: ``` is closed by `````.
    stripped = line.strip()
    return (
        len(line) - len(line.lstrip(" ")) <= 3 and len(stripped) >= len(fence) and set(stripped) == {fence[0]}
    )


def _trimmed(lines: Sequence[str], blank: Callable[[str], bool]) -> Sequence[str]:
    """`lines` without the blank ones at either end (slicing, not popping from the front: linear)."""
    first = next((i for i, line in enumerate(lines) if not blank(line)), len(lines))
    last = next((i for i in range(len(lines) - 1, first - 1, -1) if not blank(lines[i])), first - 1)
    return lines[first : last + 1]


def _clean(lines: Sequence[str]) -> str:
    # rstrip drops Markdown's two-space hard line breaks, which mean nothing in a chat message.
    stripped = _trimmed([line.rstrip() for line in lines], lambda line: not line)
    return _fix("\n".join(stripped))


def _strip_closing_hashes(text: str) -> str:
    # `# Title ##`: CommonMark's optional closing sequence, after a space or as the whole text.
    bare = text.rstrip("#")
    if bare != text and (not bare or bare[-1] in " \t"):
        return bare.rstrip(" \t")
    return text


def _unitalic(text: str) -> str:
    wrapped = _ITALIC_WRAP.fullmatch(text)
    if wrapped and wrapped["d"][0] not in wrapped["inner"]:
        return wrapped["inner"].strip()
    return text


@dataclass(frozen=True)
class _Line:
    number: int  # 1-based, as editors show it
    text: str
    code: bool  # inside a fenced code block, or one of its fence lines: never structure


@dataclass
class _Section:
    name: str
    line: int
    lines: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return _SECTION_LABELS[self.name]


@dataclass(frozen=True)
class _Heading:
    line: int
    number: int | None
    key: str | None
    explicit: bool
    text: str

    @property
    def label(self) -> str:
        return f"question {self.number}" if self.number is not None else f"the question at line {self.line}"


class _DeckParser:
    def __init__(self, text: str, path: str, deck_id: str) -> None:
        self.path = path
        self.deck_id = deck_id
        self.text = text.removeprefix("\ufeff")
        self.problems: list[DeckProblem] = []
        self.lines: list[_Line] = []
        # Line of the first use, and whether it was an explicit id.
        self.numbers: dict[int, int] = {}
        self.keys: dict[str, tuple[int, bool]] = {}
        self.reported: set[int] = set()

    def problem(self, line: int, message: str) -> None:
        self.problems.append(DeckProblem(self.path, line, message))
        self.reported.add(line)

    def parse(self) -> Deck | list[DeckProblem]:
        if not self.text.strip():
            return [DeckProblem(self.path, 1, "file is empty")]
        if "\r" in self.text and "\n" not in self.text:
            return [
                DeckProblem(
                    self.path,
                    1,
                    "lines end in a carriage return (CR) only, as on classic Mac OS; "
                    "save the file with LF (or CRLF) line ends",
                )
            ]
        self._check_names()
        self.lines = self._scan(self.text.split("\n"))
        title, title_line = self._title()
        headings = [i for i, ln in enumerate(self.lines) if not ln.code and _QUESTION.match(ln.text)]
        self._check_misleveled(title_line)
        if not headings:
            self.problem(title_line or 1, f"deck has no questions: {_HEADING_HINT} headings")

        cards: list[Card] = []
        credit = ""
        for position, start in enumerate(headings):
            end = headings[position + 1] if position + 1 < len(headings) else len(self.lines)
            block = self.lines[start + 1 : end]
            cut = next((i for i, ln in enumerate(block) if not ln.code and _SEPARATOR.match(ln.text)), None)
            body, tail = (block, []) if cut is None else (block[:cut], block[cut:])
            heading = self._heading(self.lines[start])
            is_last = position == len(headings) - 1
            self._check_tail(heading, tail, credit_allowed=is_last)
            if is_last:
                credit = self._credit(tail)
            cards.extend(self._question(heading, body))

        if self.problems:
            return sorted(self.problems, key=lambda p: p.line)
        return Deck(id=self.deck_id, title=title, cards=tuple(cards), credit=credit, source=self.path)

    def _scan(self, raw: list[str]) -> list[_Line]:
        """Number the lines and mark fenced code, so `#` lines in code are never headings."""
        lines: list[_Line] = []
        fence: str | None = None
        fence_line = 0
        for number, text in enumerate(raw, start=1):
            text = text.removesuffix("\r")
            self._check_line(number, text)
            if fence is None:
                opened = _FENCE_OPEN.match(text)
                # A backtick fence's info string may not contain backticks (CommonMark).
                if opened and not (opened["fence"][0] == "`" and "`" in opened["info"]):
                    fence, fence_line = opened["fence"], number
                    lines.append(_Line(number, text, code=True))
                    continue
                lines.append(_Line(number, text, code=False))
            else:
                if _closes(text, fence):
                    fence = None
                lines.append(_Line(number, text, code=True))
        if fence is not None:
            # An unclosed fence runs to the end of the file and would swallow every question after it.
            self.problem(fence_line, f"code block opened here with {fence} is never closed")
        return lines

    def _check_line(self, number: int, text: str) -> None:
        if len(text) > LINE_MAX:
            self.problem(
                number,
                f"line is {len(text)} characters long; a line can be at most {LINE_MAX} "
                "(a paragraph is one line: break it into several)",
            )
        if "\x00" in text:
            self.problem(number, "line holds a NUL character (byte 0x00), which cannot be stored; remove it")
        if "\r" in text:
            self.problem(
                number,
                "line holds a carriage return (CR) that does not end the line; "
                "save the file with LF (or CRLF) line ends",
            )

    def _check_names(self) -> None:
        """The file name is the deck id and the path its source: both are stored, within their columns."""
        try:
            (self.deck_id + self.path).encode("utf-8")
        except UnicodeEncodeError:
            self.problem(1, "file name is not valid UTF-8: rename the file")
            return
        if len(self.deck_id) > DECK_ID_MAX:
            self.problem(
                1,
                f"file name gives a deck id of {len(self.deck_id)} characters; "
                f"it can be at most {DECK_ID_MAX} (without .md): rename the file",
            )
        if len(self.path) > SOURCE_MAX:
            self.problem(
                1,
                f"file path is {len(self.path)} characters long; it can be at most {SOURCE_MAX}: "
                "move the deck to a shorter path",
            )

    def _title(self) -> tuple[str, int]:
        first = next(ln for ln in self.lines if ln.text.strip())
        matched = None if first.code else _TITLE.match(first.text)
        if matched is None:
            self.problem(first.number, "deck has no title: the first line must be `# Deck title`")
            return "", 0
        title = _strip_closing_hashes((matched["text"] or "").rstrip(" \t")).replace("**", "")
        title = _WHITESPACE.sub(" ", _fix(title)).strip()
        if not title:
            self.problem(first.number, "deck title is empty")
        elif len(title) > TITLE_MAX:
            self.problem(
                first.number, f"deck title is {len(title)} characters long; it can be at most {TITLE_MAX}"
            )
        return title, first.number

    def _check_misleveled(self, title_line: int) -> None:
        # "## 16. ..." would silently become part of the previous answer (or the credit).
        for line in self.lines:
            if line.code or line.number == title_line:
                continue
            heading = _ANY_HEADING.match(line.text)
            if heading and len(heading["hashes"]) in (1, 2):
                text = heading["text"].replace("**", "").strip()
                if _LOOKS_NUMBERED.match(text + " "):
                    self.problem(
                        line.number,
                        f"heading {heading['hashes']} {text!r} looks like a question but questions "
                        "use ### headings",
                    )

    def _heading(self, line: _Line) -> _Heading:
        matched = _QUESTION.match(line.text)
        assert matched is not None  # only heading lines get here
        text = (matched["text"] or "").strip()
        explicit_id: str | None = None
        id_match = _EXPLICIT_ID.search(text)
        if id_match:
            explicit_id = id_match["id"].strip()
            text = text[: id_match.start()].rstrip()
            if not _VALID_ID.match(explicit_id):
                self.problem(
                    line.number,
                    f"invalid question id {{#{explicit_id}}}: use letters, digits, '-', '_' and '.' "
                    "(starting with a letter or digit)",
                )
                explicit_id = None
            elif len(explicit_id) > CARD_KEY_MAX - len(FOLLOWUP_SUFFIX):
                self.problem(
                    line.number,
                    f"question id {{#{explicit_id[:20]}…}} is {len(explicit_id)} characters long; it can "
                    f"be at most {CARD_KEY_MAX - len(FOLLOWUP_SUFFIX)}",
                )
                explicit_id = None
        text = _WHITESPACE.sub(" ", text.replace("**", "")).strip()

        numbered = _NUMBERED.match(text)
        if numbered is None:
            shown = f"### {text}" if text else "###"
            self.problem(line.number, f"question heading has no number: {_HEADING_HINT}, got {shown!r}")
            return _Heading(line.number, None, explicit_id, explicit_id is not None, text)

        digits = numbered["number"].lstrip("0") or "0"
        if len(digits) > len(str(NUMBER_MAX)) or int(digits) > NUMBER_MAX:
            shown = digits if len(digits) <= 20 else digits[:20] + "…"
            self.problem(line.number, f"question number {shown} is too large: it can be at most {NUMBER_MAX}")
            return _Heading(line.number, None, None, False, text)
        number = int(digits)
        question = numbered["text"].strip()
        if not question:
            self.problem(line.number, f"question {number} has no question text")
        first = self.numbers.setdefault(number, line.number)
        if first != line.number:
            self.problem(line.number, f"question number {number} is used twice (first at line {first})")
            if explicit_id is None:  # the key clash is the same problem, reported once
                return _Heading(line.number, number, None, False, question)

        heading = _Heading(line.number, number, explicit_id or str(number), explicit_id is not None, question)
        self._claim_key(heading)
        return heading

    def _claim_key(self, heading: _Heading) -> None:
        assert heading.key is not None
        key = heading.key
        if key not in self.keys:
            self.keys[key] = (heading.line, heading.explicit)
            return
        first_line, first_explicit = self.keys[key]
        if heading.explicit and first_explicit:
            message = f"question id {{#{key}}} is used twice (first at line {first_line})"
        elif heading.explicit:
            message = f"question id {{#{key}}} is already the key of question {key} (line {first_line})"
        else:
            message = (
                f"{heading.label}'s key {key!r} is already used by the id {{#{key}}} at line {first_line}"
            )
        self.problem(heading.line, message)

    def _check_tail(self, heading: _Heading, tail: list[_Line], *, credit_allowed: bool) -> None:
        """Text after the `---` that ends a question: the credit after the last one, nothing elsewhere."""
        if not tail:
            return
        separator = tail[0].number
        ended = f"{heading.label} ended with the --- at line {separator}"
        for line in tail[1:]:
            if line.number in self.reported:
                continue
            marker = None if line.code else _MARKER.match(line.text)
            if marker:
                label = _SECTION_LABELS[_section_name(marker["name"])]
                self.problem(line.number, f"{label} is outside any question: {ended}")
            elif not credit_allowed and line.text.strip() and not _SEPARATOR.match(line.text):
                self.problem(
                    line.number,
                    f"text is not part of any question: {ended}; the next question needs a "
                    f"### heading ({_HEADING_HINT})",
                )
                return

    def _credit(self, tail: list[_Line]) -> str:
        # Trim the `---` separators (and blank lines) around the author block, not the ones inside it.
        texts = _trimmed(
            [line.text for line in tail], lambda text: not text.strip() or bool(_SEPARATOR.match(text))
        )
        return _clean(texts)

    def _question(self, heading: _Heading, body: list[_Line]) -> list[Card]:
        intro: list[str] = []
        sections: dict[str, _Section] = {}
        current: _Section | None = None
        for line in body:
            marker = None if line.code else _MARKER.match(line.text)
            if marker is None:
                (current.lines if current is not None else intro).append(line.text)
                continue
            name = _section_name(marker["name"])
            current = _Section(name, line.number)
            if name in sections:
                first = sections[name]
                self.problem(
                    line.number,
                    f"{heading.label} has a second {first.label} section (first at line {first.line})",
                )
            else:
                sections[name] = current
            if marker["rest"].strip():
                current.lines.append(marker["rest"])

        theory = sections.get("theory")
        followup = sections.get("followup")
        answer = sections.get("answer")
        theory_text = _clean(theory.lines) if theory else ""
        if theory is None:
            self.problem(heading.line, f"{heading.label} has no **Theory:** section")
        elif not theory_text:
            self.problem(theory.line, f"{heading.label} has an empty **Theory:** section")

        if answer is not None and (followup is None or answer.line < followup.line):
            self.problem(
                answer.line, f"{heading.label} has an **Answer:** but no **Follow-up Question:** before it"
            )
            answer = None
        followup_text = _unitalic(_clean(followup.lines)) if followup else ""
        answer_text = _clean(answer.lines) if answer else ""
        if followup is not None:
            if not followup_text:
                self.problem(followup.line, f"{heading.label} has an empty **Follow-up Question:**")
            if answer is None:
                self.problem(
                    followup.line, f"{heading.label} has a **Follow-up Question:** but no **Answer:**"
                )
            elif not answer_text:
                self.problem(
                    followup.line,
                    f"{heading.label}'s follow-up has an empty **Answer:** (line {answer.line})",
                )

        if heading.number is None or heading.key is None:
            return []
        question = _fix(heading.text)
        # Text between the heading and **Theory:** (a code snippet, say) belongs to the question.
        extra = _clean(intro)
        if extra:
            question = f"{question}\n\n{extra}"
        cards = [
            Card(
                key=heading.key,
                number=heading.number,
                kind=CardKind.MAIN,
                question=question,
                answer=theory_text,
                key_terms=key_terms(theory_text),
                line=heading.line,
            )
        ]
        if followup is not None:
            cards.append(
                Card(
                    key=heading.key + FOLLOWUP_SUFFIX,
                    number=heading.number,
                    kind=CardKind.FOLLOWUP,
                    question=followup_text,
                    answer=answer_text,
                    key_terms=key_terms(answer_text),
                    line=followup.line,
                    parent_key=heading.key,
                )
            )
        return cards


def _section_name(raw: str) -> str:
    lowered = raw.lower()
    if lowered.startswith("follow"):
        return "followup"
    return lowered

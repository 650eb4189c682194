"""The deck parser: a deck file's lines to cards, or every problem found as `file:line: message`
(DESIGN.md, "Content format")."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import ftfy

from bot.core.cardtext import plain_inline, unwrap_heading
from bot.core.deck_fences import FENCE_OPEN, closes_fence
from bot.core.deck_limits import (
    CARD_KEY_MAX,
    DECK_ID_MAX,
    LINE_MAX,
    NUMBER_MAX,
    SOURCE_MAX,
    TITLE_MAX,
)
from bot.core.keyterms import key_terms
from bot.core.models import Card, CardKind, Deck, DeckProblem

FOLLOWUP_SUFFIX = "/followup"

# Deck files are outside input: every pattern here is anchored and has no two quantifiers that can
# match the same characters, so matching is linear in the line (a lazy `.*?` before `[ \t]*$`, or a
# search for `[ \t]+#+$`, is quadratic on a long run of spaces). Trailing blanks are stripped in code.
# CommonMark allows up to three spaces of indentation before block syntax; four make a code block.
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
_ITALIC_WRAP = re.compile(r"(?P<d>\*{1,3}|_{1,3})(?P<inner>\S(?:.*\S)?)(?P=d)", re.DOTALL)
_WHITESPACE = re.compile(r"\s+")

_SECTION_LABELS = {
    "theory": "**Theory:**",
    "followup": "**Follow-up Question:**",
    "answer": "**Answer:**",
}
_HEADING_HINT = "expected `### **N. Question text**`"


def _fix(text: str) -> str:
    # Only repair broken encodings (mojibake); quotes, ligatures and full-width text stay as written.
    fixed: str = ftfy.fix_text(
        text, uncurl_quotes=False, fix_latin_ligatures=False, fix_character_width=False
    )
    return fixed


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


class DeckParser:
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
                opened = FENCE_OPEN.match(text)
                # A backtick fence's info string may not contain backticks (CommonMark).
                if opened and not (opened["fence"][0] == "`" and "`" in opened["info"]):
                    fence, fence_line = opened["fence"], number
                    lines.append(_Line(number, text, code=True))
                    continue
                lines.append(_Line(number, text, code=False))
            else:
                if closes_fence(text, fence):
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
        title = plain_inline(_strip_closing_hashes((matched["text"] or "").rstrip(" \t")))
        title = _WHITESPACE.sub(" ", _fix(title)).strip(" *_")
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
        text = _WHITESPACE.sub(" ", unwrap_heading(text)).strip()

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

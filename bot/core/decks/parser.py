"""The deck parser: a deck file's lines to cards, or every problem found as `file:line: message`
(DESIGN.md, "Content format")."""

from __future__ import annotations

from bot.core.cardtext import plain_inline, unwrap_heading
from bot.core.decks.blocks import (
    ANY_HEADING,
    EXPLICIT_ID,
    FOLLOWUP_SUFFIX,
    HEADING_HINT,
    LOOKS_NUMBERED,
    MARKER,
    NUMBERED,
    QUESTION,
    SECTION_LABELS,
    SEPARATOR,
    TITLE,
    VALID_ID,
    WHITESPACE,
    DeckLine,
    DeckSection,
    Heading,
    clean,
    fix,
    section_name,
    strip_closing_hashes,
    trimmed,
    unitalic,
)
from bot.core.decks.fences import FENCE_OPEN, closes_fence
from bot.core.decks.keyterms import key_terms
from bot.core.decks.limits import (
    CARD_KEY_MAX,
    DECK_ID_MAX,
    LINE_MAX,
    NUMBER_MAX,
    SOURCE_MAX,
    TITLE_MAX,
)
from bot.core.model.models import Card, CardKind, Deck, DeckProblem


class DeckParser:
    def __init__(self, text: str, path: str, deck_id: str) -> None:
        self.path = path
        self.deck_id = deck_id
        self.text = text.removeprefix("\ufeff")
        self.problems: list[DeckProblem] = []
        self.lines: list[DeckLine] = []
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
        headings = [i for i, ln in enumerate(self.lines) if not ln.code and QUESTION.match(ln.text)]
        self._check_misleveled(title_line)
        if not headings:
            self.problem(title_line or 1, f"deck has no questions: {HEADING_HINT} headings")

        cards: list[Card] = []
        credit = ""
        for position, start in enumerate(headings):
            end = headings[position + 1] if position + 1 < len(headings) else len(self.lines)
            block = self.lines[start + 1 : end]
            cut = next((i for i, ln in enumerate(block) if not ln.code and SEPARATOR.match(ln.text)), None)
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

    def _scan(self, raw: list[str]) -> list[DeckLine]:
        """Number the lines and mark fenced code, so `#` lines in code are never headings."""
        lines: list[DeckLine] = []
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
                    lines.append(DeckLine(number, text, code=True))
                    continue
                lines.append(DeckLine(number, text, code=False))
            else:
                if closes_fence(text, fence):
                    fence = None
                lines.append(DeckLine(number, text, code=True))
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
        matched = None if first.code else TITLE.match(first.text)
        if matched is None:
            self.problem(first.number, "deck has no title: the first line must be `# Deck title`")
            return "", 0
        title = plain_inline(strip_closing_hashes((matched["text"] or "").rstrip(" \t")))
        # Repaired until settled: trimming can expose mojibake that ftfy repairs only on a second pass
        # ("\xa0Â¡" keeps its "Â" until the space is gone), and an exported deck is parsed again.
        for _ in range(8):
            settled = WHITESPACE.sub(" ", fix(title)).strip(" *_")
            if settled == title:
                break
            title = settled
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
            heading = ANY_HEADING.match(line.text)
            if heading and len(heading["hashes"]) in (1, 2):
                text = heading["text"].replace("**", "").strip()
                if LOOKS_NUMBERED.match(text + " "):
                    self.problem(
                        line.number,
                        f"heading {heading['hashes']} {text!r} looks like a question but questions "
                        "use ### headings",
                    )

    def _heading(self, line: DeckLine) -> Heading:
        matched = QUESTION.match(line.text)
        assert matched is not None  # only heading lines get here
        text = (matched["text"] or "").strip()
        explicit_id: str | None = None
        id_match = EXPLICIT_ID.search(text)
        if id_match:
            explicit_id = id_match["id"].strip()
            text = text[: id_match.start()].rstrip()
            if not VALID_ID.match(explicit_id):
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
        text = WHITESPACE.sub(" ", unwrap_heading(text)).strip()

        numbered = NUMBERED.match(text)
        if numbered is None:
            shown = f"### {text}" if text else "###"
            self.problem(line.number, f"question heading has no number: {HEADING_HINT}, got {shown!r}")
            return Heading(line.number, None, explicit_id, explicit_id is not None, text)

        digits = numbered["number"].lstrip("0") or "0"
        if len(digits) > len(str(NUMBER_MAX)) or int(digits) > NUMBER_MAX:
            shown = digits if len(digits) <= 20 else digits[:20] + "…"
            self.problem(line.number, f"question number {shown} is too large: it can be at most {NUMBER_MAX}")
            return Heading(line.number, None, None, False, text)
        number = int(digits)
        question = numbered["text"].strip()
        if not question:
            self.problem(line.number, f"question {number} has no question text")
        first = self.numbers.setdefault(number, line.number)
        if first != line.number:
            self.problem(line.number, f"question number {number} is used twice (first at line {first})")
            if explicit_id is None:  # the key clash is the same problem, reported once
                return Heading(line.number, number, None, False, question)

        heading = Heading(line.number, number, explicit_id or str(number), explicit_id is not None, question)
        self._claim_key(heading)
        return heading

    def _claim_key(self, heading: Heading) -> None:
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

    def _check_tail(self, heading: Heading, tail: list[DeckLine], *, credit_allowed: bool) -> None:
        """Text after the `---` that ends a question: the credit after the last one, nothing elsewhere."""
        if not tail:
            return
        separator = tail[0].number
        ended = f"{heading.label} ended with the --- at line {separator}"
        for line in tail[1:]:
            if line.number in self.reported:
                continue
            marker = None if line.code else MARKER.match(line.text)
            if marker:
                label = SECTION_LABELS[section_name(marker["name"])]
                self.problem(line.number, f"{label} is outside any question: {ended}")
            elif not credit_allowed and line.text.strip() and not SEPARATOR.match(line.text):
                self.problem(
                    line.number,
                    f"text is not part of any question: {ended}; the next question needs a "
                    f"### heading ({HEADING_HINT})",
                )
                return

    def _credit(self, tail: list[DeckLine]) -> str:
        # Trim the `---` separators (and blank lines) around the author block, not the ones inside it.
        texts = trimmed(
            [line.text for line in tail], lambda text: not text.strip() or bool(SEPARATOR.match(text))
        )
        return clean(texts)

    def _question(self, heading: Heading, body: list[DeckLine]) -> list[Card]:
        intro: list[str] = []
        sections: dict[str, DeckSection] = {}
        current: DeckSection | None = None
        for line in body:
            marker = None if line.code else MARKER.match(line.text)
            if marker is None:
                (current.lines if current is not None else intro).append(line.text)
                continue
            name = section_name(marker["name"])
            current = DeckSection(name, line.number)
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
        theory_text = clean(theory.lines) if theory else ""
        if theory is None:
            self.problem(heading.line, f"{heading.label} has no **Theory:** section")
        elif not theory_text:
            self.problem(theory.line, f"{heading.label} has an empty **Theory:** section")

        if answer is not None and (followup is None or answer.line < followup.line):
            self.problem(
                answer.line, f"{heading.label} has an **Answer:** but no **Follow-up Question:** before it"
            )
            answer = None
        followup_text = unitalic(clean(followup.lines)) if followup else ""
        answer_text = clean(answer.lines) if answer else ""
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
        question = fix(heading.text)
        # Text between the heading and **Theory:** (a code snippet, say) belongs to the question.
        extra = clean(intro)
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

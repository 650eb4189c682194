"""Card fields from other formats, made into exactly what a Markdown deck stores, and checked the same way.

A field is Markdown. The readers give it the form the Markdown parser would give it (repaired encoding,
trimmed lines), and rewrite the few lines that would read as deck structure in a deck file, keeping how
they look in chat: a `### heading` becomes `#### heading` (chat shows every level alike), a `---` rule
becomes `- - -`, a leading `**Answer:**` becomes `__Answer:__`, and an unclosed code fence is closed. So
`markdown_export` can write any imported deck, and parsing that file gives the same cards.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.core.decks.blocks import (
    FOLLOWUP_SUFFIX,
    MARKER,
    SEPARATOR,
    VALID_ID,
    clean,
    fix,
    unitalic,
)
from bot.core.decks.fences import FENCE_OPEN, closes_fence
from bot.core.decks.keyterms import key_terms
from bot.core.decks.limits import CARD_KEY_MAX, CARDS_MAX, LINE_MAX, TITLE_MAX
from bot.core.model.models import Card, CardKind, Deck, DeckProblem

ID_MAX = CARD_KEY_MAX - len(FOLLOWUP_SUFFIX)
# The heading line holds the question's first line plus `### **N. …** {#id}`.
HEADING_TEXT_MAX = LINE_MAX - ID_MAX - 40
_STRUCTURE_HEADING = re.compile(r"^(?P<indent> {0,3})#{1,3}(?=[ \t]|$)")
_WHITESPACE = re.compile(r"\s+")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
SLUG_MAX = 40
HASH_CHARS = 12


@dataclass(frozen=True)
class RawCard:
    """One row or note as read: Markdown fields, an optional id, and where it is (`row` in problems)."""

    row: int
    question: str
    answer: str
    followup_question: str = ""
    followup_answer: str = ""
    explicit_id: str = ""
    identity: str = ""  # a key the source format gives (an Anki note id); used when there is no id


def _defuse(line: str) -> str:
    if SEPARATOR.match(line):
        return "- - -"
    heading = _STRUCTURE_HEADING.match(line)
    if heading:
        return heading["indent"] + "####" + line[heading.end() :]
    if MARKER.match(line):
        return line.replace("**", "__", 2)
    return line


def _stable(step: Callable[[str], str], text: str) -> str:
    # ftfy's repairs are not always idempotent ("\x81Â " loses its "Â" only the second time); the parser
    # repairs once more what the exporter writes, so keep repairing until nothing changes.
    current = step(text)
    for _ in range(8):
        again = step(current)
        if again == current:
            break
        current = again
    return current


def block(text: str) -> str:
    """A section's Markdown as a deck file stores it (see the module docstring)."""
    return _stable(_block_once, text)


def _block_once(text: str) -> str:
    lines: list[str] = []
    fence: str | None = None
    for line in fix(text).split("\n"):
        if fence is None:
            opened = FENCE_OPEN.match(line)
            if opened and not (opened["fence"][0] == "`" and "`" in opened["info"]):
                fence = opened["fence"]
            else:
                line = _defuse(line)
        elif closes_fence(line, fence):
            fence = None
        lines.append(line)
    if fence is not None:
        lines.append(fence)
    return clean(lines)


def followup(text: str) -> str:
    # The parser drops italics around a whole follow-up question: store it that way.
    current = block(text)
    for _ in range(8):
        unwrapped = block(unitalic(current))
        if unwrapped == current:
            break
        current = unwrapped
    return current


def question(text: str) -> tuple[str, str | None]:
    """The question as a deck file stores it: its first line is the heading. Returns it and a problem."""
    lines = fix(text).split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return "", "the question is empty"
    if FENCE_OPEN.match(lines[0]):
        return "", "the question starts with a code block: start it with a line of text"
    head = _stable(lambda line: fix(_WHITESPACE.sub(" ", line).strip()), lines[0])
    if len(head) > HEADING_TEXT_MAX:
        return "", f"the question's first line is {len(head)} characters long; at most {HEADING_TEXT_MAX}"
    rest = block("\n".join(lines[1:]))
    return (f"{head}\n\n{rest}" if rest else head), None


def title(text: str, fallback: str) -> str:
    shown = _stable(lambda t: _WHITESPACE.sub(" ", fix(t)).strip(" *_")[:TITLE_MAX].strip(" *_"), text)
    return shown or fallback


def text_key(question_text: str) -> str:
    """A card's key from its question: a readable slug plus a hash of the normalised text, so the same
    question (ignoring case, spacing and Unicode form) keeps its key when a file is imported again."""
    normalised = _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", question_text).casefold()).strip()
    digest = hashlib.sha256(normalised.encode("utf-8")).hexdigest()[:HASH_CHARS]
    ascii_text = unicodedata.normalize("NFKD", normalised).encode("ascii", "ignore").decode("ascii")
    slug = _NOT_SLUG.sub("-", ascii_text).strip("-")[:SLUG_MAX].rstrip("-")
    return f"q-{slug}-{digest}" if slug else f"q-{digest}"


class DeckBuilder:
    """Cards from raw rows with every problem found; `what` names a row in messages ("row", "note")."""

    def __init__(self, path: str, deck_id: str, what: str = "row") -> None:
        self.path = path
        self.deck_id = deck_id
        self.what = what
        self.problems: list[DeckProblem] = []
        self.cards: list[Card] = []
        self.keys: dict[str, int] = {}
        self.questions = 0

    def problem(self, row: int, message: str) -> None:
        self.problems.append(DeckProblem(self.path, row, message))

    def add(self, raw: RawCard) -> None:
        found = len(self.problems)
        asked, question_problem = question(raw.question)
        if question_problem:
            self.problem(raw.row, question_problem)
        answer = block(raw.answer)
        if not answer:
            self.problem(raw.row, "the answer is empty")
        follow_q = followup(raw.followup_question)
        follow_a = block(raw.followup_answer)
        if follow_q and not follow_a:
            self.problem(raw.row, "the follow-up question has no follow-up answer")
        elif follow_a and not follow_q:
            self.problem(raw.row, "the follow-up answer has no follow-up question")
        named = (("answer", answer), ("follow-up question", follow_q), ("follow-up answer", follow_a))
        for name, text in named:
            longest = max((len(line) for line in text.split("\n")), default=0)
            if longest > LINE_MAX:
                self.problem(
                    raw.row, f"the {name} has a line of {longest} characters; at most {LINE_MAX} fit"
                )
        key = self._key(raw, asked)
        if key is None or len(self.problems) > found:
            return
        self.questions += 1
        number = self.questions
        self.cards.append(Card(key, number, CardKind.MAIN, asked, answer, key_terms(answer), raw.row))
        if follow_q:
            self.cards.append(
                Card(
                    key + FOLLOWUP_SUFFIX,
                    number,
                    CardKind.FOLLOWUP,
                    follow_q,
                    follow_a,
                    key_terms(follow_a),
                    raw.row,
                    parent_key=key,
                )
            )

    def _key(self, raw: RawCard, asked: str) -> str | None:
        explicit = raw.explicit_id.strip()
        if explicit:
            if not VALID_ID.match(explicit):
                self.problem(
                    raw.row,
                    f"invalid id {explicit[:40]!r}: use letters, digits, '-', '_' and '.' "
                    "(starting with a letter or digit)",
                )
                return None
            if len(explicit) > ID_MAX:
                self.problem(raw.row, f"the id is {len(explicit)} characters long; at most {ID_MAX}")
                return None
            key = explicit
        elif raw.identity:
            key = raw.identity
        elif asked:
            key = text_key(asked)
        else:
            return None
        first = self.keys.setdefault(key, raw.row)
        if first != raw.row:
            if explicit:
                self.problem(raw.row, f"the id {key!r} is used twice (first at {self.what} {first})")
            else:
                self.problem(
                    raw.row,
                    f"the same question as {self.what} {first}: questions without an id are known by "
                    "their text, so give one of them an id (or remove the copy)",
                )
            return None
        return key

    def build(self, title_text: str, credit: str = "") -> Deck | list[DeckProblem]:
        if not self.problems and not self.cards:
            self.problem(1, "the file holds no cards")
        if len(self.cards) > CARDS_MAX:
            self.problem(1, f"the deck has {len(self.cards)} cards; a deck can have at most {CARDS_MAX:,}")
        if self.problems:
            return sorted(self.problems, key=lambda p: p.line)
        return Deck(
            id=self.deck_id,
            title=title(title_text, self.deck_id),
            cards=tuple(self.cards),
            credit=credit,
            source=self.path,
        )


def too_many_rows(path: str, rows: Sequence[object], what: str) -> list[DeckProblem]:
    if len(rows) > CARDS_MAX:
        message = f"the file has {len(rows):,} {what}s; a deck can have at most {CARDS_MAX:,}"
        return [DeckProblem(path, 1, message)]
    return []

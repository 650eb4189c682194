"""The pieces of a Markdown deck file the parser works with: lines, headings, sections, and text clean-up."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import ftfy

FOLLOWUP_SUFFIX = "/followup"

# Deck files are outside input: every pattern here is anchored and has no two quantifiers that can
# match the same characters, so matching is linear in the line (a lazy `.*?` before `[ \t]*$`, or a
# search for `[ \t]+#+$`, is quadratic on a long run of spaces). Trailing blanks are stripped in code.
# CommonMark allows up to three spaces of indentation before block syntax; four make a code block.
TITLE = re.compile(r"^ {0,3}#(?:[ \t]+(?P<text>.*))?$")
QUESTION = re.compile(r"^ {0,3}###(?:[ \t]+(?P<text>.*))?$")
ANY_HEADING = re.compile(r"^ {0,3}(?P<hashes>#{1,6})[ \t]+(?P<text>.*)$")
SEPARATOR = re.compile(r"^ {0,3}-{3,}[ \t]*$")
MARKER = re.compile(
    r"^ {0,3}\*\*[ \t]*(?P<name>theory|follow[- ]?up(?:[ \t]+question)?|answer)[ \t]*"
    r"(?::[ \t]*\*\*|\*\*[ \t]*:)(?P<rest>.*)$",
    re.IGNORECASE,
)
EXPLICIT_ID = re.compile(r"\{#(?P<id>[^{}]*)\}$")
# No "/" in ids: follow-up keys are "<main key>/followup".
VALID_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
NUMBERED = re.compile(r"^(?P<number>\d+)[.)][ \t]*(?P<text>.*)$")
LOOKS_NUMBERED = re.compile(r"^\d+[.)]\s")
ITALIC_WRAP = re.compile(r"(?P<d>\*{1,3}|_{1,3})(?P<inner>\S(?:.*\S)?)(?P=d)", re.DOTALL)
WHITESPACE = re.compile(r"\s+")

SECTION_LABELS = {
    "theory": "**Theory:**",
    "followup": "**Follow-up Question:**",
    "answer": "**Answer:**",
}
HEADING_HINT = "expected `### **N. Question text**`"


def fix(text: str) -> str:
    # Only repair broken encodings (mojibake); quotes, ligatures and full-width text stay as written.
    fixed: str = ftfy.fix_text(
        text, uncurl_quotes=False, fix_latin_ligatures=False, fix_character_width=False
    )
    return fixed


def trimmed(lines: Sequence[str], blank: Callable[[str], bool]) -> Sequence[str]:
    """`lines` without the blank ones at either end (slicing, not popping from the front: linear)."""
    first = next((i for i, line in enumerate(lines) if not blank(line)), len(lines))
    last = next((i for i in range(len(lines) - 1, first - 1, -1) if not blank(lines[i])), first - 1)
    return lines[first : last + 1]


def clean(lines: Sequence[str]) -> str:
    # rstrip drops Markdown's two-space hard line breaks, which mean nothing in a chat message.
    stripped = trimmed([line.rstrip() for line in lines], lambda line: not line)
    return fix("\n".join(stripped))


def strip_closing_hashes(text: str) -> str:
    # `# Title ##`: CommonMark's optional closing sequence, after a space or as the whole text.
    bare = text.rstrip("#")
    if bare != text and (not bare or bare[-1] in " \t"):
        return bare.rstrip(" \t")
    return text


def unitalic(text: str) -> str:
    wrapped = ITALIC_WRAP.fullmatch(text)
    if wrapped and wrapped["d"][0] not in wrapped["inner"]:
        return wrapped["inner"].strip()
    return text


@dataclass(frozen=True)
class DeckLine:
    number: int  # 1-based, as editors show it
    text: str
    code: bool  # inside a fenced code block, or one of its fence lines: never structure


@dataclass
class DeckSection:
    name: str
    line: int
    lines: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return SECTION_LABELS[self.name]


@dataclass(frozen=True)
class Heading:
    line: int
    number: int | None
    key: str | None
    explicit: bool
    text: str

    @property
    def label(self) -> str:
        return f"question {self.number}" if self.number is not None else f"the question at line {self.line}"


def section_name(raw: str) -> str:
    lowered = raw.lower()
    if lowered.startswith("follow"):
        return "followup"
    return lowered

"""A deck written as a Markdown deck file (DESIGN.md, "Content format") that parses back to the same cards.

Cards read from Markdown, CSV or Anki hold their text in the form the Markdown parser gives it
(deck_formats.fields), so each field can be written as it is; only the heading, the title and the
follow-up question need care, and an explicit `{#id}` is written when the key is not the number.
"""

from __future__ import annotations

import re

from bot.core.cardtext import escape, plain_inline, unwrap_heading
from bot.core.decks.blocks import (
    ANY_HEADING,
    EXPLICIT_ID,
    LOOKS_NUMBERED,
    MARKER,
    QUESTION,
    SEPARATOR,
    fix,
    strip_closing_hashes,
    unitalic,
)
from bot.core.decks.fences import FENCE_OPEN, closes_fence
from bot.core.model.models import Card, CardKind, Deck

_WHITESPACE = re.compile(r"\s+")


def export_markdown(deck: Deck) -> str:
    """The deck as Markdown: `# Title`, then one `### **N. Question**` block per question."""
    followups = {c.parent_key: c for c in deck.cards if c.kind is CardKind.FOLLOWUP}
    parts = [f"# {_title(deck.title)}", "---", ""]
    for card in deck.main_cards:
        parts.extend(_question(card, followups.get(card.key)))
        parts.extend(["---", ""])
    if deck.credit:
        parts.append(_kept(deck.credit, credit=True))
    return "\n".join(parts).rstrip("\n") + "\n"


def _title(title: str) -> str:
    # As written when that reads back the same; else with its punctuation escaped.
    read = _WHITESPACE.sub(" ", fix(plain_inline(strip_closing_hashes(title)))).strip(" *_")
    return title if read == title else escape(title)


def _heading(card: Card) -> str:
    first, _, _ = card.question.partition("\n\n")
    numbered = f"{card.number}. {first}"
    bold = f"**{numbered}**"
    text = bold if unwrap_heading(bold) == numbered else numbered
    if card.key != str(card.number) or EXPLICIT_ID.search(first):
        text += f" {{#{card.key}}}"
    return f"### {text}"


def _section(label: str, text: str) -> list[str]:
    # A Markdown deck can start a section on the marker's line with what would be structure alone on its
    # line (`**Theory:** ---`, or a ``` that opens no code block there): it stays on that line.
    first, _, rest = text.partition("\n")
    if _structure(first) or (_opens_fence(first) and not _fences_close(text)):
        return [label + first, *([_kept(rest)] if rest else [])]
    return [label, _kept(text)]


def _opens_fence(line: str) -> str | None:
    opened = FENCE_OPEN.match(line)
    if opened and not (opened["fence"][0] == "`" and "`" in opened["info"]):
        return opened["fence"]
    return None


def _fences_close(text: str) -> bool:
    fence: str | None = None
    for line in text.split("\n"):
        if fence is None:
            fence = _opens_fence(line)
        elif closes_fence(line, fence):
            fence = None
    return fence is None


def _kept(text: str, credit: bool = False) -> str:
    """`text` with each line that would not read back alone joined to its neighbour by U+2028.

    Only a Markdown deck's own text has such lines (structure, blank or ending in blanks): the parser's
    encoding repair turns a U+2028 inside a line into a new line. Written back, it gives the same text.
    """
    lines = text.split("\n")
    lead = 0
    while lead < len(lines) - 1 and not lines[lead].strip():
        lead += 1
    out = ["\u2028".join(lines[: lead + 1])]
    fence = _opens_fence(out[0])
    for position, line in enumerate(lines[lead + 1 :], start=lead + 1):
        # The credit keeps its own `---` lines, but one at its end would be trimmed as a separator.
        trimmed = credit and position == len(lines) - 1 and SEPARATOR.match(line)
        if fence is not None:
            if closes_fence(line, fence):
                fence = None
        elif (
            _structure(line, credit) or trimmed or (line and not line.strip()) or out[-1] != out[-1].rstrip()
        ):
            out[-1] += "\u2028" + line
            continue
        else:
            fence = _opens_fence(line)
        out.append(line)
    return "\n".join(out)


def _structure(line: str, credit: bool = False) -> bool:
    """Whether the parser reads `line` as deck structure (in the credit, after the last question, `---`
    lines are the author's own)."""
    heading = ANY_HEADING.match(line)
    misleveled = (
        heading
        and len(heading["hashes"]) <= 2
        and LOOKS_NUMBERED.match(heading["text"].replace("**", "").strip() + " ")
    )
    separator = not credit and SEPARATOR.match(line)
    return bool(separator or QUESTION.match(line) or MARKER.match(line) or misleveled)


def _question(card: Card, followup: Card | None) -> list[str]:
    lines = [_heading(card), ""]
    _, _, extra = card.question.partition("\n\n")
    if extra:
        lines.extend([extra, ""])
    lines.extend([*_section("**Theory:**", card.answer), ""])
    if followup is not None:
        asked = followup.question
        italic = f"*{asked}*"
        if "\n" not in asked and not _structure(asked) and unitalic(italic) == asked:
            asked = italic
        lines.extend(
            [
                *_section("**Follow-up Question:**", asked),
                *_section("**Answer:**", followup.answer),
                "",
            ]
        )
    return lines

"""A deck written as a Markdown deck file (DESIGN.md, "Content format") that parses back to the same cards.

Cards read from Markdown, CSV or Anki hold their text in the form the Markdown parser gives it
(deck_formats.fields), so each field can be written as it is; only the heading, the title and the
follow-up question need care, and an explicit `{#id}` is written when the key is not the number.
"""

from __future__ import annotations

import re

from bot.core.cardtext import escape, plain_inline, unwrap_heading
from bot.core.deck_parser import _EXPLICIT_ID, _fix, _strip_closing_hashes, _unitalic
from bot.core.models import Card, CardKind, Deck

_WHITESPACE = re.compile(r"\s+")


def export_markdown(deck: Deck) -> str:
    """The deck as Markdown: `# Title`, then one `### **N. Question**` block per question."""
    followups = {c.parent_key: c for c in deck.cards if c.kind is CardKind.FOLLOWUP}
    parts = [f"# {_title(deck.title)}", "---", ""]
    for card in deck.main_cards:
        parts.extend(_question(card, followups.get(card.key)))
        parts.extend(["---", ""])
    if deck.credit:
        parts.append(deck.credit)
    return "\n".join(parts).rstrip("\n") + "\n"


def _title(title: str) -> str:
    # As written when that reads back the same; else with its punctuation escaped.
    read = _WHITESPACE.sub(" ", _fix(plain_inline(_strip_closing_hashes(title)))).strip(" *_")
    return title if read == title else escape(title)


def _heading(card: Card) -> str:
    first, _, _ = card.question.partition("\n\n")
    numbered = f"{card.number}. {first}"
    bold = f"**{numbered}**"
    text = bold if unwrap_heading(bold) == numbered else numbered
    if card.key != str(card.number) or _EXPLICIT_ID.search(first):
        text += f" {{#{card.key}}}"
    return f"### {text}"


def _question(card: Card, followup: Card | None) -> list[str]:
    lines = [_heading(card), ""]
    _, _, extra = card.question.partition("\n\n")
    if extra:
        lines.extend([extra, ""])
    lines.extend(["**Theory:**", card.answer, ""])
    if followup is not None:
        asked = followup.question
        italic = f"*{asked}*"
        shown = italic if "\n" not in asked and _unitalic(italic) == asked else asked
        lines.extend(["**Follow-up Question:**", shown, "**Answer:**", followup.answer, ""])
    return lines

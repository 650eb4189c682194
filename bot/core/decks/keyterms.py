"""Key terms: the bold phrases of a model answer, and how much of each a typed answer covers.

Matching forgives what a person typing from memory gets wrong without changing the meaning: word endings
(Snowball stems), an acronym for its long form and back (`convolutional neural networks (CNNs)`), small
typos in long words, hyphens and spacing (`F1-score` ~ `f1 score`), and a few words in between.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from markdown_it.tree import SyntaxTreeNode

from bot.core.cardtext import parse

__all__ = ["Coverage", "TermMatch", "key_terms", "match_key_terms"]


class Coverage(enum.StrEnum):
    COVERED = "covered"
    PARTLY = "partly"
    MISSED = "missed"


@dataclass(frozen=True)
class TermMatch:
    term: str
    coverage: Coverage


_WHITESPACE = re.compile(r"\s+")
_HAS_WORD = re.compile(r"[^\W_]")
# A unit is a word with its inner punctuation: "F1-score", "don't", "t-SNE", "e.g".
_UNIT = re.compile(r"[^\W_]+(?:['’.\-‐‑][^\W_]+)*")
_INNER = re.compile(r"['’.\-‐‑]")
_PARENTHESISED = re.compile(r"\((?P<inner>[^()]*)\)")
_STOPWORDS = frozenset("a an and as at by for from in into of on or the to with".split())
MAX_JOINED = 3  # "mini batch" typed as two units still matches the unit "mini-batch"
GAP = 3  # words allowed in between a term's words ("problem of vanishing gradients")
FUZZY_MIN = 5  # shorter words (ReLU, PCA, K) only match exactly


def key_terms(answer: str) -> tuple[str, ...]:
    """The bold phrases of an answer's Markdown, outside code, de-duplicated (case-insensitively) in order."""
    terms: list[str] = []
    seen: set[str] = set()
    for node in _outer_strong(parse(answer)):
        term = _WHITESPACE.sub(" ", _term_text(node)).strip()
        folded = term.casefold()
        if _HAS_WORD.search(term) and folded not in seen:
            seen.add(folded)
            terms.append(term)
    return tuple(terms)


def match_key_terms(terms: Iterable[str], typed: str) -> list[TermMatch]:
    """How well `typed` covers each term, in the terms' order."""
    units = _units(typed)
    return [TermMatch(term, _coverage(term, units)) for term in terms]


# --- extraction -------------------------------------------------------------------------------------------


def _outer_strong(node: SyntaxTreeNode) -> Iterable[SyntaxTreeNode]:
    for child in node.children:
        if child.type == "strong":
            yield child
        elif child.type not in ("code_inline", "fence", "code_block"):
            yield from _outer_strong(child)


def _term_text(node: SyntaxTreeNode) -> str:
    out = []
    for child in node.children:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append(" ")
        else:
            out.append(_term_text(child))
    return "".join(out)


# --- matching ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Unit:
    joined: str  # casefolded, inner punctuation dropped: "f1score"
    keys: frozenset[str]  # stems it answers to


@cache
def _stemmer() -> Any:
    # Imported on the first typed answer: loading the decks at start-up needs no stemmer.
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=4096)
def _keys(joined: str) -> frozenset[str]:
    stemmer = _stemmer()
    keys = {joined, stemmer.stemWord(joined)}
    # Snowball keeps the "s" of acronyms ("cnns", "grus"): a plain "s" plural counts as the singular.
    if len(joined) >= 4 and joined.endswith("s") and not joined.endswith("ss"):
        keys.add(stemmer.stemWord(joined[:-1]))
    return frozenset(keys)


def _unit(joined: str) -> _Unit:
    return _Unit(joined, _keys(joined))


def _units(text: str) -> list[_Unit]:
    text = unicodedata.normalize("NFKC", text).casefold()
    return [_unit(_INNER.sub("", m.group())) for m in _UNIT.finditer(text)]


def _same(want: _Unit, have: _Unit) -> bool:
    if want.keys & have.keys:
        return True
    if len(want.joined) < FUZZY_MIN or want.joined[0] != have.joined[0]:
        return False  # typos rarely hit the first letter; "precision" is not "decision"
    if any(c.isdigit() for c in want.joined + have.joined):
        return False  # "F1" and "F2" are different things, not a typo
    allowed = 1 if len(want.joined) < 10 else 2
    from rapidfuzz.distance import OSA  # here, not at start-up: only a near miss needs it

    return OSA.distance(want.joined, have.joined, score_cutoff=allowed) <= allowed


def _positions(want: _Unit, typed: Sequence[_Unit]) -> list[int]:
    """Where `want` is in `typed`, alone or as up to MAX_JOINED consecutive units run together."""
    found = []
    for i in range(len(typed)):
        joined = ""
        for piece in typed[i : i + MAX_JOINED]:
            joined += piece.joined
            if _same(want, typed[i] if joined == typed[i].joined else _unit(joined)):
                found.append(i)
                break
            if len(joined) > len(want.joined) + 2:
                break
    return found


def _variants(term: str) -> list[list[_Unit]]:
    """The term's words without stop words; `long form (ACRONYM)` gives both the long form and the acronym."""
    outside = _PARENTHESISED.sub(" ", term)
    inside = [m["inner"] for m in _PARENTHESISED.finditer(term)]
    variants = []
    for text in (outside, *inside):
        units = _units(text)
        significant = [u for u in units if u.joined not in _STOPWORDS]
        if significant or units:
            variants.append(significant or units)
    return variants or [_units(term)]


def _coverage(term: str, typed: Sequence[_Unit]) -> Coverage:
    best = Coverage.MISSED
    for wanted in _variants(term):
        if not wanted:
            continue
        places = [_positions(unit, typed) for unit in wanted]
        found = sum(1 for p in places if p)
        if found == len(wanted) and _window(places) <= len(wanted) + GAP:
            return Coverage.COVERED
        if len(wanted) >= 2 and found and 2 * found >= len(wanted):
            best = Coverage.PARTLY
    return best


def _window(places: list[list[int]]) -> int:
    """The fewest consecutive typed units holding one place of every wanted unit (a sliding window)."""
    events = sorted((pos, which) for which, found in enumerate(places) for pos in found)
    need = len(places)
    counts = [0] * need
    have = 0
    best = events[-1][0] - events[0][0] + 1
    left = 0
    for pos, which in events:
        counts[which] += 1
        have += counts[which] == 1
        while have == need:
            first_pos, first_which = events[left]
            best = min(best, pos - first_pos + 1)
            counts[first_which] -= 1
            have -= counts[first_which] == 0
            left += 1
    return best

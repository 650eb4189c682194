"""Key terms: the bold phrases of an answer, outside code, found in one pass over each line."""

from __future__ import annotations

import re
from collections.abc import Iterable

# CommonMark allows up to three spaces of indentation before block syntax; four make a code block.
FENCE_OPEN = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_TICKS = re.compile(r"`+")
_WHITESPACE = re.compile(r"\s+")
_WORD = re.compile(r"[^\W_]+")


def key_terms(answer: str) -> tuple[str, ...]:
    """The bold phrases (`**...**`) of an answer, stripped and de-duplicated (case-insensitively) in order.

    Code is skipped: `**` there is Python's power operator, not bold.
    """
    terms: list[str] = []
    seen: set[str] = set()
    for line in prose_lines(answer.split("\n")):
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


def prose_lines(lines: Iterable[str]) -> Iterable[str]:
    """The lines outside fenced code blocks."""
    fence: str | None = None
    for line in lines:
        if fence is None:
            opened = FENCE_OPEN.match(line)
            if opened and not (opened["fence"][0] == "`" and "`" in opened["info"]):
                fence = opened["fence"]
                continue
            yield line
        elif closes_fence(line, fence):
            fence = None


def closes_fence(line: str, fence: str) -> bool:
    # A closing fence uses the same character and is at least as long: ``` is closed by `````.
    stripped = line.strip()
    return (
        len(line) - len(line.lstrip(" ")) <= 3 and len(stripped) >= len(fence) and set(stripped) == {fence[0]}
    )

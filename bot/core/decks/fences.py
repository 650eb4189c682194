"""Fenced code blocks in deck files: where they open and close, and the lines outside them."""

from __future__ import annotations

import re
from collections.abc import Iterable

# CommonMark allows up to three spaces of indentation before block syntax; four make a code block.
FENCE_OPEN = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


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

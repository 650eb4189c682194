"""Card text is Markdown: parse it with a real parser and render it through a platform's `Dialect`.

Core wording is different: plain text with `**bold**` as its only markup (see messages.Section). Both kinds
go through the same dialect, so each platform escapes text and writes its markup in one place.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it.tree import SyntaxTreeNode

__all__ = [
    "PARSE_LIMIT",
    "Dialect",
    "bold_lead",
    "escape",
    "parse",
    "plain",
    "plain_inline",
    "render",
    "render_core",
    "unwrap_heading",
]

# No chat message shows more than this, and markdown-it-py, while linear, spends ~20 µs a character on
# pathological input (a long line of `[`): longer text is cut before parsing.
PARSE_LIMIT = 20_000

_MD = MarkdownIt("commonmark", {"html": False}).enable("strikethrough")
_ASCII_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_EDGE_SPACES = re.compile(r"^[^\S\n]+|[^\S\n]+$", re.MULTILINE)
_BLANK_RUNS = re.compile(r"\n{3,}")
_WHOLE_BOLD = re.compile(r"^\*\*(?P<inner>.*)\*\*$")
_BOLD_NUMBER = re.compile(r"^\*\*(?P<number>\d+[.)])\*\*")


class Dialect:
    """How one platform writes text and markup. This base writes plain, readable text (the terminal)."""

    bullet = "-"

    def text(self, text: str, line_start: bool) -> str:
        """Literal text (never contains a newline); `line_start` when it begins a line."""
        return text

    def code(self, code: str) -> str:
        return f"`{code}`"

    def strong(self, inner: str) -> str:
        return inner

    def emph(self, inner: str) -> str:
        return inner

    def strike(self, inner: str) -> str:
        return inner

    def link(self, label: str, href: str) -> str:
        return href if label == self.text(href, False) else f"{label} ({href})"

    def code_block(self, code: str, lang: str) -> str:
        return "\n".join("    " + line for line in code.split("\n"))

    def heading(self, inner: str) -> str:
        return inner

    def quote(self, inner: str) -> str:
        return "\n".join("> " + line for line in inner.split("\n"))

    def rule(self) -> str:
        return "———"


# The tree and its renderers recurse once per nesting level: text nested deeper (thousands of `*` or `~~`)
# would exceed Python's recursion limit, so it is shown literally instead.
NESTING_LIMIT = 64


def _too_deep(tokens: Sequence[Token], level: int = 0) -> bool:
    for token in tokens:
        level += token.nesting
        if level > NESTING_LIMIT or (token.children and _too_deep(token.children, level)):
            return True
    return False


@lru_cache(maxsize=512)
def parse(text: str) -> SyntaxTreeNode:
    if len(text) > PARSE_LIMIT:
        text = text[:PARSE_LIMIT] + "…"
    tokens = _MD.parse(text)
    if _too_deep(tokens):
        tokens = _MD.parse(escape(text))
    return SyntaxTreeNode(tokens)


def render(markdown: str, dialect: Dialect) -> str:
    """Card Markdown in the dialect's syntax."""
    return _blocks(parse(markdown).children, dialect).strip("\n")


def plain(markdown: str) -> str:
    """Card Markdown as plain text (terminal, notifications, key terms)."""
    return render(markdown, Dialect())


def plain_inline(markdown: str) -> str:
    """One line of Markdown (a heading's text) as plain text: no block syntax, just its words."""
    tokens = _MD.parseInline(markdown[:PARSE_LIMIT])
    if _too_deep(tokens):
        tokens = _MD.parseInline(escape(markdown[:PARSE_LIMIT]))
    tree = SyntaxTreeNode(tokens)
    return "".join(_inline(node.children, Dialect()) for node in tree.children)


def render_core(text: str, dialect: Dialect) -> str:
    """Core wording (plain text, `**bold**` pairs the only markup) in the dialect's syntax."""
    lines = []
    for line in text.split("\n"):
        parts = line.split("**")
        if len(parts) % 2 == 0:  # an unpaired ** stays literal
            last = parts.pop()
            parts[-1] += "**" + last
        out: list[str] = []
        for i, part in enumerate(parts):
            written = dialect.text(part, line_start=not any(out)) if part else ""
            out.append(dialect.strong(written) if i % 2 and part.strip() else written)
        lines.append("".join(out))
    return "\n".join(lines)


def escape(text: str) -> str:
    """Markdown that reads back as exactly `text` (someone's typed answer shown beside card text)."""
    text = _BLANK_RUNS.sub("\n\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    escaped = _ASCII_PUNCTUATION.sub(r"\\\1", text)
    # Leading spaces would make a code block and trailing ones a line break: write them as entities.
    return _EDGE_SPACES.sub(lambda m: "".join(f"&#{ord(c)};" for c in m.group()), escaped)


def bold_lead(markdown: str) -> str:
    """The Markdown with its first paragraph in bold (a question's own words), when that is plain prose."""
    blocks = parse(markdown).children
    first = blocks[0] if blocks else None
    if first is None or first.type != "paragraph" or first.map is None or len(markdown) > PARSE_LIMIT:
        return markdown
    if any(node.type == "strong" for node in first.children[0].children):
        return markdown
    lines = markdown.split("\n")
    start, end = first.map
    lines[start] = "**" + lines[start].lstrip()
    lines[end - 1] = lines[end - 1].rstrip() + "**"
    bolded = "\n".join(lines)
    # Only when that reads back as one bold run: "**" next to some punctuation would not.
    inline = [n for n in parse(bolded).children[0].children[0].children if n.type != "text" or n.content]
    return bolded if len(inline) == 1 and inline[0].type == "strong" else markdown


def unwrap_heading(text: str) -> str:
    """A question heading's Markdown without the bold that decks wrap it in (`**1. What is X?**`).

    Only bold markup goes: `**kwargs` in a code span is code and stays.
    """
    whole = _WHOLE_BOLD.match(text)
    if whole:
        blocks = parse(text).children
        if len(blocks) == 1 and blocks[0].type == "paragraph":
            inline = [n for n in blocks[0].children[0].children if n.type != "text" or n.content]
            if len(inline) == 1 and inline[0].type == "strong":
                return whole["inner"].strip()
    return _BOLD_NUMBER.sub(r"\g<number>", text)


# --- rendering --------------------------------------------------------------------------------------------


def _blocks(nodes: list[SyntaxTreeNode], dialect: Dialect) -> str:
    return "\n\n".join(shown for shown in (_block(node, dialect) for node in nodes) if shown)


def _block(node: SyntaxTreeNode, dialect: Dialect) -> str:
    kind = node.type
    if kind == "paragraph":
        return _inline(node.children[0].children, dialect)
    if kind == "heading":
        return dialect.heading(_inline(node.children[0].children, dialect))
    if kind in ("fence", "code_block"):
        return dialect.code_block(node.content.removesuffix("\n"), node.info.strip().split(" ")[0])
    if kind in ("bullet_list", "ordered_list"):
        return _list(node, dialect)
    if kind == "blockquote":
        return dialect.quote(_blocks(node.children, dialect))
    if kind == "hr":
        return dialect.rule()
    return dialect.text(node.content, True)  # html is off: nothing else is expected


def _list(node: SyntaxTreeNode, dialect: Dialect) -> str:
    items = []
    for item in node.children:
        marker = f"{item.info}{item.markup}" if node.type == "ordered_list" else dialect.bullet
        body = "\n".join(_block(child, dialect) for child in item.children)
        pad = " " * (len(marker) + 1)
        first, *rest = body.split("\n")
        items.append("\n".join([f"{marker} {first}", *(pad + line if line else line for line in rest)]))
    return "\n".join(items)


def _inline(nodes: list[SyntaxTreeNode], dialect: Dialect, line_start: bool = True) -> str:
    out: list[str] = []
    for node in nodes:
        kind = node.type
        if kind == "text":
            if not node.content:  # markdown-it leaves empty text beside emphasis
                continue
            out.append(dialect.text(node.content, line_start))
        elif kind in ("softbreak", "hardbreak"):
            out.append("\n")
            line_start = True
            continue
        elif kind == "code_inline":
            out.append(dialect.code(node.content))
        elif kind == "strong":
            out.append(dialect.strong(_inline(node.children, dialect, line_start)))
        elif kind == "em":
            out.append(dialect.emph(_inline(node.children, dialect, line_start)))
        elif kind == "s":
            out.append(dialect.strike(_inline(node.children, dialect, line_start)))
        elif kind in ("link", "image"):
            href = str(node.attrs.get("href") or node.attrs.get("src") or "")
            out.append(dialect.link(_inline(node.children, dialect, line_start), href))
        else:
            out.append(dialect.text(node.content, line_start))
        line_start = False
    return "".join(out)

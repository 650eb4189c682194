"""Text that is not ours (a typed answer, a name, literal deck text) reads back exactly and styles nothing."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.adapters.discord.render import DISCORD, clip_markdown
from bot.adapters.slack.render import ZWSP, SlackMrkdwn, split_text
from bot.core import cardtext
from bot.core.decks.keyterms import key_terms

MARKUP = list("*_`~[]()<>#!\\&;-+.1 \t|@=:")
# Surrogates and control characters never reach us as text; \r is normalised before anything else.
TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from([*MARKUP, "\n"]), max_size=80
)
LINE = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(MARKUP), max_size=60)


@settings(max_examples=500)
@given(TEXT)
@example("    indented, not code\n> not a quote\n1. not a list\n- nor this\n# nor a heading")
@example("**not bold** `not code` [not](a link) &amp; \\")
def test_escaped_text_reads_back_exactly(text: str) -> None:
    text = text.strip("\n")
    assert cardtext.plain(cardtext.escape(text)) == re.sub(r"\n{3,}", "\n\n", text)


def discord_unescape(text: str) -> str:
    # Discord drops a backslash in front of any punctuation and shows the character as is.
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)


@settings(max_examples=500)
@given(LINE.filter(lambda t: "://" not in t))
@example("<@123456789012345678> @everyone <#general> <t:1:R> -# small")
def test_discord_literal_text_has_no_live_markup(text: str) -> None:
    shown = DISCORD.text(text, line_start=True)
    assert discord_unescape(shown) == text
    live = re.sub(r"\\.", "", shown)  # what is left once escaped characters are taken out
    assert not re.search(r"[*_~|`<\[\]\\]", live)
    assert not re.match(r"[ \t]*(\d*[.)]|[-+>#])", shown)


@settings(max_examples=500)
@given(LINE.filter(lambda t: "/" not in t))
@example("*not bold* _nor_ ~this~ `nor code` <!channel> <@U1> & a_b")
def test_slack_literal_text_has_no_live_markup(text: str) -> None:
    shown = SlackMrkdwn().text(text, line_start=True)
    assert html.unescape(shown.replace(ZWSP, "")) == text.replace(ZWSP, "")
    assert not re.search(r"[<>]|&(?!amp;|lt;|gt;)", shown)
    # Slack styles only from a word's edge: every formatting character touches a letter or a ZWSP.
    assert "``" not in shown and "**" not in shown
    for run in re.finditer(r"[*_~`]+", shown):
        before = shown[run.start() - 1] if run.start() else ""
        after = shown[run.end()] if run.end() < len(shown) else ""
        assert (before == ZWSP or before.isalnum()) and (after == ZWSP or after.isalnum())


def test_discord_clip_closes_a_code_block_it_cuts() -> None:
    code = "```python\n" + "x = 2 ** 10\n" * 500 + "```"
    clipped = clip_markdown(cardtext.render(code, DISCORD), 1024)
    assert len(clipped) <= 1024 and clipped.startswith("```python\nx = 2 ** 10\n")
    assert clipped.endswith("\n```") and clipped.count("```") == 2


def test_slack_pieces_each_keep_their_code_block_closed() -> None:
    text = cardtext.render("Before.\n\n```\n" + "a < b\n" * 1200 + "```\n\nAfter.", SlackMrkdwn())
    pieces = split_text(text)
    assert len(pieces) >= 3 and all(len(p) <= 3000 for p in pieces)
    assert all(p.count("```") % 2 == 0 for p in pieces)
    assert pieces[1].startswith("```\na &lt; b") and pieces[-1].endswith("```\n\nAfter.")


def test_code_containing_fences_cannot_end_its_block() -> None:
    card = "````\n```\nnot the end\n```\n````"
    for shown in (cardtext.render(card, DISCORD), cardtext.render(card, SlackMrkdwn())):
        assert shown.count("```") == 2 and "not the end" in shown
    assert cardtext.render("``a `b` c``", DISCORD) == "`` a `b` c ``"


@settings(max_examples=500)
@given(
    st.lists(st.sampled_from(["```", "**", "`", "- ", "1. ", "> ", "    ", "\n", "a", "*", "_", "[x](y)"]))
)
def test_any_card_text_renders_with_its_code_blocks_closed(pieces: list[str]) -> None:
    text = "".join(pieces)
    for dialect in (DISCORD, SlackMrkdwn()):
        assert cardtext.render(text, dialect).count("```") % 2 == 0
    cardtext.plain(text)
    assert all(term and "\n" not in term for term in key_terms(text))


@pytest.mark.parametrize("mark", ["*", "**", "~~", "_"])
def test_emphasis_nested_past_the_recursion_limit_is_shown_literally(mark: str) -> None:
    # Found by the deck fuzz test: 2,000 nested `**` made the syntax tree exceed Python's recursion limit.
    text = "x " + mark * 2000 + "deep" + mark * 2000  # not at the line start: `~~~` there opens a fence
    for dialect in (cardtext.Dialect(), DISCORD, SlackMrkdwn()):
        assert "deep" in cardtext.render(text, dialect)
    assert "deep" in cardtext.plain_inline(text)

"""Card text is Markdown: what a member sees of code, lists and links on Discord, Slack and the terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.adapters import console
from bot.adapters.discord.render import render
from bot.adapters.slack.render import fallback_text, message_blocks
from bot.bootstrap import build_service
from bot.core.messages import Message
from bot.core.model.models import Caller
from bot.core.service import StudyService
from tests.conftest import REPO, FakeClock, member

FENCE = "```"
DECK = f"""# Python
---

### **1. What does `**kwargs` collect in `def f(**kwargs)`?**

**Theory:**
Keyword arguments, as a **dict**. `2 ** 10` is 1024, and so is 2 ** 10.

{FENCE}python
def f(**kwargs):
    return 2 ** 10
{FENCE}

- a `list` item
- see [the docs](https://docs.python.org/3/)

Careful: @everyone <@123456789012345678> <@&223456789012345678> _not styled_ by *you*.

---
"""
ALICE = member("alice")


@pytest.fixture
async def python_deck(tmp_path: Path, db_url: str, clock: FakeClock) -> AsyncIterator[StudyService]:
    content = tmp_path / "content"
    content.mkdir()
    (content / "python.md").write_text(DECK, encoding="utf-8")
    service = await build_service(db_url, [content], clock=clock)
    yield service
    await service.store.close()  # type: ignore[attr-defined]


async def question_and_answer(
    service: StudyService, typed: str | None = None, who: Caller = ALICE
) -> tuple[Message, Message]:
    question = await service.quiz(who)
    ask = question.actions[0].id.split(":")[1]
    if typed is None:
        answer = await service.act(who, f"reveal:{ask}")
    else:
        answer = await service.submit(who, f"answer:{ask}", typed)
    assert isinstance(answer, Message)
    return question, answer


def discord_payload(message: Message) -> str:
    """Every text of the embed as Discord receives it."""
    embed = render(message).embed.to_dict()
    parts = [str(embed.get("title", "")), str(embed.get("description", ""))]
    parts += [f"{f['name']}\n{f['value']}" for f in embed.get("fields", [])]
    return "\n".join(parts)


def slack_payload(message: Message) -> str:
    return "\n".join(block_texts(message_blocks(message)))


def block_texts(blocks: list[dict[str, Any]]) -> list[str]:
    found = []
    for block in blocks:
        if "text" in block:
            found.append(block["text"]["text"])
        found += [e["text"] for e in block.get("elements", []) if e.get("type") == "mrkdwn"]
    return found


async def test_code_survives_in_the_terminal(python_deck: StudyService) -> None:
    question, answer = await question_and_answer(python_deck)
    shown = console.render(question)
    assert "What does `**kwargs` collect in `def f(**kwargs)`?" in shown
    revealed = console.render(answer)
    assert "`2 ** 10` is 1024, and so is 2 ** 10." in revealed
    assert "def f(**kwargs):" in revealed and "    return 2 ** 10" in revealed
    assert "- a `list` item" in revealed and "- see the docs (https://docs.python.org/3/)" in revealed
    assert "```" not in revealed and "**dict**" not in revealed  # readable: no Markdown markers left


async def test_code_lists_and_links_render_on_discord(python_deck: StudyService) -> None:
    question, answer = await question_and_answer(python_deck)
    assert "**What does `**kwargs` collect in `def f(**kwargs)`?**" in discord_payload(question)
    shown = discord_payload(answer)
    assert "Keyword arguments, as a **dict**. `2 ** 10` is 1024, and so is 2 \\*\\* 10." in shown
    assert f"{FENCE}python\ndef f(**kwargs):\n    return 2 ** 10\n{FENCE}" in shown
    assert "- a `list` item\n- see [the docs](https://docs.python.org/3/)" in shown


async def test_deck_text_cannot_mention_or_style_on_discord(python_deck: StudyService) -> None:
    _question, answer = await question_and_answer(python_deck)
    shown = discord_payload(answer)
    assert (
        "Careful: @everyone \\<@123456789012345678> \\<@&223456789012345678> *not styled* by *you*." in shown
    )


async def test_typed_answer_is_shown_as_typed_on_discord(python_deck: StudyService) -> None:
    typed = "**not bold** `x` <@123456789012345678> @here\n> not a quote\n1. not a list\n# nor a heading"
    _question, answer = await question_and_answer(python_deck, typed)
    shown = discord_payload(answer)
    assert (
        "\\*\\*not bold\\*\\* \\`x\\` \\<@123456789012345678> @here\n"
        "\\> not a quote\n1\\. not a list\n\\# nor a heading" in shown
    )


async def test_code_lists_and_links_render_on_slack(python_deck: StudyService) -> None:
    question, answer = await question_and_answer(python_deck)
    assert "*What does `**kwargs` collect in `def f(**kwargs)`?*" in slack_payload(question)
    shown = slack_payload(answer)
    assert "Keyword arguments, as a *dict*. `2 ** 10` is 1024, and so is 2 \u200b*\u200b*\u200b 10." in shown
    assert f"{FENCE}\ndef f(**kwargs):\n    return 2 ** 10\n{FENCE}" in shown
    assert "• a `list` item\n• see <https://docs.python.org/3/|the docs>" in shown
    assert "&lt;@123456789012345678&gt; &lt;@&amp;223456789012345678&gt; _not styled_ by _you_." in shown
    assert "2 ** 10" in fallback_text(answer)  # the notification text is plain


async def test_typed_answer_is_shown_as_typed_on_slack(python_deck: StudyService) -> None:
    _question, answer = await question_and_answer(python_deck, "**not bold** & `x` <!here>")
    shown = slack_payload(answer)
    z = "\u200b"
    assert f"{z}*{z}*not bold*{z}*{z} &amp; {z}`x`{z} &lt;!here&gt;" in shown


async def test_seed_deck_bold_and_lists_on_each_platform(service: StudyService) -> None:
    # Card 8 of the bundled deck: a bulleted list whose items start with a bold term.
    answer = Message(
        title="t",
        sections=tuple(s for s in (await _seed_reveal(service, 8)).sections if s.heading == "Model answer"),
    )
    assert "\n- **Classification** is used for categorical outcomes (e.g., spam" in discord_payload(answer)
    assert "\n• *Classification* is used for categorical outcomes (e.g., spam" in slack_payload(answer)
    assert "\n    - Classification is used for categorical outcomes (e.g., spam" in console.render(answer)


async def _seed_reveal(service: StudyService, number: int) -> Message:
    # Skip ahead to the card: new cards come in deck order, each main card before its follow-up.
    for _ in range(40):
        question = await service.quiz(ALICE)
        ask = question.actions[0].id.split(":")[1]
        if question.title.endswith(f"#{number}"):
            revealed = await service.act(ALICE, f"reveal:{ask}")
            assert isinstance(revealed, Message)
            return revealed
        await service.act(ALICE, f"skip:{ask}")
    raise AssertionError(f"card {number} never came: {question.title!r}")


def test_terminal_process_shows_code_cards_readably(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "python.md").write_text(DECK, encoding="utf-8")
    env = {**os.environ, "STUDYBOT_DATA_DIR": str(tmp_path / "data"), "STUDYBOT_CONTENT": str(content)}
    env.pop("DATABASE_URL", None)
    typed = "It collects **keyword** args into a dict, `2 ** 10`"
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "console", "--user", "alice", "--db", str(tmp_path / "t.db")],
        input=f"/quiz\nwrite my answer\n{typed}\n",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env=env,
    )
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    out = result.stdout
    assert "Your answer — What does `**kwargs` collect in `def f(**kwargs)`?" in out
    assert f"Your answer:\n    {typed}\n" in out  # as typed, markers and all
    assert "Model answer:\n    Keyword arguments, as a dict. `2 ** 10` is 1024, and so is 2 ** 10." in out
    assert "\n        def f(**kwargs):\n            return 2 ** 10\n" in out
    assert "Key terms:\n    Covered: dict\n    Missed: none\n" in out


async def test_reveal_shows_terms_covered_partly_and_missed(service: StudyService) -> None:
    # Card 1 of the bundled deck: key terms CNNs and RNNs, each as `long form (ACRONYM)`.
    _question, answer = await question_and_answer(service, "Convolutional nets, like a CNN")
    assert "Key terms:\n    Covered: convolutional neural networks (CNNs)\n    Missed: recurrent" in (
        console.render(answer)
    )
    _question, answer = await question_and_answer(service, "recurrent neural nets", member("bob"))
    shown = console.render(answer)
    assert "Partly: recurrent neural networks (RNNs)" in shown
    assert "Key terms:\n    Covered: none\n    Partly: recurrent neural networks (RNNs)\n" in shown
    assert "Partly: recurrent neural networks \\(RNNs\\)" not in discord_payload(answer)
    assert "Partly: recurrent neural networks (RNNs)" in discord_payload(answer)

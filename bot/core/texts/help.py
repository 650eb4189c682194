"""The wording of /help."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.messages import Message, Section


def help_message(commands: Sequence[str]) -> Message:
    """/help: `commands` are the usage lines of the command table (core/commands.py)."""
    return Message(
        title="studybot — learn together with spaced repetition",
        sections=(
            Section(
                "\n".join(commands),
                "Commands",
            ),
            Section(
                "Reveal the answer, then grade yourself honestly: Again, Hard, Good or Easy. "
                "The scheduler brings each card back just before you would forget it. "
                "Every graded card earns the same points, so honesty never costs you.",
                "How it works",
            ),
        ),
    )

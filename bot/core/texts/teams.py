"""The wording of teams."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.messages import Message, Section
from bot.core.model.models import (
    TeamSize,
)
from bot.core.texts.words import plural


def teams(sizes: Sequence[TeamSize], own_team_id: int | None) -> Message:
    if not sizes:
        return Message(
            title="There are no teams here yet.",
            sections=(Section("Start one with /team join NAME; others join it by the same name."),),
        )
    lines = [
        f"{t.name} — {plural(t.members, 'member')}" + (" (yours)" if t.team_id == own_team_id else "")
        for t in sizes
    ]
    return Message(
        title="Teams",
        sections=(Section("\n".join(lines)), Section("Join one with /team join NAME, or start your own.")),
    )

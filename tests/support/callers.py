"""Callers as an adapter would build them, and the tests' own decks."""

from __future__ import annotations

from pathlib import Path

from bot.core.model.models import Caller

REPO = Path(__file__).resolve().parents[2]
# The tests' own decks (a copy of the bundled one), so a deck added to content/ changes no test.
CONTENT = REPO / "tests" / "fixtures" / "decks"


def member(name: str, workspace: str = "guild-1", tz: str | None = None, admin: bool = False) -> Caller:
    return Caller(
        platform="test",
        workspace_ref=workspace,
        user_ref=name,
        display_name=name,
        timezone=tz,
        is_admin=admin,
    )

"""A scenario both the memory store and the real store must pass: a question taken out of a deck is not
the next question of the day, even when the deck is reloaded shortly before the post."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from bot.core.commands import run_text_command
from bot.core.service import StudyService
from tests.daily_helpers import RecordingPoster, make_runner
from tests.support.callers import member
from tests.support.clock import FakeClock
from tests.support.decks import GOOD

ADMIN = member("ada", admin=True)
QUESTIONS = {"1": "What is an atom?", "2": "What is a molecule?"}


async def removed_question_is_not_posted(
    tmp_path: Path, build: Callable[[list[Path], FakeClock], Awaitable[StudyService]]
) -> None:
    folder = tmp_path / "decks"
    folder.mkdir()
    deck = folder / "chem.md"
    deck.write_text(GOOD, encoding="utf-8")
    clock = FakeClock(datetime(2026, 3, 4, 8, 0, tzinfo=UTC))
    service = await build([folder], clock)
    try:
        await run_text_command(service, ADMIN, "/daily set general 09:00 UTC chem")
        poster = RecordingPoster()
        clock.set(datetime(2026, 3, 4, 9, 0, tzinfo=UTC))
        await make_runner(service, poster).sweep()
        first = poster.posts[0].message.plain_text()
        # Take out the question not posted yet, and reload; the next day's post must not be it.
        unposted = next(n for n, q in QUESTIONS.items() if q not in first)
        start, end = (
            GOOD.index(f"### **{unposted}."),
            (GOOD.index("### **2.") if unposted == "1" else len(GOOD)),
        )
        deck.write_text(GOOD[:start] + GOOD[end:], encoding="utf-8")
        await service.library.reload()
        clock.set(datetime(2026, 3, 5, 9, 0, tzinfo=UTC))
        await make_runner(service, poster).sweep()
        assert QUESTIONS[unposted] not in poster.posts[1].message.plain_text()
    finally:
        await service.store.close()  # type: ignore[attr-defined]

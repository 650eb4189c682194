"""The real store on a question taken out of a deck just before the question of the day goes out."""

from __future__ import annotations

from pathlib import Path

from bot.bootstrap import build_service
from bot.core.service import StudyService
from tests.support.clock import FakeClock
from tests.support.retired import removed_question_is_not_posted


async def test_a_removed_question_is_not_the_next_question_of_the_day(db_url: str, tmp_path: Path) -> None:
    async def on_database(folders: list[Path], clock: FakeClock) -> StudyService:
        return await build_service(db_url, folders, clock=clock)

    await removed_question_is_not_posted(tmp_path, on_database)

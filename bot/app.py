"""The composition root: builds the store, loads decks and hands back a ready StudyService."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bot.core.ports import Clock
from bot.core.service import StudyService
from bot.store.engine import create_engine
from bot.store.migrate import upgrade
from bot.store.sql_store import SqlStore


async def build_service(
    db_url: str,
    content: Sequence[Path],
    clock: Clock | None = None,
    answer_limit: int = 2000,
) -> StudyService:
    """Migrate the database, load the decks (valid ones served, broken ones reported) and wire the core."""
    await upgrade(db_url)
    store = SqlStore(create_engine(db_url))
    service = StudyService(store, clock, answer_limit=answer_limit, content=content)
    await service.library.reload()
    return service

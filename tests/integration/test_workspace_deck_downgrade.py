"""Taking the schema back before migration 0007 (workspace decks): a workspace's own deck is retired, never
turned into a bundled deck offered in every workspace."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from bot.bootstrap import open_engine
from bot.store.migrate import downgrade, upgrade
from bot.store.tables import cards, decks, workspaces

WHEN = datetime(2026, 12, 1, tzinfo=UTC)


async def test_a_workspace_deck_is_retired_by_the_downgrade_not_offered_everywhere(db_url: str) -> None:
    engine = open_engine(db_url)
    try:
        await upgrade(engine)
        async with engine.begin() as conn:
            await conn.execute(
                sa.insert(workspaces).values(id="test:guild-1", platform="test", created_at=WHEN)
            )
            for deck_id, owner in (("ws-1-python", "test:guild-1"), ("bundled", None)):
                await conn.execute(
                    sa.insert(decks).values(id=deck_id, title=deck_id, updated_at=WHEN, workspace_id=owner)
                )
                await conn.execute(
                    sa.insert(cards).values(
                        deck_id=deck_id,
                        card_key="c1",
                        number=1,
                        kind="main",
                        question="Q?",
                        answer="A.",
                        key_terms=[],
                        position=1,
                    )
                )
        await downgrade(engine, "0006")
        async with engine.connect() as conn:
            offered = {
                (row.id, bool(row.active))
                for row in await conn.execute(sa.text("SELECT id, active FROM decks"))
            }
            cards_offered = {
                (row.deck_id, bool(row.active))
                for row in await conn.execute(sa.text("SELECT deck_id, active FROM cards"))
            }
        assert offered == {("ws-1-python", False), ("bundled", True)}
        assert cards_offered == {("ws-1-python", False), ("bundled", True)}
    finally:
        await engine.dispose()

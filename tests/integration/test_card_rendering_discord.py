"""What the Discord API receives for a card with code, driven through the fake Discord REST API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.bootstrap import build_service
from bot.core.service import StudyService
from tests.conftest import FakeClock
from tests.fakes.discord.fixtures import DiscordEnv
from tests.fakes.discord.server import MODAL, User, walk
from tests.integration.test_card_rendering import DECK, FENCE

pytest_plugins = ("tests.fakes.discord.fixtures",)  # the fake_discord and discord_env fixtures

ALICE = User(1001, "Alice")


@pytest.fixture
async def service(tmp_path: Path, db_url: str, clock: FakeClock) -> AsyncIterator[StudyService]:
    content = tmp_path / "content"
    content.mkdir()
    (content / "python.md").write_text(DECK, encoding="utf-8")
    svc = await build_service(db_url, [content], clock=clock)
    yield svc
    await svc.store.close()  # type: ignore[attr-defined]


def button(message: dict[str, object], prefix: str) -> str:
    ids = [str(c.get("custom_id")) for c in walk(message.get("components", []))]  # type: ignore[arg-type]
    return next(i for i in ids if i.startswith(prefix))


async def test_a_code_card_as_discord_receives_it(discord_env: DiscordEnv) -> None:
    bot = discord_env.driver
    quiz = await bot.slash("quiz", ALICE)
    [embed] = quiz.callback.data["embeds"]
    assert embed["description"] == "**What does `**kwargs` collect in `def f(**kwargs)`?**"

    opened = await bot.click(quiz.message, button(quiz.message, "write:"), ALICE)
    assert opened.callback.type == MODAL
    shown = [c["content"] for c in walk(opened.callback.data["components"]) if c.get("type") == 10]
    assert shown == ["What does `**kwargs` collect in `def f(**kwargs)`?"]

    typed = "**mine** <@1002> @everyone"
    answer = await bot.submit(opened.callback, typed, ALICE, message=quiz.message)
    body = answer.callback.body
    assert body["data"]["allowed_mentions"] == {"parse": []}  # nobody is pinged, whatever is shown
    fields = {f["name"]: f["value"] for f in body["data"]["embeds"][0]["fields"]}
    assert fields["Your answer"] == "\\*\\*mine\\*\\* \\<@1002> @everyone"
    assert f"{FENCE}python\ndef f(**kwargs):\n    return 2 ** 10\n{FENCE}" in fields["Model answer"]
    assert fields["Key terms"] == "Covered: none\nMissed: dict"

"""A reminder on Discord, end to end through discord.py and the fake API: the DM channel is created
(POST /users/@me/channels), the reminder posted in it, and its Start review button, clicked in the DM,
leads to a graded card. A member whose DMs are closed (403, code 50007) costs one call, then is paused."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.commands import run_text_command
from bot.core.messages import Message
from bot.core.model.models import Caller
from bot.core.service import StudyService
from bot.schedule.outreach import OutreachRunner
from tests.conftest import FakeClock
from tests.fakes.discord.driver import button
from tests.fakes.discord.fixtures import DiscordEnv
from tests.fakes.discord.server import GUILD_ID, UPDATE_MESSAGE, User

pytest_plugins = ("tests.fakes.discord.fixtures",)

ALICE = User(1001, "Alice")
TOKYO = ZoneInfo("Asia/Tokyo")


async def due_card_and_reminder(service: StudyService, clock: FakeClock) -> None:
    alice = Caller("discord", str(GUILD_ID), str(ALICE.id), "Alice")
    clock.set(datetime(2026, 3, 3, 9, 0, tzinfo=TOKYO))
    card = await service.quiz(alice)
    await service.act(alice, f"grade:{card.actions[0].id.split(':')[1]}:again")
    for line in ("/settings timezone Asia/Tokyo", "/settings reminders 19:00"):
        reply = await run_text_command(service, alice, line)
        assert isinstance(reply, Message) and not reply.is_error
    clock.set(datetime(2026, 3, 4, 19, 0, tzinfo=TOKYO))


async def test_a_reminder_dm_leads_to_a_graded_card(
    discord_env: DiscordEnv, service: StudyService, clock: FakeClock
) -> None:
    await due_card_and_reminder(service, clock)
    fake = discord_env.fake
    runner = OutreachRunner(service, {"discord": discord_env.adapter.poster})
    assert (await runner.sweep())["sent"] == 1
    (opened,) = fake.received("POST", "/users/@me/channels")
    assert opened.body == {"recipient_id": ALICE.id} or opened.body == {"recipient_id": str(ALICE.id)}
    dm_channel = fake.dm_channels[ALICE.id]
    (posted,) = fake.received("POST", f"/channels/{dm_channel}/messages")
    reminder = fake.messages[max(fake.messages)]
    assert reminder["channel_id"] == str(dm_channel)
    assert posted.body["allowed_mentions"]["parse"] == []

    bot = discord_env.driver
    card = await bot.click(reminder, button(reminder, "Start review"), ALICE, dm=True)
    assert not card.latest.title.startswith("⚠"), card.latest.title
    reveal = await bot.click(card.message, button(card.message, "reveal:"), ALICE, dm=True)
    assert reveal.callback.type == UPDATE_MESSAGE
    graded = await bot.click(reveal.message, button(reveal.message, "Good"), ALICE, dm=True)
    assert graded.callback.title.startswith("Good — next review")
    # Next, then a written answer typed in the form: all in the DM, all on her server member.
    second = await bot.click(graded.message, button(graded.message, "Next question"), ALICE, dm=True)
    opened = await bot.click(second.message, button(second.message, "write:"), ALICE, dm=True)
    shown = await bot.submit(opened.callback, "layers of features", ALICE, message=second.message, dm=True)
    assert "layers of features" in shown.callback.text(), shown.callback.title
    regraded = await bot.click(shown.message, button(shown.message, "Hard"), ALICE, dm=True)
    assert "2-day streak" in regraded.callback.text()  # her server streak, not a new one in the DM
    in_server = await service.stats(Caller("discord", str(GUILD_ID), str(ALICE.id), "Alice"))
    assert "3 reviews" in in_server.plain_text()
    in_dm = await service.stats(Caller("discord", f"dm-{ALICE.id}", str(ALICE.id), "Alice"))
    assert "no reviews yet" in in_dm.plain_text()
    # The next evening her 2-day streak is at stake: one more reminder, in the DM channel already open.
    clock.set(datetime(2026, 3, 5, 19, 0, tzinfo=TOKYO))
    assert (await runner.sweep())["sent"] == 1
    assert len(fake.received("POST", "/users/@me/channels")) == 1
    assert "2-day streak ends today" in str(fake.messages[max(fake.messages)]["embeds"])


async def test_closed_dms_cost_one_call_then_pause(
    discord_env: DiscordEnv, service: StudyService, clock: FakeClock
) -> None:
    await due_card_and_reminder(service, clock)
    fake = discord_env.fake
    fake.fail(
        "POST",
        r"/channels/\d+/messages",
        403,
        {"message": "Cannot send messages to this user", "code": 50007},
    )
    runner = OutreachRunner(service, {"discord": discord_env.adapter.poster})
    assert (await runner.sweep())["paused"] == 1
    clock.set(datetime(2026, 3, 5, 19, 0, tzinfo=TOKYO))
    await runner.sweep()
    assert len(fake.received("POST", r"/users/@me/channels")) == 1
    alice = Caller("discord", str(GUILD_ID), str(ALICE.id), "Alice")
    shown = await service.settings_show(alice)
    assert "paused: Discord would not deliver a direct message" in shown.plain_text()

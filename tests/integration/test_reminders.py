"""Due-card reminders with a fake clock, on SQLite and PostgreSQL: each member at their own local hour,
once, with two runners on one database; DST; a blocked DM pauses them; the buttons work from a DM."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.bootstrap import Core, open_core
from bot.config import Settings
from bot.core.commands import run_text_command
from bot.core.messages import Form, Message, Upload
from bot.core.model.models import Caller
from bot.core.service import StudyService
from bot.schedule.outreach import OutreachRunner
from bot.schedule.poster import PermanentPostError, PostRef
from tests.fakes.memory_store import MemoryStore
from tests.support.callers import CONTENT, member
from tests.support.clock import FakeClock

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")


@dataclass(frozen=True)
class Sent:
    workspace_ref: str
    user_ref: str
    message: Message


class DirectMessages:
    """A platform's direct messages: records each one; users in `blocked` refuse, as a closed DM does."""

    platform = "test"

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.blocked: set[str] = set()
        self.calls: Counter[str] = Counter()

    async def dm(self, workspace_ref: str, user_ref: str, message: Message) -> PostRef:
        self.calls[user_ref] += 1
        await asyncio.sleep(0.001)  # lets two runners interleave
        if user_ref in self.blocked:
            raise PermanentPostError("Discord would not deliver a direct message: your DMs are closed.")
        self.sent.append(Sent(workspace_ref, user_ref, message))
        return PostRef(f"dm/{user_ref}/{len(self.sent)}")

    def to(self, user_ref: str) -> list[Message]:
        return [s.message for s in self.sent if s.user_ref == user_ref]


@pytest.fixture
async def second(db_url: str, clock: FakeClock, core: Core) -> AsyncIterator[StudyService]:
    """Another instance on the same database."""
    other = await open_core(Settings(database_url=db_url, content_dirs=(CONTENT,)), clock=clock)
    yield other.service
    await other.close()


def runner(service: StudyService, dms: DirectMessages, name: str) -> OutreachRunner:
    return OutreachRunner(service, {"test": dms}, instance=name, claim_timeout=timedelta(minutes=5))


async def study(service: StudyService, who: Caller) -> None:
    card = await service.quiz(who)
    ask = int(card.actions[0].id.split(":")[1])
    graded = await service.act(who, f"grade:{ask}:again")
    assert isinstance(graded, Message) and not graded.is_error


async def remind_at(service: StudyService, who: Caller, zone: str, at: str) -> None:
    for line in (f"/settings timezone {zone}", f"/settings reminders {at}"):
        reply = await run_text_command(service, who, line)
        assert isinstance(reply, Message) and not reply.is_error, reply.title


async def test_tokyo_and_new_york_get_their_reminder_at_their_own_hour_once_with_two_runners(
    service: StudyService, second: StudyService, clock: FakeClock
) -> None:
    kenji, nora = member("kenji"), member("nora")
    clock.set(datetime(2026, 3, 3, 9, 0, tzinfo=TOKYO))
    for who in (kenji, nora):
        await study(service, who)  # an Again: due again within minutes
    await remind_at(service, kenji, "Asia/Tokyo", "19:00")
    await remind_at(service, nora, "America/New_York", "19:00")
    dms = DirectMessages()
    one, two = runner(service, dms, "one"), runner(second, dms, "two")

    async def both() -> None:
        await asyncio.gather(one.sweep(), two.sweep())

    clock.set(datetime(2026, 3, 4, 18, 59, tzinfo=TOKYO))
    await both()
    assert dms.sent == []
    clock.set(datetime(2026, 3, 4, 19, 0, tzinfo=TOKYO))
    await both()
    clock.advance(minutes=1)
    await both()
    assert [s.user_ref for s in dms.sent] == ["kenji"]
    reminder = dms.sent[0].message
    assert "card due" in reminder.plain_text() or "cards due" in reminder.plain_text()
    assert [a.label for a in reminder.actions] == ["Start review", "Stop reminders"]
    clock.set(datetime(2026, 3, 4, 19, 0, tzinfo=NEW_YORK))
    await both()
    clock.advance(minutes=30)
    await both()
    assert [s.user_ref for s in dms.sent] == ["kenji", "nora"]
    assert dms.calls == Counter({"kenji": 1, "nora": 1})


async def test_reminders_keep_wall_clock_time_across_dst_and_skip_a_member_who_studied(
    service: StudyService, clock: FakeClock
) -> None:
    nora = member("nora")
    clock.set(datetime(2026, 3, 6, 12, 0, tzinfo=NEW_YORK))
    await study(service, nora)
    await remind_at(service, nora, "America/New_York", "19:00")
    dms = DirectMessages()
    run = runner(service, dms, "one")
    # 8 March 2026: New York springs forward; 19:00 local is 23:00 UTC, not midnight.
    clock.set(datetime(2026, 3, 8, 22, 59, tzinfo=ZoneInfo("UTC")))
    await run.sweep()
    assert dms.sent == []
    clock.set(datetime(2026, 3, 8, 23, 0, tzinfo=ZoneInfo("UTC")))
    assert (await run.sweep())["sent"] == 1
    # Studied today with nothing due: no reminder the next day (a streak not at stake, no cards due).
    clock.set(datetime(2026, 3, 9, 18, 0, tzinfo=NEW_YORK))
    card = await service.quiz(nora)
    ask = int(card.actions[0].id.split(":")[1])
    await service.act(nora, f"grade:{ask}:easy")
    clock.set(datetime(2026, 3, 9, 19, 0, tzinfo=NEW_YORK))
    assert sum((await run.sweep()).values()) == 0
    assert len(dms.sent) == 1


async def test_a_blocked_dm_costs_one_call_then_pauses_with_the_reason_shown(
    service: StudyService, clock: FakeClock
) -> None:
    kenji = member("kenji")
    clock.set(datetime(2026, 3, 3, 9, 0, tzinfo=TOKYO))
    await study(service, kenji)
    await remind_at(service, kenji, "Asia/Tokyo", "19:00")
    dms = DirectMessages()
    dms.blocked.add("kenji")
    run = runner(service, dms, "one")
    for day in (4, 5, 6):
        clock.set(datetime(2026, 3, day, 19, 0, tzinfo=TOKYO))
        await run.sweep()
    assert dms.calls["kenji"] == 1
    shown = await service.settings_show(kenji)
    reminders = next(s.text for s in shown.sections if s.heading == "Reminders")
    assert reminders.startswith("paused: Discord would not deliver a direct message")
    # Switching them on again clears the pause.
    await remind_at(service, kenji, "Asia/Tokyo", "19:00")
    dms.blocked.clear()
    clock.set(datetime(2026, 3, 7, 19, 0, tzinfo=TOKYO))
    assert (await run.sweep())["sent"] == 1


async def test_start_review_from_a_dm_leads_to_a_graded_card_and_stop_reminders_switches_them_off(
    service: StudyService, clock: FakeClock
) -> None:
    kenji = member("kenji")
    clock.set(datetime(2026, 3, 3, 9, 0, tzinfo=TOKYO))
    await study(service, kenji)
    await remind_at(service, kenji, "Asia/Tokyo", "19:00")
    dms = DirectMessages()
    clock.set(datetime(2026, 3, 4, 19, 0, tzinfo=TOKYO))
    await runner(service, dms, "one").sweep()
    (reminder,) = dms.to("kenji")
    # Clicked in a DM, where Discord gives no server: `dm-<user>`.
    in_dm = Caller(platform="test", workspace_ref="dm-kenji", user_ref="kenji", display_name="kenji")
    card = await service.act(in_dm, reminder.actions[0].id)
    assert isinstance(card, Message) and not card.is_error, card.title
    reveal = await service.act(in_dm, card.actions[0].id)
    assert isinstance(reveal, Message) and not reveal.is_error, reveal.title
    grade = next(a for a in reveal.actions if a.id.endswith(":good"))
    graded = await service.act(in_dm, grade.id)
    assert isinstance(graded, Message) and not graded.is_error and "streak" in graded.plain_text()
    # Someone else's click does nothing to kenji's reminders; his own switches them off.
    other = Caller(platform="test", workspace_ref="dm-ben", user_ref="ben")
    refused = await service.act(other, reminder.actions[1].id)
    assert isinstance(refused, Message) and refused.is_error
    stopped = await service.act(in_dm, reminder.actions[1].id)
    assert isinstance(stopped, Message) and stopped.title == "Reminders are off."
    clock.set(datetime(2026, 3, 5, 19, 0, tzinfo=TOKYO))
    assert sum((await runner(service, dms, "one").sweep()).values()) == 0


async def test_a_whole_review_from_a_reminder_dm_goes_on_in_the_members_server(
    service: StudyService, clock: FakeClock
) -> None:
    """Start review, Write and its form, grade, Next, Reveal, grade: every step clicked in the DM acts
    on the server member (their progress and streak), none on a separate DM member."""
    kenji = member("kenji")
    clock.set(datetime(2026, 3, 3, 9, 0, tzinfo=TOKYO))
    await study(service, kenji)
    await remind_at(service, kenji, "Asia/Tokyo", "19:00")
    dms = DirectMessages()
    clock.set(datetime(2026, 3, 4, 19, 0, tzinfo=TOKYO))
    await runner(service, dms, "one").sweep()
    (reminder,) = dms.to("kenji")
    assert reminder.footer == "Change the time or zone with /settings in your server or workspace."
    in_dm = Caller(platform="test", workspace_ref="dm-kenji", user_ref="kenji", display_name="kenji")

    async def click(message: Message, prefix: str) -> Message:
        reply = await service.act(in_dm, next(a.id for a in message.actions if a.id.startswith(prefix)))
        assert isinstance(reply, Message) and not reply.is_error, reply.title
        return reply

    card = await click(reminder, "review:")
    form = await service.act(in_dm, next(a.id for a in card.actions if a.id.startswith("write:")))
    assert isinstance(form, Form), form.title
    answered = await service.submit(in_dm, form.id, "layers of features")
    assert not answered.is_error and "layers of features" in answered.plain_text(), answered.title
    graded = await click(answered, "grade:")
    second_card = await click(graded, "next")
    revealed = await click(second_card, "reveal:")
    again = await click(revealed, "grade:")
    assert "2-day streak" in again.plain_text()
    assert "3 reviews" in (await service.stats(kenji)).plain_text()
    assert "no reviews yet" in (await service.stats(in_dm)).plain_text()


async def test_a_reminder_whose_record_fails_once_still_goes_out_once(
    service: StudyService, clock: FakeClock
) -> None:
    kenji = member("kenji")
    clock.set(datetime(2026, 3, 3, 9, 0, tzinfo=TOKYO))
    await study(service, kenji)
    await remind_at(service, kenji, "Asia/Tokyo", "19:00")
    dms = DirectMessages()
    run = OutreachRunner(
        service, {"test": dms}, instance="one", claim_timeout=timedelta(minutes=5), backoff=0.01
    )
    real, failures = service.outreach.sent, [ConnectionError("the database went away for a moment")]

    async def flaky(sent: Any) -> None:
        if failures:
            raise failures.pop()
        await real(sent)

    service.outreach.sent = flaky  # type: ignore[method-assign]
    clock.set(datetime(2026, 3, 4, 19, 0, tzinfo=TOKYO))
    await run.sweep()
    clock.advance(minutes=6)  # past the claim timeout, within the grace window
    await run.sweep()
    assert dms.calls["kenji"] == 1


async def removed_deck_is_not_due(service: StudyService, clock: FakeClock) -> None:
    """Cards of a removed deck are no longer due: not in the reminder's count, nor in /stats' due now."""
    kenji, ann = member("kenji"), member("ann", admin=True)
    clock.set(datetime(2026, 3, 3, 9, 0, tzinfo=TOKYO))
    imported = await service.deck_import(ann, Upload("team.csv", b"question,answer\nWho deploys?,Us\n"))
    assert not imported.is_error, imported.title
    card = await service.quiz(kenji, "team")
    await service.act(kenji, f"grade:{card.actions[0].id.split(':')[1]}:again")
    await remind_at(service, kenji, "Asia/Tokyo", "19:00")
    clock.set(datetime(2026, 3, 4, 18, 0, tzinfo=TOKYO))
    assert "1 learned, 1 due now" in (await service.stats(kenji)).plain_text()
    confirm = await service.deck_remove(ann, "team")
    removed = await service.act(ann, confirm.actions[0].id)
    assert isinstance(removed, Message) and not removed.is_error, removed.title
    assert "1 learned, 0 due now" in (await service.stats(kenji)).plain_text()
    clock.set(datetime(2026, 3, 4, 19, 0, tzinfo=TOKYO))
    dms = DirectMessages()
    await runner(service, dms, "one").sweep()
    (reminder,) = dms.to("kenji")  # the streak is still at stake
    assert reminder.title == "Keep your streak" and "due" not in reminder.plain_text()


async def test_a_removed_decks_cards_are_not_counted_due(service: StudyService, clock: FakeClock) -> None:
    await removed_deck_is_not_due(service, clock)


async def test_a_removed_decks_cards_are_not_counted_due_in_memory(clock: FakeClock) -> None:
    service = StudyService(MemoryStore(), clock, content=[CONTENT])
    await service.library.reload()
    await removed_deck_is_not_due(service, clock)

"""/settings: a member's own time zone (from their next day on, never breaking a streak) and reminders."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.commands import run_text_command
from bot.core.messages import Message
from bot.core.service import StudyService
from tests.support.callers import member
from tests.support.clock import FakeClock
from tests.unit.test_progress import study_one

NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")


def section(reply: Message, heading: str) -> str:
    return next(s.text for s in reply.sections if s.heading == heading)


async def test_settings_show_and_change_zone_and_reminders(service: StudyService) -> None:
    ann = member("ann")
    shown = await run_text_command(service, ann, "/settings")
    assert isinstance(shown, Message) and not shown.is_error
    assert section(shown, "Reminders").startswith("off")
    changed = await run_text_command(service, ann, "/settings timezone asia/tokyo")
    assert isinstance(changed, Message) and "Asia/Tokyo" in changed.title
    on = await run_text_command(service, ann, "/settings reminders 7:05")
    assert isinstance(on, Message) and section(on, "Reminders").startswith("on at 07:05")
    assert [a.label for a in on.actions] == ["Stop reminders"]
    off = await service.act(ann, on.actions[0].id)
    assert isinstance(off, Message) and off.title == "Reminders are off."
    again = await run_text_command(service, ann, "/settings")
    assert isinstance(again, Message) and section(again, "Reminders").startswith("off")


async def test_unknown_zones_and_bad_times_are_refused_with_an_example(service: StudyService) -> None:
    ann = member("ann")
    zone = await run_text_command(service, ann, "/settings timezone Mars/Olympus")
    assert isinstance(zone, Message) and zone.is_error and "Europe/Berlin" in zone.plain_text()
    time = await run_text_command(service, ann, "/settings reminders 25:00")
    assert isinstance(time, Message) and time.is_error and "19:30" in time.plain_text()
    other = await service.act(member("ben"), "reminders-off:1")
    assert isinstance(other, Message) and other.is_error


async def test_a_chosen_zone_wins_over_the_profile_and_applies_from_the_next_day(
    service: StudyService, clock: FakeClock
) -> None:
    # New York profile; 23:00 on 2 March there is already 3 March in Tokyo.
    ny = member("nia", tz="America/New_York")
    clock.set(datetime(2026, 3, 1, 21, 0, tzinfo=NEW_YORK))
    await study_one(service, ny)
    clock.set(datetime(2026, 3, 2, 21, 0, tzinfo=NEW_YORK))
    await study_one(service, ny)
    await run_text_command(service, ny, "/settings timezone Asia/Tokyo")
    # Still the New York day until its midnight: studying again now is the same day 2 March.
    clock.set(datetime(2026, 3, 2, 23, 0, tzinfo=NEW_YORK))
    reply = await study_one(service, ny)
    assert "2-day streak" in reply.sections[0].text
    # From New York's midnight on, Tokyo counts (the profile still says New York); no day is lost.
    clock.set(datetime(2026, 3, 3, 22, 0, tzinfo=TOKYO))
    reply = await study_one(service, ny)
    assert "3-day streak" in reply.sections[0].text
    shown = await service.settings_show(ny)
    assert section(shown, "Time zone") == "Asia/Tokyo"


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(text=st.text(max_size=40))
async def test_any_zone_or_time_text_is_taken_or_refused_never_raised(
    service: StudyService, text: str
) -> None:
    ann = member("ann")
    for reply in (await service.settings_timezone(ann, text), await service.settings_reminders(ann, text)):
        assert isinstance(reply, Message)
        if reply.is_error:
            assert "For example" in reply.plain_text() or "can't store" in reply.plain_text()

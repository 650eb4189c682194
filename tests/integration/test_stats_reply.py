"""/stats carries the picture: the core fills it from the member's reviews and attaches the PNG; its cells
read back as the seeded days. The text stays as the fallback."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from PIL import Image

from bot.core.service import StudyService
from bot.pictures.stats import SHADES, SIZE, cell_box
from tests.support.callers import member
from tests.support.clock import FakeClock

TOKYO = ZoneInfo("Asia/Tokyo")


async def grade_some(service: StudyService, count: int) -> None:
    kenji = member("kenji", tz="Asia/Tokyo")
    for _ in range(count):
        card = await service.quiz(kenji)
        ask = card.actions[0].id.split(":")[1]
        await service.act(kenji, f"grade:{ask}:again")


async def test_stats_attach_a_png_whose_calendar_shows_the_seeded_days(
    service: StudyService, clock: FakeClock
) -> None:
    # Tuesday 1 December 2026 in Tokyo; the calendar's first column is the week of 14 September.
    clock.set(datetime(2026, 11, 23, 23, 30, tzinfo=TOKYO))  # a Monday, late: 14:30 UTC
    await grade_some(service, 1)
    clock.set(datetime(2026, 12, 1, 8, 0, tzinfo=TOKYO))
    await grade_some(service, 5)
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=TOKYO))
    reply = await service.stats(member("kenji", tz="Asia/Tokyo"))
    assert not reply.is_error and any(s.heading == "Streak" for s in reply.sections)  # the text fallback
    (picture,) = reply.files
    assert picture.content_type == "image/png" and picture.filename == "stats.png"
    assert "2 days studied, 6 cards graded" in picture.description
    image = Image.open(io.BytesIO(picture.data))
    assert image.format == "PNG" and image.size == SIZE
    rgb = image.convert("RGB")

    def shade(column: int, row: int) -> object:
        left, top, right, bottom = cell_box(column, row)
        return rgb.getpixel(((left + right) // 2, (top + bottom) // 2))

    assert shade(10, 0) == SHADES[1]  # Monday 23 November (Tokyo), 1 card
    assert shade(11, 1) == SHADES[2]  # today, 5 cards
    assert shade(11, 0) == SHADES[0]  # Monday 30 November, nothing

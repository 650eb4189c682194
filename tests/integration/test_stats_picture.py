"""The /stats picture: a valid PNG of the stated size whose pixels show the member's data."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from bot.core.model.models import Grade
from bot.core.model.stats_picture import StatsPicture, count_by_local_day
from bot.pictures.stats import (
    BACKGROUND,
    GRADE_COLOURS,
    SHADES,
    SIZE,
    STATE_BOX,
    STATE_COLOURS,
    TEXT,
    cell_box,
    month_labels,
    render_stats_png,
    summary_line,
)

TODAY = date(2026, 12, 1)  # a Tuesday; the calendar's first Monday is 14 September 2026
Colour = tuple[int, int, int]


def _image(data: StatsPicture) -> Image.Image:
    image = Image.open(io.BytesIO(render_stats_png(data)))
    image.load()
    return image.convert("RGB")


def _centre(image: Image.Image, column: int, row: int) -> Colour:
    left, top, right, bottom = cell_box(column, row)
    pixel = image.getpixel(((left + right) // 2, (top + bottom) // 2))
    assert isinstance(pixel, tuple)
    return (pixel[0], pixel[1], pixel[2])


def _pixels(image: Image.Image) -> list[Colour]:
    raw = image.tobytes()
    return [(raw[i], raw[i + 1], raw[i + 2]) for i in range(0, len(raw), 3)]


def _bounds(image: Image.Image, colour: Colour, rows: range | None = None) -> tuple[int, int, int, int]:
    """Bounding box (left, top, right, bottom) of every pixel of exactly this colour."""
    width = image.size[0]
    xs, ys = [], []
    for i, pixel in enumerate(_pixels(image)):
        if pixel == colour:
            x, y = i % width, i // width
            if rows is None or y in rows:
                xs.append(x)
                ys.append(y)
    assert xs, f"no pixel of colour {colour}"
    return min(xs), min(ys), max(xs), max(ys)


def _has_colour(image: Image.Image, colour: Colour, rows: range | None = None) -> bool:
    width = image.size[0]
    return any(p == colour and (rows is None or i // width in rows) for i, p in enumerate(_pixels(image)))


def test_the_picture_is_a_png_of_the_stated_size() -> None:
    png = render_stats_png(StatsPicture(today=TODAY, daily_graded={TODAY: 4}, cards_new=3))

    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    image.verify()
    assert image.format == "PNG"
    assert image.size == SIZE == (800, 420)


def test_calendar_cells_are_shaded_by_cards_graded_that_day() -> None:
    seeded = {
        date(2026, 9, 14): 25,  # first cell: Monday of the oldest week
        date(2026, 9, 13): 30,  # the day before the window: not drawn, not counted
        date(2026, 10, 25): 3,  # Europe leaves summer time (a 25-hour day)
        date(2026, 11, 1): 12,  # the United States leave summer time
        date(2026, 11, 22): 7,  # a Sunday, last row ...
        date(2026, 11, 23): 1,  # ... and the Monday after it opens the next column
        TODAY: 20,
    }
    image = _image(StatsPicture(today=TODAY, daily_graded=seeded))

    # (column, row) worked out by hand from the calendar: column 0 is the week of 14 September.
    assert _centre(image, 0, 0) == SHADES[4]
    assert _centre(image, 0, 1) == SHADES[0]  # 15 September, no grades
    assert _centre(image, 5, 6) == SHADES[1]  # 25 October: 3 cards
    assert _centre(image, 6, 0) == SHADES[0]  # 26 October
    assert _centre(image, 6, 6) == SHADES[3]  # 1 November: 12 cards
    assert _centre(image, 9, 6) == SHADES[2]  # 22 November: 7 cards
    assert _centre(image, 10, 0) == SHADES[1]  # 23 November: 1 card
    # Today is the last column, Tuesday's row, outlined; the rest of its week is not drawn yet.
    assert _centre(image, 11, 1) == SHADES[4]
    left, top, _, _ = cell_box(11, 1)
    assert image.getpixel((left, top)) == TEXT
    for row in range(2, 7):
        assert _centre(image, 11, row) == BACKGROUND
    assert _centre(image, 11, 0) == SHADES[0]  # Monday 30 November, no grades
    assert summary_line(StatsPicture(today=TODAY, daily_graded=seeded)).startswith(
        "68 cards graded on 6 days"
    )


def test_months_are_named_over_the_week_of_their_first_day() -> None:
    # 1 October 2026 is a Thursday in column 2, 1 November a Sunday in column 6, 1 December today.
    assert month_labels(date(2026, 9, 14)) == [(0, "Sep"), (2, "Oct"), (6, "Nov"), (11, "Dec")]
    # A month starting in the second column: the first column stays unnamed, the names would overlap.
    assert month_labels(date(2026, 6, 22)) == [(1, "Jul"), (5, "Aug"), (10, "Sep")]


def test_grades_on_a_dst_day_land_on_their_local_date() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # 22:30 UTC on 24 and on 25 October are 00:30 and 23:30 of the same Berlin day, 25 October, because
    # the clocks go back an hour in between; a fixed +2 offset would put the second on the 26th.
    graded_at = [datetime(2026, 10, 24, 22, 30, tzinfo=UTC), datetime(2026, 10, 25, 22, 30, tzinfo=UTC)]
    daily = count_by_local_day(graded_at, berlin)

    assert daily == {date(2026, 10, 25): 2}
    image = _image(StatsPicture(today=TODAY, daily_graded=daily))
    assert _centre(image, 5, 6) == SHADES[1]
    assert _centre(image, 6, 0) == SHADES[0]


def test_grade_bars_are_as_tall_as_their_counts() -> None:
    counts = {Grade.AGAIN: 10, Grade.HARD: 25, Grade.GOOD: 80, Grade.EASY: 40}
    image = _image(StatsPicture(today=TODAY, daily_graded={TODAY: 5}, grade_counts=counts))

    boxes = {grade: _bounds(image, GRADE_COLOURS[grade]) for grade in Grade}
    heights = {grade: bottom - top + 1 for grade, (_, top, _, bottom) in boxes.items()}
    bottoms = {bottom for _, _, _, bottom in boxes.values()}
    assert len(bottoms) == 1, "all bars stand on one baseline"
    tallest = heights[Grade.GOOD]
    assert tallest >= 100
    for grade, count in counts.items():
        assert heights[grade] == pytest.approx(tallest * count / 80, abs=1)
    # Left to right: Again, Hard, Good, Easy.
    assert [boxes[g][0] for g in Grade] == sorted(boxes[g][0] for g in Grade)


def test_cards_by_state_bar_is_split_by_share() -> None:
    image = _image(StatsPicture(today=TODAY, cards_new=50, cards_learning=10, cards_review=140))

    rows = range(STATE_BOX[1], STATE_BOX[3] + 1)
    boxes = [_bounds(image, colour, rows) for colour in STATE_COLOURS]
    widths = [right - left + 1 for left, _, right, _ in boxes]
    full = STATE_BOX[2] - STATE_BOX[0] + 1
    assert sum(widths) == full
    for width, count in zip(widths, (50, 10, 140), strict=True):
        assert width == pytest.approx(full * count / 200, abs=1)
    assert boxes[0][2] + 1 == boxes[1][0] and boxes[1][2] + 1 == boxes[2][0], "new, learning, review"


def test_a_member_with_nothing_studied_gets_a_picture_that_says_so() -> None:
    data = StatsPicture(today=TODAY, cards_new=40)
    image = _image(data)

    assert data.is_empty
    assert summary_line(data).startswith("Nothing studied yet")
    assert image.size == SIZE
    for column in range(12):
        for row in range(7):
            if (column, row) <= (11, 1):
                assert _centre(image, column, row) == SHADES[0]
    assert not any(_has_colour(image, colour) for colour in GRADE_COLOURS.values())
    bar = range(STATE_BOX[1], STATE_BOX[3] + 1)
    assert _has_colour(image, STATE_COLOURS[0], bar)
    assert not _has_colour(image, STATE_COLOURS[1], bar) and not _has_colour(image, STATE_COLOURS[2], bar)
    # A member with no cards at all still gets a picture.
    assert _image(StatsPicture(today=TODAY)).size == SIZE


def test_one_grade_beside_thousands_stays_visible() -> None:
    counts = {Grade.AGAIN: 1, Grade.GOOD: 5000}
    image = _image(StatsPicture(today=TODAY, daily_graded={TODAY: 999}, grade_counts=counts))

    _, top, _, bottom = _bounds(image, GRADE_COLOURS[Grade.AGAIN])
    assert bottom - top + 1 >= 2
    assert not _has_colour(image, GRADE_COLOURS[Grade.HARD])


def test_a_long_title_is_cut_to_fit() -> None:
    image = _image(StatsPicture(today=TODAY, title="Stats for " + "W" * 200))

    assert image.size == SIZE
    assert image.getpixel((SIZE[0] - 5, 25)) == BACKGROUND


def test_bad_data_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        StatsPicture(today=TODAY, daily_graded={TODAY: -1})
    with pytest.raises(ValueError, match="time zone"):
        count_by_local_day([datetime(2026, 10, 25, 12, 0)], ZoneInfo("Europe/Berlin"))


def test_the_picture_keeps_its_data_when_the_callers_dict_changes() -> None:
    daily = {TODAY: 3}
    data = StatsPicture(today=TODAY, daily_graded=daily)
    daily[TODAY - timedelta(days=1)] = 50

    assert data.graded_in_window() == 3
    with pytest.raises(TypeError):
        data.daily_graded[TODAY] = 9  # type: ignore[index]


_IMPORTS_PIL = (
    "import sys, importlib\n"
    "for name in sys.argv[1:]:\n"
    "    importlib.import_module(name)\n"
    "print(sorted(m for m in sys.modules if m == 'PIL' or m.startswith('PIL.')))\n"
)


def _pil_modules_after_importing(*modules: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTS_PIL, *modules], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_start_up_modules_do_not_import_pillow() -> None:
    start_up = [
        "bot.cli",
        "bot.adapters.console",
        "bot.bootstrap",
        "bot.runner",
        "bot.core.model.stats_picture",
    ]
    start_up += ["bot.adapters.discord.app", "bot.adapters.slack.app", "bot.pictures"]

    assert _pil_modules_after_importing(*start_up) == "[]"
    # The check can see Pillow: the renderer itself does import it.
    assert "'PIL'" in _pil_modules_after_importing("bot.pictures.stats")

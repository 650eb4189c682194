"""Draw the /stats picture (bot.core.model.stats_picture.StatsPicture) as an 800×420 PNG with Pillow.

Import this module only where a picture is drawn: Pillow costs tens of milliseconds to import, and the
start-up path of `studybot run` / `studybot console` must not pay for it.

The picture has its own opaque dark background (Discord's dark grey), so it reads the same on Discord's and
Slack's dark themes (it sits like an embed) and light themes (a dark card with clear edges); every colour
is chosen against that background, never against the chat client's theme.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from bot.core.model.models import Grade
from bot.core.model.stats_picture import SHADE_STEPS, WEEKS, StatsPicture, shade_level
from bot.core.texts.words import plural

Colour = tuple[int, int, int]
Box = tuple[int, int, int, int]  # left, top, right, bottom; right and bottom inclusive, as Pillow draws

SIZE = (800, 420)
BACKGROUND: Colour = (43, 45, 49)
TEXT: Colour = (242, 243, 245)
MUTED: Colour = (181, 186, 193)
# Calendar shades from "no grades" to "20 or more", GitHub's dark-theme greens.
SHADES: tuple[Colour, ...] = ((64, 68, 75), (14, 68, 41), (0, 109, 50), (38, 166, 65), (57, 211, 83))
GRADE_COLOURS: dict[Grade, Colour] = {
    Grade.AGAIN: (237, 66, 69),
    Grade.HARD: (250, 166, 26),
    Grade.GOOD: (67, 181, 129),
    Grade.EASY: (88, 101, 242),
}
STATE_COLOURS: tuple[Colour, Colour, Colour] = ((148, 155, 164), (235, 69, 158), (0, 168, 252))
STATE_NAMES = ("New", "Learning", "Review")
# Not strftime("%b"): that follows the process locale, and the built-in font has Latin letters only.
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Calendar: column = week (oldest left, today's week right), row = weekday (Monday on top).
CELL, PITCH = 20, 24
CAL_X, CAL_Y = 64, 112
# Recall by grade: vertical bars standing on BAR_BASE, the largest count BAR_MAX pixels tall.
BAR_X, BAR_PITCH, BAR_WIDTH = 416, 92, 56
BAR_BASE, BAR_MAX = 250, 120
# Cards by state: one horizontal bar split by state.
STATE_BOX: Box = (400, 326, 775, 349)
PANEL_X = 400


def render_stats_png(data: StatsPicture) -> bytes:
    """The picture as PNG bytes, always SIZE pixels."""
    image = Image.new("RGB", SIZE, BACKGROUND)
    _text(image, (24, 16), _fit(data.title, 22, SIZE[0] - 48), 22, TEXT)
    _text(image, (24, 46), summary_line(data), 14, MUTED)
    _calendar(image, data)
    _grades(image, data)
    _states(image, data)
    _text(image, (24, SIZE[1] - 32), "Today is outlined; days are in your time zone.", 12, MUTED)
    out = io.BytesIO()
    # Flat colours compress well at a low level; a higher one costs milliseconds for a few bytes.
    image.save(out, "PNG", compress_level=3)
    return out.getvalue()


def summary_line(data: StatsPicture) -> str:
    if data.is_empty:
        return "Nothing studied yet: answer a card with /quiz and your calendar starts here."
    graded = plural(data.graded_in_window(), "card")
    return f"{graded} graded on {plural(data.days_studied(), 'day')} in the last {WEEKS} weeks"


def cell_box(column: int, row: int) -> Box:
    """The calendar cell of week `column` (0 = oldest) and weekday `row` (0 = Monday)."""
    left, top = CAL_X + column * PITCH, CAL_Y + row * PITCH
    return (left, top, left + CELL - 1, top + CELL - 1)


def cell_of(data: StatsPicture, day: date) -> tuple[int, int]:
    """(column, row) of a day in the calendar; by date arithmetic, so DST never shifts a cell."""
    offset = (day - data.first_day).days
    return offset // 7, offset % 7


def grade_bar_box(grade: Grade, data: StatsPicture) -> Box | None:
    """Where a grade's bar is drawn, or None when it has no grades."""
    count, peak = data.grade(grade), max(data.grade(g) for g in Grade)
    if count == 0:
        return None
    height = max(2, round(count * BAR_MAX / peak))  # a single grade stays visible beside thousands
    left = BAR_X + (int(grade) - 1) * BAR_PITCH
    return (left, BAR_BASE - height + 1, left + BAR_WIDTH - 1, BAR_BASE)


def state_segments(data: StatsPicture) -> list[tuple[int, Box]]:
    """(state index, box) of each non-empty part of the cards-by-state bar, widths by share of cards."""
    counts = (data.cards_new, data.cards_learning, data.cards_review)
    total = sum(counts)
    if total == 0:
        return []
    left, top, right, bottom = STATE_BOX
    width = right - left + 1
    segments, done = [], 0
    for index, count in enumerate(counts):
        # Edges from the running total, so the parts always fill the bar exactly.
        start, done = left + round(done * width / total), done + count
        end = left + round(done * width / total)
        if end > start:
            segments.append((index, (start, top, end - 1, bottom)))
    return segments


def _calendar(image: Image.Image, data: StatsPicture) -> None:
    draw = ImageDraw.Draw(image)
    _text(image, (24, 74), f"Study calendar, last {WEEKS} weeks", 15, TEXT)
    small = 12
    for row, name in ((0, "Mon"), (2, "Wed"), (4, "Fri"), (6, "Sun")):
        _text(image, (24, CAL_Y + row * PITCH + 4), name, small, MUTED)
    for column, label in month_labels(data.first_day):
        _text(image, (CAL_X + column * PITCH, CAL_Y - 17), label, small, MUTED)
    for day, count in data.days():
        box = cell_box(*cell_of(data, day))
        outline = TEXT if day == data.today else None
        draw.rectangle(box, fill=SHADES[shade_level(count)], outline=outline)
    # Legend: one swatch per shade with the count it starts at.
    x, y = CAL_X, CAL_Y + 7 * PITCH + 8
    _text(image, (24, y + 1), "Cards a day", small, MUTED)
    x += 48
    for level, label in enumerate(["0", *(f"{step}+" for step in SHADE_STEPS)]):
        draw.rectangle((x, y, x + 13, y + 13), fill=SHADES[level])
        _text(image, (x + 18, y + 1), label, small, MUTED)
        x += 18 + round(_length(label, small)) + 12


def month_labels(first_day: date) -> list[tuple[int, str]]:
    """A month's short name over the column whose week holds its 1st; the first column is named too
    unless a month starts in the next column, where the two names would overlap."""
    starts = {}
    for column in range(WEEKS):
        monday = first_day + timedelta(days=7 * column)
        firsts = [monday + timedelta(days=i) for i in range(7) if (monday + timedelta(days=i)).day == 1]
        if firsts:
            starts[column] = MONTHS[firsts[0].month - 1]
    if 0 not in starts and 1 not in starts:
        starts[0] = MONTHS[first_day.month - 1]
    return sorted(starts.items())


def _grades(image: Image.Image, data: StatsPicture) -> None:
    draw = ImageDraw.Draw(image)
    total = sum(data.grade(g) for g in Grade)
    heading = "Recall by grade"
    if total:
        recalled = round(100 * (total - data.grade(Grade.AGAIN)) / total)
        heading += f" · {recalled}% recalled"
    _text(image, (PANEL_X, 74), heading, 15, TEXT)
    small = 12
    draw.line((PANEL_X, BAR_BASE + 1, SIZE[0] - 25, BAR_BASE + 1), fill=MUTED)
    for grade in Grade:
        left = BAR_X + (int(grade) - 1) * BAR_PITCH
        _centred(image, left + BAR_WIDTH // 2, BAR_BASE + 7, grade.label, small, MUTED)
        box = grade_bar_box(grade, data)
        if box is not None:
            draw.rectangle(box, fill=GRADE_COLOURS[grade])
            _centred(image, left + BAR_WIDTH // 2, box[1] - 17, str(data.grade(grade)), small, TEXT)
    if not total:
        _centred(image, BAR_X + 2 * BAR_PITCH - 18, BAR_BASE - 60, "No grades yet", 14, MUTED)


def _states(image: Image.Image, data: StatsPicture) -> None:
    draw = ImageDraw.Draw(image)
    _text(image, (PANEL_X, 296), f"Cards by state · {data.cards_total} in all", 15, TEXT)
    small = 12
    left, top, right, bottom = STATE_BOX
    segments = state_segments(data)
    if not segments:
        draw.rectangle(STATE_BOX, outline=SHADES[0])
        _centred(image, (left + right) // 2, top + 5, "No cards yet", small, MUTED)
    for index, box in segments:
        draw.rectangle(box, fill=STATE_COLOURS[index])
    x = left
    counts = (data.cards_new, data.cards_learning, data.cards_review)
    for index, (name, count) in enumerate(zip(STATE_NAMES, counts, strict=True)):
        label = f"{name} {count}"
        draw.rectangle((x, bottom + 12, x + 11, bottom + 23), fill=STATE_COLOURS[index])
        _text(image, (x + 16, bottom + 12), label, small, MUTED)
        x += 16 + round(_length(label, small)) + 20


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # The font that ships inside Pillow: CI machines and slim containers may have no system fonts.
    return ImageFont.load_default(size=size)


@lru_cache(maxsize=1024)
def _glyph(char: str, size: int) -> tuple[float, tuple[int, int], Image.Image | None]:
    """A character's advance, offset from the pen and coverage mask, made once per process. Pillow lays
    out and rasterises a string on every draw.text (about 1 ms a label with the built-in font, 45 ms a
    picture); pasting cached glyphs costs microseconds. Kerning is left out, unnoticeable at these sizes."""
    font = _font(size)
    advance = float(font.getlength(char))
    left, top, right, bottom = (round(v) for v in font.getbbox(char))
    if right <= left or bottom <= top:
        return advance, (0, 0), None  # a space
    mask = Image.new("L", (right - left, bottom - top), 0)
    ImageDraw.Draw(mask).text((-left, -top), char, fill=255, font=font)
    return advance, (left, top), mask


def _length(text: str, size: int) -> float:
    return sum(_glyph(char, size)[0] for char in text)


def _text(image: Image.Image, at: tuple[int, int], text: str, size: int, fill: Colour) -> None:
    pen = float(at[0])
    for char in text:
        advance, (left, top), mask = _glyph(char, size)
        if mask is not None:
            image.paste(fill, (round(pen) + left, at[1] + top), mask)
        pen += advance


def _centred(image: Image.Image, centre_x: int, top: int, text: str, size: int, fill: Colour) -> None:
    _text(image, (round(centre_x - _length(text, size) / 2), top), text, size, fill)


def _fit(text: str, size: int, width: int) -> str:
    """The text, cut with an ellipsis when wider than `width` pixels (a long display name in a title)."""
    if _length(text, size) <= width:
        return text
    room = width - _length("…", size)
    for end, char in enumerate(text):
        room -= _glyph(char, size)[0]
        if room < 0:
            return text[:end] + "…"
    return text

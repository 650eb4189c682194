"""What the /stats picture shows, as plain data. The core fills it from the store; a renderer outside the
core (bot.pictures.stats) draws it. No drawing library and no I/O here."""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from types import MappingProxyType

from bot.core.model.models import Grade

WEEKS = 12
# Cards graded in one day from which each darker calendar shade starts (level 1..4); 0 is level 0.
# Fixed steps rather than steps relative to the member's best day, so a shade means the same every week.
SHADE_STEPS = (1, 5, 10, 20)


def window_start(today: date) -> date:
    """The Monday of the oldest week shown: the calendar's columns are whole Monday..Sunday weeks and the
    last column is the week holding `today`."""
    return today - timedelta(days=today.weekday() + 7 * (WEEKS - 1))


def shade_level(count: int) -> int:
    """0 for a day without grades, then 1..4 at each step of SHADE_STEPS."""
    return bisect_right(SHADE_STEPS, count)


def count_by_local_day(graded_at: Iterable[datetime], tz: tzinfo) -> dict[date, int]:
    """Fold grade times into counts per local calendar date. Dates, not 24-hour slices, so a day that
    DST makes 23 or 25 hours long is still one cell."""
    counts: Counter[date] = Counter()
    for moment in graded_at:
        if moment.tzinfo is None:
            raise ValueError("grade times must carry a time zone (the store's UTC times)")
        counts[moment.astimezone(tz).date()] += 1
    return dict(counts)


@dataclass(frozen=True)
class StatsPicture:
    """One member's picture: cards graded per local date (dates outside the 12 weeks are ignored),
    grades given by grade, and their cards by state: `new` never graded, `learning` in (re)learning
    steps, `review` graduated to spaced review."""

    today: date
    daily_graded: Mapping[date, int] = field(default_factory=dict)
    grade_counts: Mapping[Grade, int] = field(default_factory=dict)
    cards_new: int = 0
    cards_learning: int = 0
    cards_review: int = 0
    title: str = "Your study stats"

    def __post_init__(self) -> None:
        counts = [*self.daily_graded.values(), *self.grade_counts.values()]
        counts += [self.cards_new, self.cards_learning, self.cards_review]
        if any(n < 0 for n in counts):
            raise ValueError("counts cannot be negative")
        # Read-only copies: the caller's dicts may change after this picture was built.
        object.__setattr__(self, "daily_graded", MappingProxyType(dict(self.daily_graded)))
        object.__setattr__(self, "grade_counts", MappingProxyType(dict(self.grade_counts)))

    @property
    def first_day(self) -> date:
        return window_start(self.today)

    def days(self) -> list[tuple[date, int]]:
        """Every day from the first Monday shown up to and including today, with its count."""
        span = (self.today - self.first_day).days + 1
        return [
            (day, self.daily_graded.get(day, 0))
            for day in (self.first_day + timedelta(days=i) for i in range(span))
        ]

    def graded_in_window(self) -> int:
        return sum(n for _, n in self.days())

    def days_studied(self) -> int:
        return sum(1 for _, n in self.days() if n > 0)

    def grade(self, grade: Grade) -> int:
        return self.grade_counts.get(grade, 0)

    @property
    def cards_total(self) -> int:
        return self.cards_new + self.cards_learning + self.cards_review

    @property
    def is_empty(self) -> bool:
        """Nothing studied yet: no grade in the window or ever, and no card past `new`."""
        return (
            self.graded_in_window() == 0
            and sum(self.grade_counts.values()) == 0
            and self.cards_learning + self.cards_review == 0
        )

"""A clock tests move by hand; the core reads time only through its Clock port."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FakeClock:
    """A clock tests move by hand, to cross midnights, weeks and DST changes."""

    def __init__(self, start: datetime) -> None:
        assert start.tzinfo is not None
        self.current = start.astimezone(UTC)

    def now(self) -> datetime:
        return self.current

    def set(self, moment: datetime) -> None:
        self.current = moment.astimezone(UTC)

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


# A Wednesday at noon UTC: where every test's clock starts.
START = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)

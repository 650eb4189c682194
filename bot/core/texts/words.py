"""Words every area's replies use: counts, numbers, and when something is due."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`1 question`, `2 questions`: every count in a reply goes through here."""
    return f"{count} {noun if count == 1 else (many or noun + 's')}"


def number(value: float) -> str:
    """A whole number without a decimal (`75`), otherwise one decimal (`7.5`)."""
    shown = f"{value:.1f}"
    return shown.removesuffix(".0")


def when(moment: datetime, now: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    delta = moment - now
    if delta <= timedelta(0):
        return "now"
    days = (local.date() - now.astimezone(tz).date()).days
    at = local.strftime("%a %d %b")
    if days == 0:
        return f"later today ({local:%H:%M})"
    if days == 1:
        return f"tomorrow ({at})"
    return f"in {plural(days, 'day')} ({at})"

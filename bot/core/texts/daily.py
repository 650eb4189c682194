"""The wording of the question of the day: the post, its channel, its schedule and last results."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core import cardtext
from bot.core.actions import DailyReveal
from bot.core.decks.workspace import shown
from bot.core.messages import Action, Message, Section, Style
from bot.core.model.calendar import format_weekdays
from bot.core.model.daily import DailyChannel
from bot.core.model.models import Grade, StoredCard

THREAD_NAME_LIMIT = 100


def channel_label(channel_ref: str) -> str:
    """Discord ids and Slack ids become `<#id>` mentions (both platforms render them); names get a `#`."""
    if channel_ref.isdigit() or re.fullmatch(r"[CG][A-Z0-9]{8,}", channel_ref):
        return f"<#{channel_ref}>"
    return f"#{channel_ref}"


def results_line(grades: dict[Grade, int], previous_day: date, today: date) -> str:
    when = (
        "Yesterday" if previous_day == today - timedelta(days=1) else f"Last time ({previous_day:%a %d %b})"
    )
    answered = sum(grades.values())
    if not answered:
        return f"{when}: nobody answered — be the first today!"
    breakdown = " · ".join(f"{g.label} {grades.get(g, 0)}" for g in Grade)
    return f"{when}: {answered} answered — {breakdown}"


def post_message(post_id: int, card: StoredCard, results: str | None) -> Message:
    sections = [Section(results)] if results else []
    question = cardtext.bold_lead(card.question)
    sections.append(Section(question, f"{shown(card.deck_id)} #{card.number}", markdown=True))
    return Message(
        title="Question of the day",
        sections=tuple(sections),
        actions=(Action(DailyReveal(post_id).id, "Reveal answer", Style.PRIMARY),),
        private=False,
        footer="Think of your answer, then reveal it: the answer and your grade are private to you.",
    )


def thread_name(local_date: date) -> str:
    return f"Question of the day · {local_date:%a %d %b %Y}"[:THREAD_NAME_LIMIT]


def local_moment(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local:%a %d %b %H:%M} {local.tzname()}"


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def schedule_line(channel: DailyChannel) -> str:
    deck = f"deck {shown(channel.deck_id)}" if channel.deck_id else "all decks"
    days = upper_first(format_weekdays(channel.weekdays))
    return f"{days} at {channel.post_time} {channel.timezone} · {deck}"


USAGE_SET = "/daily set CHANNEL HH:MM AREA/CITY [deck] [weekdays]"
ADMIN_HINT = "Ask a server or workspace admin to set it up."

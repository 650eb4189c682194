"""The wording of /help."""

from __future__ import annotations

from bot.core.messages import Message, Section


def help_message() -> Message:
    return Message(
        title="studybot — learn together with spaced repetition",
        sections=(
            Section(
                "/quiz [deck] — your next question: cards due for review first, then new ones\n"
                "/stats — your streak, cards learned and due, recall, points\n"
                "/leaderboard [week|month|all] — top members and teams\n"
                "/team join NAME · /team leave · /team list — study as a squad\n"
                "/decks — the decks and your progress\n"
                "/daily set CHANNEL HH:MM AREA/CITY [deck] [weekdays] · /daily off · /daily status ·"
                " /daily now — the question of the day (admins set it up)\n"
                "/help — this message",
                "Commands",
            ),
            Section(
                "Reveal the answer, then grade yourself honestly: Again, Hard, Good or Easy. "
                "The scheduler brings each card back just before you would forget it. "
                "Every graded card earns the same points, so honesty never costs you.",
                "How it works",
            ),
        ),
    )

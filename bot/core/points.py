"""The points rule. Points reward practice, never claimed correctness (see README, "Points")."""

from __future__ import annotations

from bot.core.models import Grade

PRACTICE_POINTS = 10
WRITTEN_ANSWER_BONUS = 5


def points_for(grade: Grade, wrote_answer: bool) -> int:
    """Every graded card earns the same, whatever the grade; writing an answer first earns a bonus.

    The grade is accepted but deliberately unused: an honest "Again" must never earn less than "Easy".
    """
    del grade
    return PRACTICE_POINTS + (WRITTEN_ANSWER_BONUS if wrote_answer else 0)

"""The wording of progress: a member's stats and the leaderboard."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.core.messages import Attachment, Message, Section
from bot.core.model.models import (
    BoardRow,
    Grade,
    MemberStats,
    Period,
    TeamRow,
)
from bot.core.model.stats_picture import StatsPicture
from bot.core.model.streaks import current_streak
from bot.core.texts.words import number, plural

PERIOD_TITLES = {Period.WEEK: "this week", Period.MONTH: "this month", Period.ALL: "all time"}


def stats(
    stats: MemberStats,
    streak: int,
    best: int,
    studied_today: bool,
    team: str | None,
    freezes: int = 0,
    saved: int = 0,
) -> Message:
    total = sum(stats.grade_counts.values())
    if total:
        recalled = total - stats.grade_counts.get(Grade.AGAIN, 0)
        breakdown = ", ".join(f"{g.label} {stats.grade_counts.get(g, 0)}" for g in Grade)
        recall = f"{round(100 * recalled / total)}% recalled over {plural(total, 'review')} ({breakdown})"
    else:
        recall = "no reviews yet"
    streak_line = f"🔥 {plural(streak, 'day')} (best {best})"
    if streak and not studied_today:
        streak_line += " — study today to keep it"
    saved_line = plural(saved, "missed day")
    freeze_line = f"🧊 {freezes} held (one per 7 days in a row, at most 2), {saved_line} saved"
    sections = [
        Section(streak_line, "Streak"),
        Section(freeze_line, "Streak freezes"),
        Section(f"{stats.cards_learned} learned, {stats.cards_due} due now", "Cards"),
        Section(recall, "Recall by self-grade"),
        Section(f"{stats.points_week} this week, {stats.points_all} all time", "Points"),
    ]
    if team:
        sections.append(Section(team, "Team"))
    return Message(title="Your study stats", sections=tuple(sections))


def leaderboard(
    period: Period,
    top: Sequence[BoardRow],
    mine: BoardRow | None,
    member_id: int,
    teams: Sequence[TeamRow],
    today: date,
) -> Message:
    def line(row: BoardRow) -> str:
        streak = current_streak(row.streak_current, row.last_study_day, today, row.streak_freezes)
        you = " (you)" if row.member_id == member_id else ""
        return f"{row.rank}. {row.display_name}{you} — {plural(row.points, 'pt')} · 🔥 {streak}"

    if top:
        lines = [line(row) for row in top]
        if mine is not None:
            lines += ["…", line(mine)]
        elif all(row.member_id != member_id for row in top):
            lines.append("You have no points in this period yet: /quiz to get on the board.")
        sections = [Section("\n".join(lines), "Members")]
    else:
        sections = [Section("Nobody has studied in this period yet. Be the first: /quiz")]
    if teams:
        team_lines = [
            f"{t.rank}. {t.name} — {number(t.per_member)} pts per active member "
            f"({plural(t.points, 'pt')}, {t.active_members} active)"
            for t in teams
        ]
        sections.append(Section("\n".join(team_lines), "Teams"))
    return Message(title=f"Leaderboard · {PERIOD_TITLES[period]}", sections=tuple(sections))


def stats_attachment(png: bytes, picture: StatsPicture) -> Attachment:
    described = (
        f"Study calendar of the last 12 weeks ({plural(picture.days_studied(), 'day')} studied, "
        f"{plural(picture.graded_in_window(), 'card')} graded), recall by grade and cards by state"
    )
    return Attachment("stats.png", png, "image/png", described)

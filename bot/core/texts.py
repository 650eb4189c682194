"""How the core words its replies. Plain text with **bold**; adapters escape it for their platform."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core import cardtext
from bot.core.actions import GradeAsk, Next, Reveal, Skip, Write
from bot.core.keyterms import Coverage, TermMatch
from bot.core.messages import Action, Message, Section, Style
from bot.core.models import (
    AskRow,
    BoardRow,
    Deck,
    DeckProblem,
    DeckProgress,
    Grade,
    MemberStats,
    Period,
    StoredCard,
    TeamRow,
    TeamSize,
)
from bot.core.scheduling import format_interval
from bot.core.streaks import current_streak

GRADE_STYLES = {
    Grade.AGAIN: Style.DANGER,
    Grade.HARD: Style.SECONDARY,
    Grade.GOOD: Style.SUCCESS,
    Grade.EASY: Style.PRIMARY,
}
PERIOD_TITLES = {Period.WEEK: "this week", Period.MONTH: "this month", Period.ALL: "all time"}


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`1 question`, `2 questions`: every count in a reply goes through here."""
    return f"{count} {noun if count == 1 else (many or noun + 's')}"


def number(value: float) -> str:
    """A whole number without a decimal (`75`), otherwise one decimal (`7.5`)."""
    shown = f"{value:.1f}"
    return shown.removesuffix(".0")


def card_label(card: StoredCard) -> str:
    return f"{card.deck_id} #{card.number}" + (" (follow-up)" if card.parent_id else "")


def question(ask_id: int, card: StoredCard, kind: str) -> Message:
    return Message(
        title=f"{kind} · {card_label(card)}",
        sections=(Section(cardtext.bold_lead(card.question), markdown=True),),
        actions=(
            Action(Reveal(ask_id).id, "Reveal answer", Style.PRIMARY),
            Action(Write(ask_id).id, "Write my answer"),
            Action(Skip(ask_id).id, "Skip"),
        ),
        footer="Think of your answer first, then reveal and grade yourself honestly.",
    )


def reveal(
    ask: AskRow,
    intervals: dict[Grade, timedelta],
    coverage: Sequence[TermMatch] | None,
) -> Message:
    sections = [Section(ask.card.question, "Question", markdown=True)]
    if ask.typed_answer:
        sections.append(Section(cardtext.escape(ask.typed_answer), "Your answer", markdown=True))
    sections.append(Section(ask.card.answer, "Model answer", markdown=True))
    if coverage:
        sections.append(Section(key_term_lines(coverage), "Key terms", markdown=True))
    actions = tuple(
        Action(
            GradeAsk(ask.id, g).id,
            f"{g.label} · {format_interval(intervals[g])}",
            GRADE_STYLES[g],
        )
        for g in Grade
    )
    return Message(
        title=f"Answer · {card_label(ask.card)}",
        sections=tuple(sections),
        actions=actions,
        footer="How well did you know it? Every honest grade earns the same points.",
    )


def key_term_lines(coverage: Sequence[TermMatch]) -> str:
    """Covered and missed terms (`none` when empty), and the partly covered ones when there are some."""
    lines = []
    for kind in Coverage:
        terms = [cardtext.escape(m.term) for m in coverage if m.coverage is kind]
        if terms or kind is not Coverage.PARTLY:
            lines.append(f"{kind.capitalize()}: {', '.join(terms) or 'none'}")
    return "\n".join(lines)


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


def graded(
    ask: AskRow,
    grade: Grade,
    points: int,
    due: datetime,
    now: datetime,
    tz: ZoneInfo,
    streak: int,
    followup_action: Action | None,
) -> Message:
    lines = [f"+{plural(points, 'point')} · 🔥 {streak}-day streak"]
    if not points:
        lines.append("This card already earned you points today; it counts once a day.")
    elif ask.typed_answer:
        lines.append("Includes a bonus for writing your answer first.")
    actions = [followup_action] if followup_action else []
    actions.append(Action(Next().id, "Next question", Style.SECONDARY))
    return Message(
        title=f"{grade.label} — next review {when(due, now, tz)}.",
        sections=(Section("\n".join(lines)),),
        actions=tuple(actions),
    )


def stats(stats: MemberStats, streak: int, best: int, studied_today: bool, team: str | None) -> Message:
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
    sections = [
        Section(streak_line, "Streak"),
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
        streak = current_streak(row.streak_current, row.last_study_day, today)
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


def teams(sizes: Sequence[TeamSize], own_team_id: int | None) -> Message:
    if not sizes:
        return Message(
            title="There are no teams here yet.",
            sections=(Section("Start one with /team join NAME; others join it by the same name."),),
        )
    lines = [
        f"{t.name} — {plural(t.members, 'member')}" + (" (yours)" if t.team_id == own_team_id else "")
        for t in sizes
    ]
    return Message(
        title="Teams",
        sections=(Section("\n".join(lines)), Section("Join one with /team join NAME, or start your own.")),
    )


def decks(progress: Sequence[DeckProgress], problems: Sequence[DeckProblem]) -> Message:
    sections = [
        Section(
            f"{plural(p.main_cards, 'question')} + {plural(p.followup_cards, 'follow-up')} · "
            f"you've learned {p.learned}, {p.due} due\n"
            f"/quiz {p.deck_id}",
            p.title,
        )
        for p in progress
    ]
    if not sections:
        sections.append(Section("No decks are loaded."))
    if problems:
        sections.append(_refused_section(problems))
    return Message(title="Decks", sections=tuple(sections))


REFUSED_HEADING = "Decks refused (fix the files, then /decks reload)"


def _refused_section(problems: Sequence[DeckProblem]) -> Section:
    # Problems quote deck syntax (`**Theory:**`): escaped, so they read exactly as an author must write it.
    return Section(cardtext.escape(_refused(problems)), REFUSED_HEADING, markdown=True)


def _refused(problems: Sequence[DeckProblem], shown: int = 10) -> str:
    lines = [str(p) for p in problems[:shown]]
    if len(problems) > shown:
        lines.append(f"… and {len(problems) - shown} more: run `studybot decks check` for all of them")
    return "\n".join(lines)


def decks_reloaded(served: Sequence[Deck], problems: Sequence[DeckProblem]) -> Message:
    """The answer to /decks reload: what is served now, and why the other files were refused."""

    def count(n: int, noun: str) -> str:
        return f"{n} {noun}" + ("" if n == 1 else "s")

    lines = [
        f"{d.id} — “{d.title}”, {count(len(d.main_cards), 'question')} + "
        f"{count(len(d.followup_cards), 'follow-up')}"
        for d in served
    ]
    sections = [Section("\n".join(lines) or "No deck is loaded.", "Served now")]
    if problems:
        sections.append(_refused_section(problems))
    refused_files = len({p.path for p in problems})
    return Message(
        title=f"Decks reloaded: {len(served)} served, {refused_files} refused",
        sections=tuple(sections),
        is_error=bool(problems),
    )


def help_message(commands: Sequence[str]) -> Message:
    """/help: `commands` are the usage lines of the command table (core/commands.py)."""
    return Message(
        title="studybot — learn together with spaced repetition",
        sections=(
            Section(
                "\n".join(commands),
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

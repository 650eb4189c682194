"""StudyService: the one API every adapter calls. It decides; adapters only translate."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bot.core import actions, scheduling, texts
from bot.core.daily import DailyService
from bot.core.keyterms import match_key_terms
from bot.core.library import DeckLibrary, DeckReport
from bot.core.messages import Action, Form, Message, Reply, Section, Style, error
from bot.core.models import (
    AskRow,
    Caller,
    CardKind,
    CardState,
    Deck,
    DeckProblem,
    Grade,
    GradeContext,
    GradeRecord,
    MemberRow,
    Period,
    StoredCard,
)
from bot.core.points import points_for
from bot.core.ports import Clock, Store, SystemClock
from bot.core.streaks import current_streak, local_day, period_start, zone
from bot.core.typed_text import echo, refuse

log = logging.getLogger(__name__)

ANSWER_LIMIT = 2000
TEAM_NAME_LIMIT = 40  # the size of teams.name and teams.name_key
LEADERBOARD_SIZE = 10
# A skipped card stays out of the way for this long, so Skip really gives another question.
SKIP_COOLDOWN = timedelta(hours=12)
PERIOD_NAMES = {
    "week": Period.WEEK,
    "month": Period.MONTH,
    "all": Period.ALL,
    "alltime": Period.ALL,
    "all-time": Period.ALL,
    "all time": Period.ALL,
}


@dataclass(frozen=True)
class Who:
    """A caller resolved to a member, with the zones their days and boards are counted in."""

    member: MemberRow
    member_tz: str | None
    workspace_tz: str | None


class StudyService:
    def __init__(
        self,
        store: Store,
        clock: Clock | None = None,
        *,
        answer_limit: int = ANSWER_LIMIT,
        content: Sequence[Path] = (),
    ) -> None:
        self.store = store
        self.clock: Clock = clock or SystemClock()
        self.answer_limit = answer_limit
        self.library = DeckLibrary(store, self.clock, content)
        self.daily = DailyService(store, self.clock, self)

    # -- set-up ---------------------------------------------------------------------------------

    async def load_decks(self, decks: Sequence[Deck], problems: Sequence[DeckProblem] = ()) -> DeckReport:
        """Serve the valid decks; remember the problems (theirs and the database's) so admins see them."""
        return await self.library.load(decks, problems)

    @property
    def deck_problems(self) -> tuple[DeckProblem, ...]:
        return self.library.problems

    async def who(self, caller: Caller) -> Who:
        workspace_tz = await self.store.ensure_workspace(caller.workspace_id, caller.platform)
        member = await self.store.ensure_member(
            caller.workspace_id, caller.user_ref, caller.display_name, caller.timezone
        )
        return Who(member, caller.timezone or member.timezone or workspace_tz, workspace_tz)

    async def resolve_deck(self, name: str | None) -> str | Message | None:
        """A deck id from what the member typed (exact or unique prefix), or an error listing the decks."""
        if not name:
            return None
        ids = await self.store.deck_ids()
        wanted = name.strip().casefold()
        matches = [d for d in ids if d.casefold() == wanted] or [
            d for d in ids if d.casefold().startswith(wanted)
        ]
        if len(matches) == 1:
            return matches[0]
        return error(
            f"There is no deck called “{echo(name)}”.",
            f"Decks: {', '.join(ids) or 'none loaded'}. See /decks.",
        )

    # -- asking ---------------------------------------------------------------------------------

    async def quiz(self, caller: Caller, deck: str | None = None) -> Message:
        """The member's next card: the most overdue review first, otherwise a new card."""
        if refused := refuse(caller, deck_name=deck):
            return refused
        deck_id = await self.resolve_deck(deck)
        if isinstance(deck_id, Message):
            return deck_id
        who = await self.who(caller)
        now = self.clock.now()
        skipped_since = now - SKIP_COOLDOWN
        card = await self.store.pick_due_card(who.member.id, now, deck_id, skipped_since)
        is_due = card is not None
        if card is None:
            card = await self.store.pick_new_card(who.member.id, deck_id, skipped_since)
        if card is None:
            return await self._caught_up(who, deck_id)
        ask_id = await self.store.find_open_ask(who.member.id, card.id)
        if ask_id is None:
            ask_id = await self.store.create_ask(who.member.id, card.id, "quiz", now)
        return texts.question(ask_id, card, "Review" if is_due else "New card")

    async def _caught_up(self, who: Who, deck_id: str | None) -> Message:
        next_due = await self.store.next_due(who.member.id, deck_id)
        if next_due is None:
            return Message(
                title="There are no questions to ask yet.", sections=(Section("No deck is loaded."),)
            )
        when = texts.when(next_due, self.clock.now(), zone(who.member_tz))
        return Message(
            title="You're all caught up! 🎉",
            sections=(Section(f"Your next card is due {when}. Come back then to keep your streak going."),),
        )

    async def _own_ask(
        self, caller: Caller, ask_id: int, ungraded: bool = False
    ) -> tuple[Who, AskRow] | Message:
        """The caller's own ask, or the error to show; with `ungraded`, an ask already graded is an error."""
        ask = await self.store.get_ask(ask_id)
        if ask is None or ask.workspace_id != caller.workspace_id:
            return error("That question no longer exists.", "Use /quiz for a new one.")
        who = await self.who(caller)
        if ask.member_id != who.member.id:
            return error("That question was asked to someone else.", "Use /quiz to get your own.")
        if ungraded and ask.grade is not None:
            return self._already_graded(ask)
        return who, ask

    async def write_form(self, caller: Caller, ask_id: int) -> Reply:
        if refused := refuse(caller):
            return refused
        owned = await self._own_ask(caller, ask_id, ungraded=True)
        if isinstance(owned, Message):
            return owned
        _who, ask = owned
        return Form(
            id=actions.AnswerForm(ask.id).id,
            title="Your answer",
            label="Write your answer",
            max_length=self.answer_limit,
            placeholder="Answer in your own words, then compare with the model answer.",
            context=ask.card.question,
        )

    async def answer(self, caller: Caller, ask_id: int, text: str) -> Message:
        """Keep a typed answer, then reveal the model answer next to it."""
        if refused := refuse(caller) or self.check_answer(text):
            return refused
        text = text.strip()
        owned = await self._own_ask(caller, ask_id)
        if isinstance(owned, Message):
            return owned
        _who, ask = owned
        if not await self.store.set_typed_answer(ask.id, text, self.clock.now()):
            return self._already_graded(ask)
        return await self.reveal(caller, ask_id)

    def check_answer(self, text: str) -> Message | None:
        """Why a typed answer can't be kept, or None. Adapters whose forms can show an error in place
        (Slack) ask before closing the form, so the typed text is not lost."""
        if refused := refuse(answer=text):
            return refused
        text = text.strip()
        if not text:
            return error("Your answer was empty.", "Type an answer, or press Reveal answer to just look.")
        if len(text) > self.answer_limit:
            return error(
                f"Your answer is {len(text):,} characters; the limit is {self.answer_limit:,}.",
                "Shorten it and send it again.",
            )
        return None

    async def reveal(self, caller: Caller, ask_id: int) -> Message:
        if refused := refuse(caller):
            return refused
        owned = await self._own_ask(caller, ask_id, ungraded=True)
        if isinstance(owned, Message):
            return owned
        who, ask = owned
        state = await self.store.get_card_state(who.member.id, ask.card.id)
        intervals = scheduling.preview(state, ask.card.id, self.clock.now())
        coverage = None
        if ask.typed_answer:
            coverage = match_key_terms(ask.card.key_terms, ask.typed_answer)
        return texts.reveal(ask, intervals, coverage)

    def _already_graded(self, ask: AskRow) -> Message:
        assert ask.grade is not None
        return error(f"You already graded this question ({ask.grade.label}).", "Use /quiz for the next one.")

    async def skip(self, caller: Caller, ask_id: int) -> Message:
        if refused := refuse(caller):
            return refused
        owned = await self._own_ask(caller, ask_id, ungraded=True)
        if isinstance(owned, Message):
            return owned
        _who, ask = owned
        await self.store.skip_ask(ask.id, self.clock.now())
        return await self.quiz(caller, None)

    # -- grading --------------------------------------------------------------------------------

    async def grade(self, caller: Caller, ask_id: int, grade: Grade) -> Message:
        """Record a self-grade once; a repeated or retried grade changes nothing."""
        if refused := refuse(caller):
            return refused
        now = self.clock.now()
        ctx = await self.store.grade_context(ask_id, caller.workspace_id, caller.user_ref, now)
        if ctx is None or ctx.ask.workspace_id != caller.workspace_id:
            return error("That question no longer exists.", "Use /quiz for a new one.")
        member = ctx.member
        if (
            member is None
            or (caller.display_name and member.display_name != caller.display_name)
            or (caller.timezone and member.timezone != caller.timezone)
        ):
            # A new member, display name or time zone: `who` has to write them first.
            return await self._grade_after_who(caller, ask_id, grade)
        who = Who(member, caller.timezone or member.timezone or ctx.workspace_tz, ctx.workspace_tz)
        if ctx.ask.member_id != member.id:
            return error("That question was asked to someone else.", "Use /quiz to get your own.")
        if ctx.ask.grade is not None:
            return self._already_graded(ctx.ask)
        return await self._record(who, ctx.ask, ctx.state, grade, now, ctx)

    async def _grade_after_who(self, caller: Caller, ask_id: int, grade: Grade) -> Message:
        """The grade the long way, for callers whose member row `who` creates or updates."""
        owned = await self._own_ask(caller, ask_id, ungraded=True)
        if isinstance(owned, Message):
            return owned
        who, ask = owned
        now = self.clock.now()
        state = await self.store.get_card_state(who.member.id, ask.card.id)
        return await self._record(who, ask, state, grade, now, None)

    async def _record(
        self,
        who: Who,
        ask: AskRow,
        state: CardState | None,
        grade: Grade,
        now: datetime,
        ctx: GradeContext | None,
    ) -> Message:
        """Write the grade and answer it; `ctx`, when the grade was read through it, holds the follow-up."""
        new_state = scheduling.review(state, ask.card.id, grade, now)
        board_today = local_day(now, zone(who.workspace_tz))
        points = points_for(grade, wrote_answer=bool(ask.typed_answer))
        record = GradeRecord(
            ask_id=ask.id,
            member_id=who.member.id,
            workspace_id=ask.workspace_id,
            card_id=ask.card.id,
            grade=grade,
            points=points,
            graded_at=now,
            new_state=new_state,
            local_day=local_day(now, zone(who.member_tz)),
            week_start=period_start(Period.WEEK, board_today),
            month_start=period_start(Period.MONTH, board_today),
        )
        outcome = await self.store.record_grade(record)
        if outcome is None:
            fresh = await self.store.get_ask(ask.id)
            if fresh is not None and fresh.grade is not None:
                return self._already_graded(fresh)
            return error("That question could not be graded.", "Use /quiz for a new one.")
        if ctx is not None:
            followup = _offered(ask.card, ctx.followup, ctx.followup_state, now)
        else:
            followup = await self._followup_to_offer(who, ask.card, now)
        return texts.graded(
            ask,
            grade,
            outcome.points,
            new_state.due,
            now,
            zone(who.member_tz),
            outcome.streak,
            followup_action=Action(actions.FollowUp(ask.id).id, "Follow-up question", Style.PRIMARY)
            if followup
            else None,
        )

    async def _followup_to_offer(self, who: Who, card: StoredCard, now: datetime) -> StoredCard | None:
        """A main card's follow-up, when it is new to the member or due."""
        if card.kind is not CardKind.MAIN:
            return None
        followup = await self.store.followup_of(card.id)
        if followup is None:
            return None
        state = await self.store.get_card_state(who.member.id, followup.id)
        return _offered(card, followup, state, now)

    async def followup(self, caller: Caller, ask_id: int) -> Message:
        if refused := refuse(caller):
            return refused
        owned = await self._own_ask(caller, ask_id)
        if isinstance(owned, Message):
            return owned
        who, ask = owned
        now = self.clock.now()
        followup = await self._followup_to_offer(who, ask.card, now)
        if followup is None:
            return error("There is no follow-up waiting for that question.", "Use /quiz for the next one.")
        new_ask = await self.store.find_open_ask(who.member.id, followup.id)
        if new_ask is None:
            new_ask = await self.store.create_ask(
                who.member.id, followup.id, "followup", now, parent_ask_id=ask.id
            )
        return texts.question(new_ask, followup, "Follow-up")

    # -- one entry point for buttons and forms --------------------------------------------------

    async def act(self, caller: Caller, action_id: str) -> Reply:
        """Run a button's action: its id carries everything (see bot/core/actions.py)."""
        match actions.decode_button(action_id):
            case actions.Next(deck):
                return await self.quiz(caller, deck)
            case actions.Reveal(ask_id):
                return await self.reveal(caller, ask_id)
            case actions.Write(ask_id):
                return await self.write_form(caller, ask_id)
            case actions.Skip(ask_id):
                return await self.skip(caller, ask_id)
            case actions.FollowUp(ask_id):
                return await self.followup(caller, ask_id)
            case actions.DailyReveal(post_id):
                return await self.daily.reveal(caller, post_id)
            case actions.GradeAsk(ask_id, grade):
                return await self.grade(caller, ask_id, grade)
            case None if action_id.startswith("grade:"):
                return error("That grade is not one I know.", "Grades: Again, Hard, Good, Easy.")
            case None:
                return error("That button is not one I know.", "Use /quiz to start again.")

    async def submit(self, caller: Caller, form_id: str, text: str) -> Message:
        """A submitted form (see `write_form`)."""
        match actions.decode_form(form_id):
            case actions.AnswerForm(ask_id):
                return await self.answer(caller, ask_id, text)
            case None:
                return error("That form is not one I know.", "Use /quiz to start again.")

    # -- progress -------------------------------------------------------------------------------

    async def stats(self, caller: Caller) -> Message:
        if refused := refuse(caller):
            return refused
        who = await self.who(caller)
        now = self.clock.now()
        today = local_day(now, zone(who.member_tz))
        week = period_start(Period.WEEK, local_day(now, zone(who.workspace_tz)))
        stats = await self.store.member_stats(who.member.id, now, week)
        team = await self.store.team_name(who.member.team_id) if who.member.team_id else None
        streak = current_streak(who.member.streak_current, who.member.last_study_day, today)
        studied_today = who.member.last_study_day == today
        return texts.stats(stats, streak, who.member.streak_best, studied_today, team)

    def _period(self, text: str | None) -> Period | None:
        return PERIOD_NAMES.get((text or "week").strip().casefold())

    async def leaderboard(self, caller: Caller, period_text: str | None = None) -> Message:
        if refused := refuse(caller, period=period_text):
            return refused
        period = self._period(period_text)
        if period is None:
            return error(
                f"“{echo(period_text or '')}” is not a leaderboard period.",
                "Use one of: week, month, all (all time).",
            )
        who = await self.who(caller)
        now = self.clock.now()
        start = period_start(period, local_day(now, zone(who.workspace_tz)))
        top = await self.store.leaderboard(caller.workspace_id, period, start, LEADERBOARD_SIZE)
        mine = None
        if all(row.member_id != who.member.id for row in top):
            mine = await self.store.member_rank(caller.workspace_id, who.member.id, period, start)
        team_rows = await self.store.team_standings(caller.workspace_id, period, start)
        board_today = local_day(now, zone(who.workspace_tz))
        return texts.leaderboard(period, top, mine, who.member.id, team_rows, board_today)

    async def team_join(self, caller: Caller, name: str) -> Message:
        if refused := refuse(caller, team_name=name):
            return refused
        name = " ".join(name.split())
        if not name:
            return error("Give the team a name.", "For example: /team join Owls")
        if len(name) > TEAM_NAME_LIMIT:
            return error(f"Team names can be at most {TEAM_NAME_LIMIT} characters; that one has {len(name)}.")
        if len(name.casefold()) > TEAM_NAME_LIMIT:  # teams are told apart by it: ß counts as ss
            return error(
                f"Team names can be at most {TEAM_NAME_LIMIT} characters when compared "
                f"(ß counts as ss); that one has {len(name.casefold())}."
            )
        if any(ch in name for ch in "<>@#`*_~|"):
            return error(
                "Team names may not contain < > @ # ` * _ ~ or |.", "Letters, digits and spaces work."
            )
        who = await self.who(caller)
        stored = await self.store.join_team(who.member.id, caller.workspace_id, name, self.clock.now())
        return Message(
            title=f"You joined team {stored}.",
            sections=(Section("Your points count for the team on the leaderboard from now on."),),
        )

    async def team_leave(self, caller: Caller) -> Message:
        if refused := refuse(caller):
            return refused
        who = await self.who(caller)
        left = await self.store.leave_team(who.member.id)
        if left is None:
            return error("You are not in a team.", "Join one with /team join NAME.")
        return Message(title=f"You left team {left}.")

    async def team_list(self, caller: Caller) -> Message:
        if refused := refuse(caller):
            return refused
        who = await self.who(caller)
        return texts.teams(await self.store.team_sizes(caller.workspace_id), who.member.team_id)

    async def decks(self, caller: Caller) -> Message:
        if refused := refuse(caller):
            return refused
        who = await self.who(caller)
        progress = await self.store.deck_progress(who.member.id, self.clock.now())
        return texts.decks(progress, self.deck_problems if caller.is_admin else ())

    async def decks_reload(self, caller: Caller) -> Message:
        """Admins: read the deck files again (as SIGHUP does) and say what is served and what refused."""
        return await self.library.reload_for(caller)

    def unknown_command(self, name: str, stale: bool = False) -> Message:
        """`stale`: a chat app still offers a command whose options have since changed."""
        if stale:
            return error(
                f"The command “{echo(name)}” has changed since your app loaded it.",
                "Reload the app (Discord: Ctrl+R) and try again, or use /help for everything I can do.",
            )
        return error(
            f"I don't know the command “{echo(name)}”.",
            "Try /quiz to study, or /help for everything I can do.",
        )


def _offered(
    card: StoredCard, followup: StoredCard | None, state: CardState | None, now: datetime
) -> StoredCard | None:
    """The follow-up to offer after grading `card`: a main card's, when it is new to the member or due."""
    if card.kind is not CardKind.MAIN or followup is None:
        return None
    if state is not None and state.due > now:
        return None
    return followup

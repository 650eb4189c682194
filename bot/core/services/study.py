"""Studying: a member's next card, writing an answer, revealing it, skipping, grading, follow-ups."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.actions import AnswerForm, FollowUp
from bot.core.decks.keyterms import match_key_terms
from bot.core.messages import Action, Field, Form, Message, Style, error
from bot.core.model import grading
from bot.core.model.grading import points_for
from bot.core.model.member_zone import member_tz
from bot.core.model.models import (
    AskRow,
    Caller,
    CardKind,
    CardState,
    Grade,
    GradeContext,
    GradeRecord,
    Period,
    StoredCard,
)
from bot.core.model.streaks import local_day, period_start, zone
from bot.core.ports import Clock, StudyStore
from bot.core.refusal import Refusal, refusal, refuse, refused
from bot.core.services.decks import resolve_deck
from bot.core.services.members import Who, who
from bot.core.texts import study as texts

ANSWER_LIMIT = 2000
ANSWER_FIELD = "answer"  # the answer form's one field
# A skipped card stays out of the way for this long, so Skip really gives another question.
SKIP_COOLDOWN = timedelta(hours=12)


class QuizService:
    """The quiz flow of one member: ask, answer, reveal, skip, grade, follow up."""

    def __init__(self, store: StudyStore, clock: Clock, answer_limit: int = ANSWER_LIMIT) -> None:
        self.store = store
        self.clock = clock
        self.answer_limit = answer_limit

    # -- asking ---------------------------------------------------------------------------------

    async def quiz(self, caller: Caller, deck: str | None = None) -> Message:
        """The member's next card: the most overdue review first, otherwise a new card."""
        refuse(caller, deck_name=deck)
        deck_id = await resolve_deck(self.store, deck, caller.workspace_id)
        me = await who(self.store, caller, self.clock.now())
        now = self.clock.now()
        skipped_since = now - SKIP_COOLDOWN
        card = await self.store.pick_due_card(me.member.id, now, deck_id, skipped_since)
        is_due = card is not None
        if card is None:
            card = await self.store.pick_new_card(me.member.id, deck_id, skipped_since)
        if card is None:
            next_due = await self.store.next_due(me.member.id, deck_id)
            return texts.caught_up(next_due, now, zone(me.member_tz))
        ask_id = await self.store.find_open_ask(me.member.id, card.id)
        if ask_id is None:
            ask_id = await self.store.create_ask(me.member.id, card.id, "quiz", now)
        return texts.question(ask_id, card, "Review" if is_due else "New card")

    async def _own_ask(self, caller: Caller, ask_id: int, ungraded: bool = False) -> tuple[Who, AskRow]:
        """The caller's own ask, refused otherwise; with `ungraded`, an ask already graded is refused."""
        ask = await self.store.get_ask(ask_id)
        if ask is None or ask.workspace_id != caller.workspace_id:
            raise refusal("That question no longer exists.", "Use /quiz for a new one.")
        me = await who(self.store, caller, self.clock.now())
        if ask.member_id != me.member.id:
            raise refusal("That question was asked to someone else.", "Use /quiz to get your own.")
        if ungraded and ask.grade is not None:
            raise _already_graded(ask)
        return me, ask

    async def study_card(self, caller: Caller, card_id: int) -> Message:
        """A digest's Study it: that card, asked to the clicker (again the open ask, if there is one)."""
        refuse(caller)
        card = await self.store.card_by_id(card_id, caller.workspace_id)
        if card is None:
            raise refusal("That card is no longer in any deck.", "Use /quiz for your next card.")
        now = self.clock.now()
        me = await who(self.store, caller, now)
        ask_id = await self.store.find_open_ask(me.member.id, card.id)
        if ask_id is None:
            ask_id = await self.store.create_ask(me.member.id, card.id, "digest", now)
        return texts.question(ask_id, card, "Hardest last week")

    async def write_form(self, caller: Caller, ask_id: int) -> Form:
        refuse(caller)
        _me, ask = await self._own_ask(caller, ask_id, ungraded=True)
        return Form(
            id=AnswerForm(ask.id).id,
            title="Your answer",
            fields=(
                Field(
                    ANSWER_FIELD,
                    "Write your answer",
                    self.answer_limit,
                    placeholder="Answer in your own words, then compare with the model answer.",
                ),
            ),
            context=ask.card.question,
        )

    async def answer(self, caller: Caller, ask_id: int, text: str) -> Message:
        """Keep a typed answer, then reveal the model answer next to it."""
        refuse(caller)
        if problem := self.check_answer(text):
            raise Refusal(problem)
        text = text.strip()
        _me, ask = await self._own_ask(caller, ask_id)
        if not await self.store.set_typed_answer(ask.id, text, self.clock.now()):
            raise _already_graded(ask)
        return await self.reveal(caller, ask_id)

    def check_answer(self, text: str) -> Message | None:
        """Why a typed answer can't be kept, or None. Adapters whose forms can show an error in place
        (Slack) ask before closing the form, so the typed text is not lost."""
        if problem := refused(answer=text):
            return problem
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
        refuse(caller)
        me, ask = await self._own_ask(caller, ask_id, ungraded=True)
        state = await self.store.get_card_state(me.member.id, ask.card.id)
        intervals = grading.preview(state, ask.card.id, self.clock.now())
        coverage = None
        if ask.typed_answer:
            coverage = match_key_terms(ask.card.key_terms, ask.typed_answer)
        return texts.reveal(ask, intervals, coverage)

    async def skip(self, caller: Caller, ask_id: int) -> Message:
        refuse(caller)
        _me, ask = await self._own_ask(caller, ask_id, ungraded=True)
        await self.store.skip_ask(ask.id, self.clock.now())
        return await self.quiz(caller, None)

    # -- grading --------------------------------------------------------------------------------

    async def grade(self, caller: Caller, ask_id: int, grade: Grade) -> Message:
        """Record a self-grade once; a repeated or retried grade changes nothing."""
        refuse(caller)
        now = self.clock.now()
        ctx = await self.store.grade_context(ask_id, caller.workspace_id, caller.user_ref, now)
        if ctx is None or ctx.ask.workspace_id != caller.workspace_id:
            raise refusal("That question no longer exists.", "Use /quiz for a new one.")
        member = ctx.member
        if (
            member is None
            or (caller.display_name and member.display_name != caller.display_name)
            or (caller.timezone and member.timezone != caller.timezone and not member.timezone_chosen)
        ):
            # A new member, display name or time zone: `who` has to write them first.
            return await self._grade_after_who(caller, ask_id, grade)
        me = Who(member, member_tz(member, caller.timezone, ctx.workspace_tz, now), ctx.workspace_tz)
        if ctx.ask.member_id != member.id:
            raise refusal("That question was asked to someone else.", "Use /quiz to get your own.")
        if ctx.ask.grade is not None:
            raise _already_graded(ctx.ask)
        return await self._record(me, ctx.ask, ctx.state, grade, now, ctx)

    async def _grade_after_who(self, caller: Caller, ask_id: int, grade: Grade) -> Message:
        """The grade the long way, for callers whose member row `who` creates or updates."""
        me, ask = await self._own_ask(caller, ask_id, ungraded=True)
        state = await self.store.get_card_state(me.member.id, ask.card.id)
        return await self._record(me, ask, state, grade, self.clock.now(), None)

    async def _record(
        self,
        me: Who,
        ask: AskRow,
        state: CardState | None,
        grade: Grade,
        now: datetime,
        ctx: GradeContext | None,
    ) -> Message:
        """Write the grade and answer it; `ctx`, when the grade was read through it, holds the follow-up."""
        new_state = grading.review(state, ask.card.id, grade, now)
        board_today = local_day(now, zone(me.workspace_tz))
        record = GradeRecord(
            ask_id=ask.id,
            member_id=me.member.id,
            workspace_id=ask.workspace_id,
            card_id=ask.card.id,
            grade=grade,
            points=points_for(grade, wrote_answer=bool(ask.typed_answer)),
            graded_at=now,
            new_state=new_state,
            local_day=local_day(now, zone(me.member_tz)),
            week_start=period_start(Period.WEEK, board_today),
            month_start=period_start(Period.MONTH, board_today),
            streak_seen=me.member.streak,
        )
        outcome = await self.store.record_grade(record)
        if outcome is None:
            fresh = await self.store.get_ask(ask.id)
            if fresh is not None and fresh.grade is not None:
                raise _already_graded(fresh)
            raise refusal("That question could not be graded.", "Use /quiz for a new one.")
        if ctx is not None:
            followup = _offered(ask.card, ctx.followup, ctx.followup_state, now)
        else:
            followup = await self._followup_to_offer(me, ask.card, now)
        return texts.graded(
            ask,
            grade,
            outcome.points,
            new_state.due,
            now,
            zone(me.member_tz),
            outcome.streak,
            followup_action=Action(FollowUp(ask.id).id, "Follow-up question", Style.PRIMARY)
            if followup
            else None,
        )

    async def _followup_to_offer(self, me: Who, card: StoredCard, now: datetime) -> StoredCard | None:
        """A main card's follow-up, when it is new to the member or due."""
        if card.kind is not CardKind.MAIN:
            return None
        followup = await self.store.followup_of(card.id)
        if followup is None:
            return None
        state = await self.store.get_card_state(me.member.id, followup.id)
        return _offered(card, followup, state, now)

    async def followup(self, caller: Caller, ask_id: int) -> Message:
        refuse(caller)
        me, ask = await self._own_ask(caller, ask_id)
        now = self.clock.now()
        followup = await self._followup_to_offer(me, ask.card, now)
        if followup is None:
            raise refusal("There is no follow-up waiting for that question.", "Use /quiz for the next one.")
        new_ask = await self.store.find_open_ask(me.member.id, followup.id)
        if new_ask is None:
            new_ask = await self.store.create_ask(
                me.member.id, followup.id, "followup", now, parent_ask_id=ask.id
            )
        return texts.question(new_ask, followup, "Follow-up")


def _already_graded(ask: AskRow) -> Refusal:
    assert ask.grade is not None
    return refusal(f"You already graded this question ({ask.grade.label}).", "Use /quiz for the next one.")


def _offered(
    card: StoredCard, followup: StoredCard | None, state: CardState | None, now: datetime
) -> StoredCard | None:
    """The follow-up to offer after grading `card`: a main card's, when it is new to the member or due."""
    if card.kind is not CardKind.MAIN or followup is None:
        return None
    if state is not None and state.due > now:
        return None
    return followup

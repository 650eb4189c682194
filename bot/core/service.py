"""StudyService: the one facade every adapter calls. It composes the services of bot/core/services/ (one
job each, none holding another) and turns their refusals into the error replies adapters show."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from bot.core import actions
from bot.core.messages import FormValues, Message, Reply, Section, Upload, error
from bot.core.model.daily import ClaimResult, DailyChannel, DailyClaim, PostTrigger
from bot.core.model.models import Caller, Deck, DeckProblem, Grade
from bot.core.model.stats_picture import StatsPicture
from bot.core.model.typed_text import echo
from bot.core.ports import Clock, DailyStore, Store, SystemClock
from bot.core.refusal import Refusal
from bot.core.services import members
from bot.core.services.card_outcomes import CardOutcomeService
from bot.core.services.daily_admin import DailyAdminService
from bot.core.services.daily_hooks import DailyHooks
from bot.core.services.daily_posting import DailyPostingService
from bot.core.services.decks import DeckReport, DeckService, resolve_deck
from bot.core.services.digest import DigestService
from bot.core.services.outreach import OutreachClaims
from bot.core.services.progress import ProgressService
from bot.core.services.reminders import ReminderService
from bot.core.services.settings import SettingsService
from bot.core.services.study import ANSWER_FIELD, ANSWER_LIMIT, QuizService
from bot.core.services.teams import TeamService
from bot.core.services.workspace_decks import WorkspaceDeckService

R = TypeVar("R")


async def caught(call: Awaitable[R]) -> R | Message:
    """The call's reply, or the message of the refusal it raised."""
    try:
        return await call
    except Refusal as refused:
        return refused.message


class StudyService:
    def __init__(
        self,
        store: Store,
        clock: Clock | None = None,
        *,
        answer_limit: int = ANSWER_LIMIT,
        content: Sequence[Path] = (),
        render_picture: Callable[[StatsPicture], bytes] | None = None,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.answer_limit = answer_limit
        self.study = QuizService(store, self.clock, answer_limit)
        self.progress = ProgressService(store, self.clock, render_picture)
        self.teams = TeamService(store, self.clock)
        self.library = DeckService(store, self.clock, content)
        self.settings = SettingsService(store, self.clock)
        self.reminders = ReminderService(store, self.clock)
        self.digests = DigestService(store, self.clock)
        self.outreach = OutreachClaims(store, self.clock)
        self.own_decks = WorkspaceDeckService(store, self.clock)
        self.card_outcomes = CardOutcomeService(store, self.clock)
        hooks = DailyHooks()
        self.daily = DailyDesk(
            DailyAdminService(store, self.clock, hooks),
            DailyPostingService(store, self.clock, hooks),
            self.study,
            hooks,
        )
        self._store = store

    @property
    def store(self) -> Store:
        return self._store

    @store.setter
    def store(self, store: Store) -> None:
        """Swap the store under every service (tests put a counting wrapper in front)."""
        self._store = store
        for part in (
            self.study,
            self.progress,
            self.teams,
            self.library,
            self.settings,
            self.reminders,
            self.digests,
            self.outreach,
            self.own_decks,
            self.card_outcomes,
            self.daily.admin,
            self.daily.posting,
        ):
            part.store = store

    # -- set-up ---------------------------------------------------------------------------------

    async def load_decks(self, decks: Sequence[Deck], problems: Sequence[DeckProblem] = ()) -> DeckReport:
        """Serve the valid decks; remember the problems (theirs and the database's) so admins see them."""
        return await self.library.load(decks, problems)

    @property
    def deck_problems(self) -> tuple[DeckProblem, ...]:
        return self.library.problems

    async def who(self, caller: Caller) -> members.Who:
        return await members.who(self.store, caller)

    async def resolve_deck(self, name: str | None, caller: Caller | None = None) -> str | Message | None:
        """A deck id from what the member typed (exact or unique prefix), among the bundled decks and the
        caller's workspace's own, or an error listing the decks."""
        return await caught(resolve_deck(self.store, name, caller.workspace_id if caller else None))

    # -- studying -------------------------------------------------------------------------------

    async def quiz(self, caller: Caller, deck: str | None = None) -> Message:
        """The member's next card: the most overdue review first, otherwise a new card."""
        return await caught(self.study.quiz(caller, deck))

    async def write_form(self, caller: Caller, ask_id: int) -> Reply:
        return await caught(self.study.write_form(caller, ask_id))

    async def answer(self, caller: Caller, ask_id: int, text: str) -> Message:
        """Keep a typed answer, then reveal the model answer next to it."""
        return await caught(self.study.answer(caller, ask_id, text))

    def check_answer(self, text: str) -> Message | None:
        """Why a typed answer can't be kept, or None. Adapters whose forms can show an error in place
        (Slack) ask before closing the form, so the typed text is not lost."""
        return self.study.check_answer(text)

    async def reveal(self, caller: Caller, ask_id: int) -> Message:
        return await caught(self.study.reveal(caller, ask_id))

    async def skip(self, caller: Caller, ask_id: int) -> Message:
        return await caught(self.study.skip(caller, ask_id))

    async def grade(self, caller: Caller, ask_id: int, grade: Grade) -> Message:
        """Record a self-grade once; a repeated or retried grade changes nothing."""
        return await caught(self.study.grade(caller, ask_id, grade))

    async def followup(self, caller: Caller, ask_id: int) -> Message:
        return await caught(self.study.followup(caller, ask_id))

    # -- one entry point for buttons and forms --------------------------------------------------

    async def act(self, caller: Caller, action_id: str) -> Reply:
        """Run a button's action: its id carries everything (see bot/core/actions.py)."""
        button = actions.decode_button(action_id)
        if caller.in_dm and button is not None:
            caller = await members.home(self.store, caller, button)
        match button:
            case actions.StartReview(_member_id):
                return await self.quiz(caller)
            case actions.StudyCard(card_id):
                return await caught(self.study.study_card(caller, card_id))
            case actions.StopReminders(member_id):
                return await caught(self.settings.stop_reminders(caller, member_id))
            case actions.Next(deck, _member_id):
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
            case actions.OnSuggestion(suggestion_id, verb):
                return await caught(self.own_decks.on_suggestion(caller, suggestion_id, verb))
            case actions.RemoveDeck(name):
                return await caught(self.own_decks.remove_confirmed(caller, name))
            case None if action_id.startswith("grade:"):
                return error("That grade is not one I know.", "Grades: Again, Hard, Good, Easy.")
            case None:
                return error("That button is not one I know.", "Use /quiz to start again.")

    async def submit(self, caller: Caller, form_id: str, values: FormValues | str) -> Message:
        """A submitted form, its values keyed by field name; a one-field form may be given as its text."""
        if isinstance(values, str):
            values = {ANSWER_FIELD: values}
        form = actions.decode_form(form_id)
        if caller.in_dm and form is not None:
            caller = await members.home(self.store, caller, form)
        match form:
            case actions.AnswerForm(ask_id):
                return await self.answer(caller, ask_id, values.get(ANSWER_FIELD, ""))
            case actions.CardForm(deck):
                return await caught(self.own_decks.submit_card(caller, deck, values))
            case actions.SuggestionForm(suggestion_id):
                return await caught(self.own_decks.submit_suggestion(caller, suggestion_id, values))
            case None:
                return error("That form is not one I know.", "Use /quiz to start again.")

    # -- progress, teams, decks -----------------------------------------------------------------

    async def stats(self, caller: Caller) -> Message:
        return await caught(self.progress.stats(caller))

    async def settings_show(self, caller: Caller) -> Message:
        return await caught(self.settings.show(caller))

    async def settings_timezone(self, caller: Caller, text: str) -> Message:
        return await caught(self.settings.timezone(caller, text))

    async def settings_reminders(self, caller: Caller, text: str) -> Message:
        return await caught(self.settings.reminders(caller, text))

    async def leaderboard(self, caller: Caller, period_text: str | None = None) -> Message:
        return await caught(self.progress.leaderboard(caller, period_text))

    async def team_join(self, caller: Caller, name: str) -> Message:
        return await caught(self.teams.join(caller, name))

    async def team_leave(self, caller: Caller) -> Message:
        return await caught(self.teams.leave(caller))

    async def team_list(self, caller: Caller) -> Message:
        return await caught(self.teams.list(caller))

    async def decks(self, caller: Caller) -> Message:
        return await caught(self.library.decks(caller))

    async def decks_reload(self, caller: Caller) -> Message:
        """Admins: read the deck files again (as SIGHUP does) and say what is served and what refused."""
        return await caught(self.library.reload_for(caller))

    # -- a workspace's own decks (bot/core/services/workspace_decks.py) ---------------------------

    async def deck_import(self, caller: Caller, upload: Upload | None) -> Message:
        """Admins: import a deck file (Markdown, CSV/TSV, Quizlet, Anki) as this workspace's deck, or
        update the deck of that name; every problem named, nothing half-written."""
        return await caught(self.own_decks.import_file(caller, upload))

    async def deck_export(self, caller: Caller, deck: str | None) -> Message:
        """The deck as a Markdown deck file (the reply's one attachment)."""
        return await caught(self.own_decks.export(caller, deck))

    async def deck_add(self, caller: Caller, deck: str | None) -> Reply:
        """The form for a new card of a workspace deck (an admin's new name starts a deck)."""
        return await caught(self.own_decks.add_form(caller, deck))

    async def card_from_message(self, caller: Caller, text: str) -> Reply:
        """ "Make a study card" on a chat message: the card form with the message text as its answer (or
        an error when the message cannot be one). Submitting goes through `submit`."""
        return self.own_decks.card_from_message(caller, text)

    async def deck_names(self, caller: Caller) -> list[str]:
        """The names members type for the decks served to the caller's workspace (bundled and its own), for
        autocompletion."""
        return [d.name for d in await self.store.deck_infos(caller.workspace_id)]

    async def deck_review(self, caller: Caller) -> Message:
        """Admins: the next suggested card, with Approve, Edit and Reject."""
        return await caught(self.own_decks.review(caller))

    async def deck_remove(self, caller: Caller, deck: str | None) -> Message:
        """Admins: ask to confirm retiring a workspace deck (bundled decks cannot be removed)."""
        return await caught(self.own_decks.remove(caller, deck))

    async def with_news(self, caller: Caller, reply: Reply) -> Reply:
        """`reply`, followed by what admins decided on the caller's suggested cards since they were last
        told (every command's reply carries it, on every platform)."""
        if not isinstance(reply, Message):
            return reply
        news = await caught(self.own_decks.outcomes(caller))
        if news is None or news.is_error:
            return reply
        heading = news.title
        added = tuple(Section(s.text, heading, s.markdown) for s in news.sections)
        return dataclasses.replace(reply, sections=reply.sections + added)

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


class DailyDesk:
    """`service.daily`: `/daily` for admins, the Reveal button of a post for everyone (refusals become
    replies here), and the daily-posting calls the runner makes."""

    def __init__(
        self, admin: DailyAdminService, posting: DailyPostingService, study: QuizService, hooks: DailyHooks
    ) -> None:
        self.admin = admin
        self.posting = posting
        self._study = study
        self._hooks = hooks

    @property
    def store(self) -> DailyStore:
        return self.posting.store

    @property
    def trigger(self) -> PostTrigger | None:
        return self._hooks.trigger

    @trigger.setter
    def trigger(self, trigger: PostTrigger | None) -> None:
        self._hooks.trigger = trigger

    @property
    def listeners(self) -> list[Callable[[], None]]:
        return self._hooks.listeners

    # -- admins and members ---------------------------------------------------------------------

    async def configure(
        self,
        caller: Caller,
        channel_ref: str,
        time_text: str,
        tz_text: str,
        deck: str | None = None,
        weekdays: str | None = None,
    ) -> Message:
        return await caught(self.admin.configure(caller, channel_ref, time_text, tz_text, deck, weekdays))

    async def off(self, caller: Caller, channel_ref: str) -> Message:
        return await caught(self.admin.off(caller, channel_ref))

    async def status(self, caller: Caller, channel_ref: str | None = None) -> Message:
        return await caught(self.admin.status(caller, channel_ref))

    async def digest(self, caller: Caller, channel_ref: str, switch: str) -> Message:
        return await caught(self.admin.digest(caller, channel_ref, switch))

    async def post_now(self, caller: Caller, channel_ref: str) -> Message:
        return await caught(self.admin.post_now(caller, channel_ref))

    async def reveal(self, caller: Caller, post_id: int) -> Message:
        """The clicker's private answer to a daily post; grading it is ordinary practice."""

        async def reveal() -> Message:
            return await self._study.reveal(caller, await self.posting.ask_for(caller, post_id))

        return await caught(reveal())

    # -- for the runner -------------------------------------------------------------------------

    async def due(
        self,
        now: datetime,
        grace: timedelta,
        claim_timeout: timedelta,
        platforms: Collection[str] | None = None,
    ) -> list[tuple[DailyChannel, date]]:
        return await self.posting.due(now, grace, claim_timeout, platforms)

    async def channels(self, active_only: bool = True) -> list[DailyChannel]:
        return await self.posting.channels(active_only)

    async def channel(self, channel_id: int) -> DailyChannel | None:
        return await self.posting.channel(channel_id)

    async def claim_many(
        self, items: Sequence[tuple[int, date]], claimed_by: str, claim_timeout: timedelta
    ) -> list[ClaimResult]:
        return await self.posting.claim_many(items, claimed_by, claim_timeout)

    async def build_posts(self, claims: Sequence[DailyClaim]) -> list[Message]:
        return await self.posting.build_posts(claims)

    async def renew_claims(self, held: Sequence[tuple[int, str]], attempt: bool = False) -> set[int]:
        return await self.posting.renew_claims(held, attempt)

    async def posted_many(self, posts: Sequence[tuple[int, str, str | None]]) -> None:
        await self.posting.posted_many(posts)

    async def failed(self, post_id: int, reason: str) -> None:
        await self.posting.failed(post_id, reason)

    async def pause(self, channel_id: int, reason: str, post_id: int | None) -> None:
        await self.posting.pause(channel_id, reason, post_id)

    def no_cards_reason(self, channel: DailyChannel) -> str:
        return self.posting.no_cards_reason(channel)

"""Button and form ids: what a click or a submitted form asks for, typed, and its text form.

A button carries everything needed to act on it in its id, so it keeps working after a restart; that
makes these texts a format that outlives releases: `reveal:42`, `grade:42:good`, `next`, `daily:7` and
`answer:42` must decode the same way as long as such a button can still be clicked. Ids come back from
the platforms as the member's client sends them, so decoding takes any text and answers None for
anything this module did not build.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from bot.core.decks.workspace import is_deck_name
from bot.core.model.models import Grade

ID_LIMIT = 100  # Discord's custom_id limit, the smallest of the platforms'
_NUMBER = re.compile(r"[0-9]{1,18}")  # ASCII digits only, within a 64-bit row id
_GRADES = {g.name.lower(): g for g in Grade}


@dataclass(frozen=True)
class _OnAsk:
    """An action on one ask, its id `verb:<ask-id>`."""

    verb: ClassVar[str]
    ask_id: int

    @property
    def id(self) -> str:
        return f"{self.verb}:{self.ask_id}"


class Reveal(_OnAsk):
    """Show the model answer."""

    verb = "reveal"


class Write(_OnAsk):
    """Open the form for a written answer."""

    verb = "write"


class Skip(_OnAsk):
    verb = "skip"


class FollowUp(_OnAsk):
    """Ask the follow-up card of a graded ask."""

    verb = "followup"


@dataclass(frozen=True)
class GradeAsk:
    ask_id: int
    grade: Grade

    @property
    def id(self) -> str:
        return f"grade:{self.ask_id}:{self.grade.name.lower()}"


@dataclass(frozen=True)
class Next:
    """The next question, from one deck or from all. `member_id`, the member who was studying, lets a
    click in a direct message go on in their workspace (`nextfor:<member>[:<deck>]`)."""

    deck: str | None = None
    member_id: int | None = None

    @property
    def id(self) -> str:
        if self.member_id is not None:
            return f"nextfor:{self.member_id}:{self.deck}" if self.deck else f"nextfor:{self.member_id}"
        return f"next:{self.deck}" if self.deck else "next"


@dataclass(frozen=True)
class DailyReveal:
    """A member's private answer to a question of the day: the id is the daily post's."""

    post_id: int

    @property
    def id(self) -> str:
        return f"daily:{self.post_id}"


@dataclass(frozen=True)
class StartReview:
    """A reminder's Start review: the member's next card, wherever the reminder reached them (a DM)."""

    member_id: int

    @property
    def id(self) -> str:
        return f"review:{self.member_id}"


@dataclass(frozen=True)
class StopReminders:
    """A reminder's Stop reminders: switches that member's reminders off."""

    member_id: int

    @property
    def id(self) -> str:
        return f"reminders-off:{self.member_id}"


@dataclass(frozen=True)
class StudyCard:
    """A digest's Study it: ask the clicker that card."""

    card_id: int

    @property
    def id(self) -> str:
        return f"study:{self.card_id}"


class AnswerForm(_OnAsk):
    """The form a written answer is typed into."""

    verb = "answer"


SUGGESTION_VERBS = ("approve", "edit", "reject")


@dataclass(frozen=True)
class OnSuggestion:
    """An admin's decision on a suggested card: approve (asks for the deck), edit, or reject."""

    suggestion_id: int
    verb: str

    @property
    def id(self) -> str:
        return f"sugg:{self.suggestion_id}:{self.verb}"


@dataclass(frozen=True)
class RemoveDeck:
    """The confirm button of `/deck remove`: the workspace deck's name (the workspace is the clicker's)."""

    name: str

    @property
    def id(self) -> str:
        return f"deckrm:{self.name}"


@dataclass(frozen=True)
class CardForm:
    """The "make a card" form: into a workspace deck by name, or (None) the deck is asked in the form."""

    deck: str | None = None

    @property
    def id(self) -> str:
        return f"card:{self.deck or ''}"


@dataclass(frozen=True)
class SuggestionForm:
    """An admin's approval (with the deck, maybe edited) of a suggested card."""

    suggestion_id: int

    @property
    def id(self) -> str:
        return f"suggform:{self.suggestion_id}"


ButtonId = (
    Reveal
    | Write
    | Skip
    | FollowUp
    | GradeAsk
    | Next
    | DailyReveal
    | OnSuggestion
    | RemoveDeck
    | StartReview
    | StopReminders
    | StudyCard
)
FormId = AnswerForm | CardForm | SuggestionForm

_BY_ASK: dict[str, type[Reveal | Write | Skip | FollowUp]] = {
    kind.verb: kind for kind in (Reveal, Write, Skip, FollowUp)
}


def _number(text: str) -> int | None:
    return int(text) if _NUMBER.fullmatch(text) else None


def decode_button(text: str) -> ButtonId | None:
    """The action a button id asks for, or None for an id this bot never built."""
    if len(text) > ID_LIMIT:
        return None
    verb, _, rest = text.partition(":")
    if verb == "next":
        return Next(rest or None)
    if verb == "deckrm":
        return RemoveDeck(rest) if is_deck_name(rest) else None
    first, _, extra = rest.partition(":")
    number = _number(first)
    if number is None:
        return None
    if verb == "nextfor":
        return Next(extra or None, number)
    if verb == "grade":
        grade = _GRADES.get(extra)
        return GradeAsk(number, grade) if grade is not None else None
    if verb == "sugg":
        return OnSuggestion(number, extra) if extra in SUGGESTION_VERBS else None
    if extra:
        return None
    if verb == "daily":
        return DailyReveal(number)
    if verb == "study":
        return StudyCard(number)
    if verb == "review":
        return StartReview(number)
    if verb == "reminders-off":
        return StopReminders(number)
    kind = _BY_ASK.get(verb)
    return kind(number) if kind is not None else None


def decode_form(text: str) -> FormId | None:
    """The form a submission answers, or None for one this bot never opened."""
    if len(text) > ID_LIMIT:
        return None
    verb, _, rest = text.partition(":")
    if verb == "card":
        return CardForm(rest) if is_deck_name(rest) else (CardForm() if not rest else None)
    number = _number(rest)
    if number is None:
        return None
    if verb == "suggform":
        return SuggestionForm(number)
    return AnswerForm(number) if verb == AnswerForm.verb else None


def needs_admin(action_or_form_id: str) -> bool:
    """Whether the core's answer to this button or form depends on the caller being an admin, so an
    adapter knows to look up the clicker's role (Caller.is_admin) before the one core call: reviewing
    suggestions, removing a deck, and a card form (an admin's card goes in, a member's to review)."""
    button = decode_button(action_or_form_id)
    if isinstance(button, OnSuggestion | RemoveDeck):
        return True
    return isinstance(decode_form(action_or_form_id), CardForm | SuggestionForm)
